#include "client/retry_policy.hpp"

#include <algorithm>
#include <cmath>

namespace catalyst::detail {

using std::chrono::milliseconds;

errc status_to_errc(unsigned status, std::string_view api_code) noexcept {
    switch (status) {
    case 400: return errc::validation_failed;
    case 401: return errc::unauthorized;
    case 403: return errc::forbidden;
    case 404: return errc::not_found;
    case 409:
        // A twin request with the same key is still being processed: the session will
        // (probably) exist, but we never saw it.
        return api_code == "idempotency_request_in_progress" ? errc::outcome_unknown : errc::duplicate_lead;
    case 413: return errc::payload_too_large;
    case 415: return errc::unsupported_media_type;
    case 422: return errc::idempotency_conflict;
    case 429: return errc::rate_limited;
    default: break;
    }
    if (status >= 500 && status <= 599) return errc::server_error;
    return errc::unexpected_status;
}

bool is_retryable_status(unsigned status, std::string_view api_code) noexcept {
    switch (status) {
    case 429: case 500: case 502: case 503: case 504: return true;
    case 409: return api_code == "idempotency_request_in_progress";
    default: return false;
    }
}

bool is_unprocessed_status(unsigned status) noexcept { return status == 429 || status == 503; }

milliseconds full_jitter_backoff(const retry_params& p, unsigned retry_number, double uniform01) noexcept {
    if (retry_number == 0) retry_number = 1;
    const double base = static_cast<double>(p.base_backoff.count());
    const double cap = static_cast<double>(p.max_backoff.count());
    // 2^62 ms is beyond any cap: stop doubling early instead of overflowing.
    const double exp = base * std::ldexp(1.0, static_cast<int>(std::min(retry_number - 1, 62u)));
    const double ceiling = std::max(0.0, std::min(cap, exp));
    const double u = std::clamp(uniform01, 0.0, 1.0);
    return milliseconds(static_cast<long long>(std::floor(ceiling * u)));
}

bool retry_budget_allows(const retry_params& p, std::uint64_t requests_active, std::uint64_t retries_active) noexcept {
    if (p.budget_ratio <= 0) return true;
    const double allowed = p.budget_ratio * static_cast<double>(requests_active) + p.budget_min_concurrency;
    return static_cast<double>(retries_active) < allowed;
}

namespace {

retry_decision fail(errc e, retry_reason r = retry_reason::none, std::string_view why = {}) {
    retry_decision d;
    d.action = next_action::fail;
    d.error = e;
    d.reason = r;
    d.no_retry_reason = why;
    return d;
}

// Common gate for every retry: attempts, budget, deadline. `final_error` is what the request
// ends with when the gate refuses.
retry_decision gated_retry(const retry_state& s, const retry_params& p, double u, errc final_error,
                           retry_reason reason, std::optional<milliseconds> retry_after) {
    if (s.attempts >= p.max_attempts) return fail(final_error, reason, "max attempts reached");
    if (!s.budget_allows) return fail(final_error, reason, "retry budget exhausted");
    milliseconds wait = full_jitter_backoff(p, s.attempts, u);
    if (retry_after) {
        if (*retry_after > p.max_retry_after) return fail(final_error, reason, "Retry-After beyond max_retry_after");
        wait = *retry_after;
    }
    if (s.remaining && wait >= *s.remaining) return fail(final_error, reason, "overall deadline too close");
    retry_decision d;
    d.action = next_action::retry;
    d.error = final_error;
    d.reason = reason;
    d.wait = wait;
    return d;
}

}  // namespace

retry_decision decide(const attempt_outcome& o, const retry_state& s, const retry_params& p, double u) {
    switch (o.result) {
    case attempt_result::response: {
        if (o.status == 200 || o.status == 201) {
            retry_decision d;
            d.action = next_action::succeed;
            return d;
        }
        const errc e = status_to_errc(o.status, o.api_code);
        if (!is_retryable_status(o.status, o.api_code))
            return fail(e, retry_reason::none, o.status >= 400 && o.status < 500 ? "client error is final"
                                                                                  : "status is not retryable");
        const auto reason = o.status == 429 ? retry_reason::rate_limited : retry_reason::server_error;
        if (!s.key_makes_retry_safe && !is_unprocessed_status(o.status))
            return fail(errc::outcome_unknown, reason,
                        "HTTP 500/502/504 without an idempotency key: the session may exist, not safe to retry");
        return gated_retry(s, p, u, e, reason, o.retry_after);
    }
    case attempt_result::connect_failed:
        return gated_retry(s, p, u, errc::connect_failed, retry_reason::connect_failed, std::nullopt);
    case attempt_result::tls_handshake_failed:
        return gated_retry(s, p, u, errc::tls_failed, retry_reason::connect_failed, std::nullopt);
    case attempt_result::tls_rejected:
        return fail(errc::tls_failed, retry_reason::none, "TLS verification failures are never retried");
    case attempt_result::stale_connection: {
        if (s.stale_retries >= max_stale_retries)
            return gated_retry(s, p, u, errc::outcome_unknown, retry_reason::stale_connection, std::nullopt);
        retry_decision d;
        d.action = next_action::retry_now;
        d.error = errc::outcome_unknown;
        d.reason = retry_reason::stale_connection;
        return d;
    }
    case attempt_result::ambiguous:
    case attempt_result::answer_cut_short:
    case attempt_result::attempt_timeout: {
        const bool timeout = o.result == attempt_result::attempt_timeout;
        const errc e = timeout ? errc::timeout : errc::outcome_unknown;
        const auto reason = timeout ? retry_reason::attempt_timeout : retry_reason::ambiguous_failure;
        if (!s.key_makes_retry_safe)
            return fail(errc::outcome_unknown, reason,
                        o.result == attempt_result::answer_cut_short
                            ? "answer cut short, sent without an idempotency key: the session may exist, not safe to retry"
                            : "sent without an idempotency key: the session may exist, not safe to retry");
        auto d = gated_retry(s, p, u, e, reason, std::nullopt);
        return d;
    }
    case attempt_result::overall_timeout:
        return fail(errc::timeout, retry_reason::none, "overall deadline passed");
    case attempt_result::protocol_error:
        return fail(errc::protocol_error, retry_reason::none, "malformed answer is final");
    case attempt_result::cancelled:
        return fail(errc::cancelled, retry_reason::none, "cancelled by the caller");
    }
    return fail(errc::unexpected_status);
}

}  // namespace catalyst::detail
