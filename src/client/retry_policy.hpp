#ifndef CATALYST_SRC_CLIENT_RETRY_POLICY_HPP
#define CATALYST_SRC_CLIENT_RETRY_POLICY_HPP

// The retry decision, as pure functions: no sockets, no clocks, the RNG injected.

#include <catalyst/client_params.hpp>
#include <catalyst/diagnostics.hpp>
#include <catalyst/error.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

namespace catalyst::detail {

/// How one attempt ended, as the I/O driver saw it.
enum class attempt_result {
    response,          ///< a complete HTTP response was read (see `status`)
    connect_failed,    ///< DNS/TCP connect failed or timed out: nothing was sent
    tls_handshake_failed,  ///< the handshake failed on the way (a fatal alert, reset, EOF, timeout): nothing was sent
    tls_rejected,      ///< the certificate or host name failed verification (or could not be set): never retried
    stale_connection,  ///< reused connection: write failed or EOF/reset before any response byte
    ambiguous,         ///< sent, then reset/EOF before any byte of the answer
    answer_cut_short,  ///< sent, part of the answer read, then EOF/reset: the session may exist
    attempt_timeout,   ///< a deadline (the attempt's or the call's) passed after sending
    overall_timeout,   ///< the overall deadline passed before anything was sent
    protocol_error,    ///< the answer was malformed, truncated or oversized
    cancelled,         ///< the caller cancelled
};

struct attempt_outcome {
    attempt_result result = attempt_result::response;
    unsigned status = 0;                              ///< for `response`
    std::optional<std::chrono::milliseconds> retry_after;  ///< parsed Retry-After, if any
    std::string_view api_code;                        ///< the body's `code`, if any
};

/// What the driver knows when it asks for a decision.
struct retry_state {
    unsigned attempts = 0;          ///< attempts made so far, the one just ended included
    unsigned stale_retries = 0;     ///< transparent stale-connection retries so far
    /// An idempotency key is sent on every attempt and the policy lets ambiguous failures be
    /// retried with it (the one name for this, from the call to the connection).
    bool key_makes_retry_safe = false;
    std::optional<std::chrono::milliseconds> remaining;  ///< until the overall deadline; nullopt = none
    bool budget_allows = true;      ///< the retry budget has room
};

enum class next_action {
    succeed,     ///< 200/201: decode the session
    retry,       ///< wait `wait`, then send again (same key)
    retry_now,   ///< send again at once on another connection, not counted as a failure
    fail,        ///< complete with `error`
};

struct retry_decision {
    next_action action = next_action::fail;
    errc error = errc::unexpected_status;
    retry_reason reason = retry_reason::none;
    std::chrono::milliseconds wait{0};
    std::string_view no_retry_reason;  ///< set when action == fail and a retry was considered
};

/// At most this many transparent stale-connection retries per request.
inline constexpr unsigned max_stale_retries = 3;

/// The errc of a final HTTP status (also for 429/5xx once retries are exhausted).
errc status_to_errc(unsigned status, std::string_view api_code = {}) noexcept;

/// Is this status retried (429, 500, 502, 503, 504, or 409 idempotency_request_in_progress)?
/// With an idempotency key; see `is_unprocessed_status` for the ones retried without.
bool is_retryable_status(unsigned status, std::string_view api_code) noexcept;

/// Does this status say the request was not processed (429, 503)? Only these are retried
/// when no idempotency key is sent: a 500, 502 or 504 may come after the session was
/// created (a gateway's "processed, answer lost").
bool is_unprocessed_status(unsigned status) noexcept;

/// Uniform random number in [0, 1), injected for tests.
using uniform_fn = std::function<double()>;

/// Full-jitter exponential backoff before retry `retry_number` (1, 2, ...):
/// uniform in [0, min(max_backoff, base_backoff * 2^(retry_number-1))].
std::chrono::milliseconds full_jitter_backoff(const retry_params& p, unsigned retry_number, double uniform01) noexcept;

/// Envoy-style budget: may one more retry start while `retries_active` retries and
/// `requests_active` requests are in flight?
bool retry_budget_allows(const retry_params& p, std::uint64_t requests_active, std::uint64_t retries_active) noexcept;

/// The decision after one attempt. `uniform01` draws the jitter.
retry_decision decide(const attempt_outcome& o, const retry_state& s, const retry_params& p, double uniform01);

}  // namespace catalyst::detail

#endif
