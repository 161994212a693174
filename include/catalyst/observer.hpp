#ifndef CATALYST_OBSERVER_HPP
#define CATALYST_OBSERVER_HPP

// Per-attempt hooks for tracing and metrics (see docs/client.md, "Observability").

#include <catalyst/diagnostics.hpp>
#include <catalyst/export.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <string_view>

namespace catalyst {

/// Which connection an attempt used.
enum class connection_use {
    none,            ///< no connection was established (connect or DNS failed)
    new_connection,  ///< a new connection with a full TLS handshake
    new_resumed,     ///< a new connection whose TLS session was resumed
    reused,          ///< a keep-alive connection that had already served a request
};
CATALYST_DECL std::string_view to_string(connection_use u) noexcept;

/// An attempt leaves the queue for a connection.
struct attempt_start_event {
    /// 1 for the first attempt. A resend after a stale keep-alive connection repeats the
    /// number (it is not counted as an attempt, see `diagnostics::attempts`).
    unsigned attempt = 0;
    /// `new_connection` (a connection is opened for it; whether its TLS session is resumed
    /// is known at the end) or `reused`.
    connection_use connection = connection_use::none;
    /// From the call (or the end of the backoff) to now: the wait for a connection or pacing.
    std::chrono::microseconds queue_wait{0};
    std::string_view context;  ///< `request_options::observer_context`
};

/// An attempt ended: answered, failed, or handed back unsent.
struct attempt_end_event {
    unsigned attempt = 0;        ///< as in the start event
    connection_use connection = connection_use::none;
    unsigned http_status = 0;    ///< 0 when no answer was read
    /// What this attempt alone amounts to: success ({}), the code of its HTTP status, or of
    /// its I/O failure (`timeout`, `connect_failed`, `outcome_unknown`, ...), whether or not
    /// the call goes on.
    boost::system::error_code error;
    bool retried = false;        ///< another attempt follows
    retry_reason reason = retry_reason::none;  ///< why it is retried (or why a retry was considered)
    std::chrono::milliseconds backoff{0};      ///< the wait before the next attempt
    std::size_t bytes_sent = 0;      ///< request bytes written (0 when nothing was sent)
    std::size_t bytes_received = 0;  ///< response bytes read
    std::chrono::microseconds queue_wait{0};
    std::chrono::microseconds connect{0};            ///< DNS and TCP connect (new connections)
    std::chrono::microseconds tls_handshake{0};      ///< (new connections)
    std::chrono::microseconds time_to_first_byte{0}; ///< from the write to the first answer byte
    std::chrono::microseconds total{0};              ///< from the start event to now
    std::string_view request_id;  ///< the server's `X-Request-Id`, "" when none
    /// The TLS cipher suite of the connection used, as OpenSSL names it
    /// ("TLS_AES_128_GCM_SHA256"); "" when no TLS session was established. See
    /// `tls_params::tls13_ciphersuites`.
    std::string_view tls_cipher;
    std::string_view context;     ///< `request_options::observer_context`
};

/// What the adaptive rate controller decided (`rate_params`, mode adaptive; docs/client.md,
/// "Adaptive rate").
enum class rate_decision {
    increase,          ///< slow start doubled the rate (an answer came back at the current rate)
    decrease,          ///< a throttle (429, 503) cut the rate: to 0.7 x the measured send rate
    throttle_ignored,  ///< a throttle of a call sent before the last cut: no second cut (it may still pause)
    local_reject,      ///< client-side throttling refused a call without sending it
};
CATALYST_DECL std::string_view to_string(rate_decision d) noexcept;

/// One decision of the adaptive rate controller of an origin.
struct rate_decision_event {
    rate_decision decision = rate_decision::increase;
    double rate_before = 0;    ///< requests/s allowed before the decision
    double rate_after = 0;     ///< and after it
    double measured_rate = 0;  ///< requests/s actually sent (smoothed over 0.5 s buckets)
    /// A `Retry-After` on this throttle paused every call of the origin for this long from now
    /// (jitter included); 0 when it set no pause or a pause already ran longer.
    std::chrono::milliseconds pause{0};
    bool retry_after_capped = false;  ///< the `Retry-After` was above `rate_params::max_pause`
    double reject_probability = 0;    ///< local_reject: the probability it was drawn with
    std::size_t concurrency_cap = 0;  ///< calls on the wire allowed after the decision
};

/// Hooks called on each attempt's start and end, set in `client_params::observer`.
///
/// Every attempt that starts also ends, once, after its start, on the same thread, before the
/// call's handler runs (a call refused before the wire has no attempt). Called on the
/// client's threads (with `client_params::threads` > 1 or an executor run by several threads,
/// concurrently for different calls): keep it short and thread-safe. Whatever it throws is
/// caught and logged; the call goes on. The events never carry the API key, an idempotency
/// key, the per-call headers or lead data. When no observer is set the client does not
/// gather any of this (one branch per attempt).
class CATALYST_DECL client_observer {
public:
    virtual ~client_observer() = default;
    virtual void on_attempt_start(const attempt_start_event&) {}
    virtual void on_attempt_end(const attempt_end_event&) {}
    /// A decision of the adaptive rate controller (slow start steps, cuts, ignored throttles,
    /// local rejections); never called in fixed mode. Called on the client's threads, outside
    /// the controller's lock, in the order the decisions were taken for one thread; the rate's
    /// steady growth between two cuts is not an event (read it in `metrics_snapshot::rate_allowed`).
    virtual void on_rate_decision(const rate_decision_event&) {}
};

}  // namespace catalyst

#endif
