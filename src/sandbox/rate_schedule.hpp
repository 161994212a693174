#ifndef CATALYST_SRC_SANDBOX_RATE_SCHEDULE_HPP
#define CATALYST_SRC_SANDBOX_RATE_SCHEDULE_HPP

// The sandbox's global rate limit (`rate_limit_schedule`): one token bucket over every key
// and client, whose rate follows a schedule of steps, with per-second counts of what it
// accepted and throttled. Pure: the time is passed in.

#include <catalyst/sandbox.hpp>

#include "core/token_bucket.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace catalyst::sandbox_detail {

/// A rate as people write it, for the schedule's text and the stats: 400, 2.5, 0.1.
std::string format_rate(double rate);

class global_rate_limiter {
public:
    using time_point = std::chrono::steady_clock::time_point;
    /// How many seconds of counts are kept (GET /sandbox/stats).
    static constexpr std::size_t ring_seconds = 600;

    /// The bucket's capacity at `rate`: rate/20 (50 ms of traffic), at least 1. Small, so
    /// that what passes in any second stays close to the limit; not below 1, so that a
    /// client sending at the limit is not throttled by its own timer's jitter.
    static double burst_for(double rate) noexcept;

    /// (Re)starts `schedule` at `now` with a full bucket and zeroed counts; empty: off.
    void start(std::vector<sandbox_rate_step> schedule, time_point now);
    /// Starts the current schedule again at `now`.
    void restart(time_point now);
    /// One branch on the hot path when off.
    bool enabled() const noexcept { return on_.load(std::memory_order_relaxed); }
    /// Takes a token for one request at `now`: 0 when it may pass, else the seconds until
    /// the next token (rounded up, at least 1: the Retry-After).
    unsigned admit(time_point now);
    /// The counts, the last `ring_seconds` seconds oldest first (the current one included).
    sandbox_global_limit_stats snapshot(time_point now);
    /// Zeroes the counts; the schedule runs on.
    void zero();

private:
    struct second_counts {
        std::uint64_t second = UINT64_MAX;  ///< since start_; UINT64_MAX = unused
        double limit = 0;
        std::uint64_t accepted = 0, throttled = 0;
    };
    /// Moves to the step in force at `now`, the bucket's rate changing at each boundary.
    void advance(time_point now);
    /// The rate in force `offset` after the start.
    double rate_at(std::chrono::nanoseconds offset) const;
    std::uint64_t second_of(time_point now) const;

    std::mutex m_;
    std::atomic<bool> on_{false};
    std::vector<sandbox_rate_step> steps_;
    time_point start_{};
    std::size_t step_ = 0;
    time_point step_end_{};  ///< when step_ ends; time_point::max() for the last
    detail::token_bucket bucket_{0, 0, time_point{}};
    std::array<second_counts, ring_seconds> ring_{};
    std::uint64_t accepted_ = 0, throttled_ = 0;
};

}  // namespace catalyst::sandbox_detail

#endif
