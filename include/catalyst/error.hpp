#ifndef CATALYST_ERROR_HPP
#define CATALYST_ERROR_HPP

#include <catalyst/export.hpp>

#include <boost/system/error_category.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/error_condition.hpp>

#include <string_view>
#include <type_traits>

namespace catalyst {

/// Why a session was not created. Values are stable (they appear in the batch tool's output
/// and in metrics by name, see `to_string`). Where a generic condition fits, the code
/// compares equal to it: `ec == std::errc::timed_out` holds for `errc::timeout`.
enum class errc {
    validation_failed = 1,  ///< the request broke a contract rule (client side, or HTTP 400)
    unauthorized,           ///< HTTP 401: bad or missing API key
    forbidden,              ///< HTTP 403
    not_found,              ///< HTTP 404: unknown campaign or gateway
    duplicate_lead,         ///< HTTP 409: the campaign rejects a lead it already has
    idempotency_conflict,   ///< HTTP 422: the idempotency key was used with another body
    payload_too_large,      ///< HTTP 413
    unsupported_media_type, ///< HTTP 415
    rate_limited,           ///< HTTP 429, retries exhausted
    server_error,           ///< HTTP 5xx, retries exhausted
    unexpected_status,      ///< any other HTTP status
    timeout,                ///< a deadline passed (attempt or overall) before an answer
    connect_failed,         ///< DNS or TCP connect failed on every address
    tls_failed,             ///< certificate or host-name verification failed (never retried), or the TLS handshake failed on every attempt
    protocol_error,         ///< malformed, truncated, oversized or non-JSON response
    outcome_unknown,        ///< sent, no answer, not safe to retry: the session may exist
    cancelled,              ///< the caller cancelled
    queue_full,             ///< backpressure: the wait queue is at its bound
    shutting_down,          ///< the client is stopping and takes no more work
    invalid_config,         ///< client_params refused
};

/// Stable snake_case name of a code ("duplicate_lead").
CATALYST_DECL std::string_view to_string(errc e) noexcept;

/// The category of `catalyst::errc` ("catalyst").
CATALYST_DECL const boost::system::error_category& catalyst_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), catalyst_category()};
}

/// True for the codes a retry may fix (rate_limited, server_error, timeout, connect_failed).
/// Used in reports, not by the retry logic, which decides per attempt.
CATALYST_DECL bool is_transient(errc e) noexcept;

}  // namespace catalyst

namespace boost::system {
template <>
struct is_error_code_enum<catalyst::errc> : std::true_type {};
}  // namespace boost::system

#endif
