#ifndef CATALYST_SRC_CLIENT_RATE_CONTROLLER_HPP
#define CATALYST_SRC_CLIENT_RATE_CONTROLLER_HPP

// The adaptive send rate of one origin (`rate_params`, mode adaptive): how fast a client may
// send to an API whose limit it does not know. Pure: no clock, no socket, no thread; every
// input carries the time, randomness comes in as a number in [0, 1). Not thread-safe: one
// instance per origin per client, behind the caller's lock. docs/client.md, "Adaptive rate",
// explains the algorithm and its constants.
//
// The caller's part: before an attempt, `try_acquire` (send, wait until `next_slot`, or
// refused locally) while fewer than `concurrency_cap()` attempts are on the wire; after it,
// `on_accepted` for any answer but a throttle, `on_throttled` for a 429 or 503 (with its
// Retry-After), nothing for an attempt that got no answer.

#include "core/token_bucket.hpp"

#include <catalyst/client_params.hpp>
#include <catalyst/metrics.hpp>
#include <catalyst/observer.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace catalyst::detail {

class rate_controller {
  public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;

    enum class phase {
        slow_start,  ///< doubling until the API first throttles
        cubic,       ///< cut on throttles, regrowth along the cubic curve
    };

    enum class verdict {
        send,    ///< a slot is taken: send now
        wait,    ///< no slot before `next_slot(now)` (the rate, or a Retry-After pause)
        reject,  ///< client-side throttling refused the call (a slot is used up, nothing sent)
    };

    struct acquire_result {
        verdict what = verdict::wait;
        std::optional<rate_decision_event> event;  ///< set for `reject`
    };

    struct counters {
        std::uint64_t sent = 0;                ///< slots taken for a send
        std::uint64_t waits = 0;               ///< try_acquire answered `wait`
        std::uint64_t increases = 0;           ///< slow start doublings
        std::uint64_t throttles = 0;           ///< on_throttled calls
        std::uint64_t decreases = 0;           ///< throttles that cut the rate
        std::uint64_t ignored_throttles = 0;   ///< of calls sent before the last cut
        std::uint64_t pauses = 0;              ///< Retry-After pauses begun or lengthened
        std::uint64_t capped_retry_after = 0;  ///< Retry-After values above max_pause
        std::uint64_t local_rejects = 0;
    };

    /// `p.mode` is not looked at: the caller builds a controller for adaptive mode only.
    /// `p` is assumed checked (`check(client_params)`).
    rate_controller(const rate_params& p, time_point now);

    /// A call asks to go out at `now`; `u` in [0, 1) decides a local rejection. `jitter` in
    /// [0, 1) delays the slot after this one by up to one interval of the rate (its mean
    /// rate unchanged): see rate_controller.cpp, "jitter".
    acquire_result try_acquire(time_point now, double u, double jitter = 0);

    /// The earliest time a slot may be free: `now` when one is, the end of a Retry-After pause
    /// when one runs. The rate may still grow before then; ask again at that time.
    time_point next_slot(time_point now) const noexcept;

    /// An answer that is not a throttle (any status but 429 and 503) to a call sent at `sent`.
    /// Returns the slow start's doubling, when this answer made one.
    std::optional<rate_decision_event> on_accepted(time_point sent, time_point now);

    /// An attempt that took a slot and ended without an answer (no connection, a timeout, a
    /// broken connection): for client-side throttling, a request the API did not accept.
    void on_unanswered(time_point now);

    /// A 429 or 503 to a call sent at `sent`, with its Retry-After when it had one;
    /// `u` in [0, 1) draws the pause's jitter.
    rate_decision_event on_throttled(time_point sent, time_point now,
                                     std::optional<std::chrono::milliseconds> retry_after,
                                     double u);

    double allowed_rate() const noexcept { return rate_; }  ///< requests/s, as of the last call
    double measured_rate() const noexcept { return measured_; }
    time_point pause_end() const noexcept { return pause_end_; }  ///< in the past when none runs
    phase current_phase() const noexcept { return phase_; }
    /// Attempts that may be on the wire at once: allowed rate x recent p99 latency x 1.5
    /// (Little's law with a margin), at least 4.
    std::size_t concurrency_cap() const noexcept;
    /// The probability a call is refused locally now (0 when local throttling is off).
    double reject_probability() const noexcept;
    const counters& counts() const noexcept { return counts_; }

    /// Writes the rate gauges and counters into `m` (rate_allowed, rate_pause_seconds,
    /// rate_waits, rate_local_rejects).
    void fill(metrics_snapshot& m, time_point now) const noexcept;

