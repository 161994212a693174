#ifndef CATALYST_DIAGNOSTICS_HPP
#define CATALYST_DIAGNOSTICS_HPP

#include <catalyst/export.hpp>
#include <catalyst/field_error.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace catalyst {

/// Why one attempt was retried, or why the last one was not.
enum class retry_reason {
    none,               ///< no retry decision was needed (success or first-attempt answer)
    rate_limited,       ///< 429
    server_error,       ///< 500/502/503/504
    connect_failed,     ///< the request never left: connect failed
    tls_failed_handshake, ///< reserved: a failed handshake is retried as `connect_failed` (nothing was sent); verification failures never are
    stale_connection,   ///< a reused keep-alive connection was already closed by the server
    ambiguous_failure,  ///< sent, no answer; retried because an idempotency key makes it safe
    attempt_timeout,    ///< the attempt's own deadline passed (ambiguous, same rule as above)
};
CATALYST_DECL std::string_view to_string(retry_reason r) noexcept;

/// One attempt's record.
struct attempt_record {
    unsigned http_status = 0;          ///< 0 when no answer was read
    std::string error;                 ///< what went wrong, "" when answered
    retry_reason reason = retry_reason::none;  ///< why it was (or would have been) retried
    std::chrono::milliseconds backoff{0};      ///< the wait before the next attempt
};

/// Everything known about a failed (or retried) request beyond its error_code.
/// Contains no API key, no idempotency key and no lead personal field: safe to log.
struct CATALYST_DECL diagnostics {
    unsigned http_status = 0;        ///< last HTTP status, 0 when none was read
    std::string detail;              ///< the API's `detail`, or our own explanation
    std::string api_code;            ///< the API's `code` ("duplicate_lead"), when given
    field_errors fields;             ///< 400 field errors, or client-side validation errors
    unsigned attempts = 0;           ///< attempts made (0: refused before the wire)
    std::chrono::milliseconds elapsed{0};  ///< from the call to its completion
    std::string body_excerpt;        ///< at most 256 bytes of an unexpected body, redacted
    std::string request_id;          ///< server `X-Request-Id` when present
    std::string no_retry_reason;     ///< why the last failure was not retried
    std::vector<attempt_record> history;  ///< one per attempt, in order

    void clear() { *this = diagnostics{}; }
    /// One line for people: "HTTP 409 duplicate_lead: ... (2 attempts, 31 ms)".
    std::string to_string() const;
};

/// At most `limit` bytes of `body`, cut on a UTF-8 boundary, control characters replaced,
/// anything that looks like a bearer key ("rk_...") masked.
CATALYST_DECL std::string bounded_excerpt(std::string_view body, std::size_t limit = 256);

}  // namespace catalyst

#endif
