#ifndef CATALYST_SRC_CLIENT_CALL_FSM_HPP
#define CATALYST_SRC_CLIENT_CALL_FSM_HPP

// The life of one call as a state machine without I/O or clocks: every input carries `now`,
// every output says what the shard must do next. The shard (shard.cpp) only carries the
// actions out: lists, timers, connections, the completion.
//
//   queued ──dispatch──> dispatched ──wire──> on_wire ──attempt_ended──> done
//     ^  ^                   │                   │                    \─> backing_off ──timer──> queued
//     │  └─────requeue───────┘                   └──retry_now (stale connection)──> queued
//     └ submit
//
// Two rules carry the guarantees:
// - a cancel or a stop that cannot end the call at once (its connection holds it) is kept
//   (`ending`) and ends it at the next input, whatever that is: a requeue, an attempt's end,
//   or the connection asking whether it may write. A cancelled call never reaches the wire
//   after its cancel.
// - nothing is sent after the overall deadline: `dispatch`, `requeue` and `timer` check it.

#include "client/retry_policy.hpp"

#include <boost/asio/cancellation_type.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace catalyst::detail {

enum class call_phase : std::uint8_t {
    idle,         ///< not yet submitted
    queued,       ///< in the wait queue
    dispatched,   ///< held by a connection that has not written it (connecting, handshaking)
    on_wire,      ///< its request is being written or its answer read
    backing_off,  ///< waiting before the next attempt
    done,         ///< completed
};

std::string_view phase_name(call_phase p) noexcept;

/// What the shard does next with a call.
enum class call_step : std::uint8_t {
    none,      ///< nothing: wait for the next input
    enqueue,   ///< into the wait queue (at the front when `front`), timer at `at`
    send,      ///< hand it to a connection
    back_off,  ///< wait until `at`, then `timer()`
    abort,     ///< tell its connection to end the exchange; the connection then reports
    complete,  ///< complete with `error` (errc{} = success)
};

struct call_action {
    call_step step = call_step::none;
    bool front = false;   ///< enqueue: at the front (the call was already on its way)
    errc error{};         ///< complete: the result; abort: why
    std::chrono::steady_clock::time_point at{};  ///< enqueue: the deadline (max = none); back_off: until
    /// A retry: its reason (retry_now, back_off); a completion with an error: the reason of
    /// the last retry considered, if any.
    retry_reason reason = retry_reason::none;
    bool retry = false;   ///< the action starts a retry (counted in metrics)
    /// complete with an error: why the call was not (or no longer) retried.
    std::string_view why;
};

/// The state of one call and its transitions.
class call_fsm {
public:
    using time_point = std::chrono::steady_clock::time_point;

    /// A new call: its overall deadline (max = none), its retry settings, and whether an
    /// idempotency key makes a retry after an ambiguous failure safe. `rate_paced`: an
    /// adaptive rate decides when calls go (`rate_params`, adaptive): a throttle (429, 503)
    /// then sends the call back to the queue, where the rate holds it, and costs no attempt
    /// (the rate's probing found the limit, the call did nothing wrong); its overall deadline
    /// still bounds it (without one, throttles count as attempts).
    void reset(time_point deadline, const retry_params* retry, bool key_makes_retry_safe,
               bool rate_paced = false) noexcept;

    /// The shard took the call. `accepting`: the client is not shutting down.
    call_action submit(bool accepting) noexcept;
    /// The wait queue was full: the call leaves it.
    call_action overflow() noexcept;
    /// The call leaves the queue refused (client-side throttling) with `e`.
    call_action refuse(errc e, std::string_view why) noexcept;
    /// The shard took the call off the wait queue for a connection.
    call_action dispatch(time_point now) noexcept;
    /// Its connection is about to write the request: false when the call must not be sent
    /// (a cancel or a stop came); the connection then ends the attempt unsent.
    bool wire() noexcept;
    /// Its connection cannot use it after all (stale, too old, asked to close) and nothing
    /// of this attempt was written.
    call_action requeue(time_point now) noexcept;
    /// An attempt ended. `budget_allows`: the retry budget has room; `uniform01` draws the
    /// jitter.
    call_action attempt_ended(const attempt_outcome& o, time_point now, bool budget_allows, double uniform01) noexcept;
    /// The caller's cancellation slot fired.
    call_action cancel(boost::asio::cancellation_type_t type) noexcept;
    /// The client stops (hard stop, or the shutdown grace is over).
    call_action stop() noexcept;
    /// Its timer fired: the queue deadline, or the end of a backoff.
    call_action timer(time_point now) noexcept;

    call_phase phase() const noexcept { return phase_; }
    /// When the shard must call `timer()`: the deadline while queued, the end of the backoff
    /// while backing off; max otherwise.
    time_point wake_at() const noexcept;
    time_point deadline() const noexcept { return deadline_; }
    unsigned attempts() const noexcept { return attempts_; }
    unsigned stale_retries() const noexcept { return stale_retries_; }
    /// Some attempt reached the wire.
    bool sent() const noexcept { return sent_; }
    bool key_makes_retry_safe() const noexcept { return key_safe_; }
    /// A cancel or a stop is waiting for the connection to let go of the call.
    std::optional<errc> ending() const noexcept { return ending_; }

private:
    call_action complete(errc e, std::string_view why = {}, retry_reason r = retry_reason::none) noexcept;
    call_action enqueue(bool front) noexcept;
    /// The call's ending (cancel or stop), if one is pending.
    call_action end_pending() noexcept;
    /// A cancel or a stop (`why`): at once when the call waits, through its connection when
    /// one holds it.
    call_action end(errc why) noexcept;

    call_phase phase_ = call_phase::idle;
    time_point deadline_ = time_point::max();
    time_point backoff_until_{};
    const retry_params* retry_ = nullptr;
    unsigned attempts_ = 0;
    unsigned stale_retries_ = 0;
    bool sent_ = false;
    bool key_safe_ = false;
    bool rate_paced_ = false;
    std::optional<errc> ending_;
};

}  // namespace catalyst::detail

#endif