  private:
    // p99 of answer latencies over the last 10 to 20 s: two slices of log-scale buckets
    // (100 us to 100 s, 19 % apart), fixed memory, read in one pass.
    class latency_window {
      public:
        void add(double seconds, time_point now);
        double p99() const noexcept {
            return p99_;
        }  ///< seconds; the last known one when the window is empty

      private:
        static constexpr std::size_t buckets = 81;
        std::array<std::array<std::uint32_t, buckets>, 2> slices_{};
        std::array<std::uint64_t, 2> counts_{};
        std::size_t current_ = 0;
        time_point slice_start_{};
        bool started_ = false;
        double p99_ = 0;
    };

    // Requests and accepts over the local-throttling window, in 12 buckets.
    class accept_window {
      public:
        accept_window(clock::duration window, time_point now);
        void rotate(time_point now);  ///< forgets the buckets older than the window
        void request();
        void accept();
        std::uint64_t requests() const noexcept { return requests_; }
        std::uint64_t accepts() const noexcept { return accepts_; }

      private:
        static constexpr std::size_t buckets = 12;
        clock::duration bucket_;
        std::array<std::uint64_t, buckets> req_{}, acc_{};
        std::uint64_t requests_ = 0, accepts_ = 0;
        std::size_t current_ = 0;
        time_point start_;
    };

    time_point advance(time_point now);
    void set_rate(double r, time_point now);
    double clamp(double r) const noexcept;
    double cubic_rate(time_point now) const;
    double equal_climb(double since_cut) const noexcept;  ///< see additive_climb
    time_point active(
        time_point now) const noexcept;  ///< `now` with the Retry-After pauses taken out
    /// The rate to `level` (at most W_max), the curve begun again from `now` (one decrease
    /// counted).
    void cut(double level, time_point now);
    void meter_send(time_point now);
    rate_decision_event event(rate_decision d, double before) const;

    double min_rate_;
    double max_rate_;  // +inf when unbounded
    std::chrono::milliseconds max_pause_;
    bool local_throttling_;

    phase phase_ = phase::slow_start;
    double rate_;
    time_point last_now_;

    // The send slots: refilled at `rate_`, 50 ms of it deep (at least one call). Nothing is
    // earned while a Retry-After pause lasts; one slot when it ends.
    detail::token_bucket slots_;

    // Slow start: the current step began at `step_start_` (at `rate_`), the one before ran at
    // `step_rate_before_`; `step_sends_` slots were taken since.
    time_point step_start_;
    double step_rate_before_;
    std::uint64_t step_sends_ = 0;

    // The cubic curve since the last cut: rate(t) = C (t - K)^3 + w_max.
    double w_max_ = 0;
    double k_ = 0;
    time_point last_decrease_{};
    time_point decrease_active_{};  ///< last_decrease_ in active time
    bool decreased_ = false;
    bool last_cut_paused_ =
        false;  ///< the last cut paused the origin (its late throttles may lengthen it)
    unsigned cuts_in_a_row_ = 0;  ///< cuts each within the repeat window of the one before
    bool climbs_additively_ =
        false;  ///< the last cut came within competitor_memory of a sign of another client
    double cut_depth_ = 0;       ///< the last cut left the rate at this x w_max_ (see first_cut)
    double cut_base_ = 0;        ///< the rate the last cut (not a completion) cut from
    double throttle_share_ = 0;  ///< throttles per answer, a moving average (see lasting_first)
    bool accepted_since_cut_ = false;  ///< an answer other than a throttle came since the last cut
    bool cut_completes_ = false;       ///< the last cut was a first stage: a throttle before
                                       ///< last_decrease_ + second_throttle_window completes it
    time_point competitor_seen_{};     ///< the last sign of another client sharing the limit (see
                                       ///< additive_climb)
    double slot_need_ = 1;             ///< tokens the next slot waits for (1 + the jitter drawn)

    // The measured send rate (AWS's RateClocker): sends per 0.5 s bucket, smoothed. Its time
    // is active time: Retry-After pauses, when nothing may be sent by design, do not count.
    double measured_ = 0;
    time_point meter_bucket_start_;
    std::uint64_t meter_count_ = 0;

    bool last_answer_accepted_ = false;  ///< the last answer was an acceptance (not a throttle)
    time_point last_sent_{};             ///< the last slot that went out (local throttling's probe)

    time_point pause_end_{};
    time_point pause_start_{};
    bool paused_ = false;
    clock::duration paused_total_{0};

    latency_window latency_;
    accept_window accepts_;
    counters counts_;
};

}  // namespace catalyst::detail

#endif
