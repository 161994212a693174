#include "client/token_bucket.hpp"

#include <algorithm>
#include <cmath>

namespace catalyst::detail {

// Refills are computed in floating point: 10 ms at 100/s must make a whole token.
constexpr double whole = 1.0 - 1e-9;

token_bucket::token_bucket(double rate_per_second, unsigned burst, time_point now) noexcept
    : rate_(rate_per_second > 0 ? rate_per_second : 0),
      capacity_(burst > 0 ? static_cast<double>(burst) : std::max(1.0, rate_ / 10)),
      tokens_(capacity_),
      last_(now) {}

void token_bucket::refill(time_point now) noexcept {
    if (now <= last_) return;
    const double secs = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(capacity_, tokens_ + secs * rate_);
    last_ = now;
}

bool token_bucket::try_take(time_point now) noexcept {
    if (!enabled()) return true;
    refill(now);
    if (tokens_ < whole) return false;
    tokens_ = std::max(0.0, tokens_ - 1.0);
    return true;
}

std::chrono::nanoseconds token_bucket::wait(time_point now) noexcept {
    if (!enabled()) return std::chrono::nanoseconds(0);
    refill(now);
    if (tokens_ >= whole) return std::chrono::nanoseconds(0);
    return std::chrono::nanoseconds(static_cast<long long>(std::ceil((1.0 - tokens_) / rate_ * 1e9)));
}

}  // namespace catalyst::detail
