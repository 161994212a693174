#include "schedule.hpp"

#include <cmath>

namespace catalyst::bench {

open_loop_schedule::open_loop_schedule(double rate, std::uint64_t limit)
    : rate_(rate > 0 ? rate : 1), period_ns_(1e9 / rate_), limit_(limit) {}

nanos open_loop_schedule::intended(std::uint64_t i) const noexcept {
    // computed from i, not accumulated, so that rounding never drifts over a long run
    return nanos(static_cast<std::int64_t>(std::llround(static_cast<double>(i) * period_ns_)));
}

std::uint64_t open_loop_schedule::due_by(nanos elapsed) const noexcept {
    if (elapsed.count() < 0) return 0;
    auto n = static_cast<std::uint64_t>(std::floor(static_cast<double>(elapsed.count()) / period_ns_)) + 1;
    // the floating-point division may land one off at an exact boundary: settle on intended()
    while (n > 0 && intended(n - 1) > elapsed) --n;
    while (intended(n) <= elapsed) ++n;
    return limit_ != 0 && n > limit_ ? limit_ : n;
}

std::uint64_t open_loop_schedule::due_before(nanos duration) const noexcept {
    if (duration.count() <= 0) return 0;
    return due_by(duration - nanos(1));
}

}  // namespace catalyst::bench
