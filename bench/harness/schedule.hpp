#ifndef CATALYST_BENCH_SCHEDULE_HPP
#define CATALYST_BENCH_SCHEDULE_HPP

#include <chrono>
#include <cstdint>

namespace catalyst::bench {

using nanos = std::chrono::nanoseconds;

/// The open-loop plan: request i is meant to leave at `i * period` after the start,
/// whatever happened to the requests before it. Latency is measured from that intended time,
/// so a stall (of the client, the server or the harness) shows in the latency of every
/// request it delayed instead of silently lowering the send rate (coordinated omission).
///
/// Pure arithmetic on durations since the start: no clock, no I/O.
class open_loop_schedule {
public:
    /// `rate` requests per second (> 0); `limit` requests in all (0 = no limit).
    explicit open_loop_schedule(double rate, std::uint64_t limit = 0);

    /// When request `i` is meant to leave, from the start.
    nanos intended(std::uint64_t i) const noexcept;
    /// How many requests are due by `elapsed` (those with intended time <= elapsed), capped
    /// by the limit.
    std::uint64_t due_by(nanos elapsed) const noexcept;
    /// How many requests are due by the end of a run of `duration` (the last one strictly before it).
    std::uint64_t due_before(nanos duration) const noexcept;
    std::uint64_t limit() const noexcept { return limit_; }
    double rate() const noexcept { return rate_; }

private:
    double rate_;
    double period_ns_;
    std::uint64_t limit_;
};

/// The closed-loop stop rule: keep `concurrency` requests in flight until either `sessions`
/// have been started (0 = no count) or `duration` has passed (0 = no time limit).
struct closed_loop_plan {
    std::uint64_t sessions = 0;
    nanos duration{0};
    /// May another request start, `started` having started and `elapsed` having passed?
    bool may_start(std::uint64_t started, nanos elapsed) const noexcept {
        if (sessions != 0 && started >= sessions) return false;
        if (duration.count() != 0 && elapsed >= duration) return false;
        return true;
    }
};

}  // namespace catalyst::bench

#endif
