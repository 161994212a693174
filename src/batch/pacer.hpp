#ifndef CATALYST_BATCH_PACER_HPP
#define CATALYST_BATCH_PACER_HPP

#include "core/token_bucket.hpp"

#include <algorithm>
#include <chrono>

namespace catalyst::batch {

/// `--rate N/s`: decides when the next line may start, over the shared token bucket. Pure:
/// the caller passes the time, so tests need no clock.
class pacer {
public:
    using clock = std::chrono::steady_clock;

    /// rate 0 = unpaced. `burst` tokens at most (at least 1); full from the start.
    explicit pacer(double rate_per_second = 0, double burst = 1)
        : bucket_(rate_per_second, std::max(1.0, burst), clock::time_point{}) {}

    /// Takes a token and returns zero when one is available at `now`; otherwise takes
    /// nothing and returns how long until one is.
    clock::duration try_acquire(clock::time_point now) {
        if (bucket_.try_take(now)) return clock::duration::zero();
        return std::chrono::duration_cast<clock::duration>(bucket_.wait(now));
    }

    bool enabled() const noexcept { return bucket_.enabled(); }

private:
    detail::token_bucket bucket_;
};

}  // namespace catalyst::batch

#endif
