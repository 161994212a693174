#include "core/token_bucket.hpp"

#include <algorithm>
#include <cmath>

namespace catalyst::detail {
namespace {

// Refills are computed in floating point: 10 ms at 100/s must make a whole token.
constexpr double whole = 1.0 - 1e-9;

double capacity_for(double rate, double burst) noexcept { return burst > 0 ? std::max(1.0, burst) : std::max(1.0, rate / 10); }

}  // namespace

token_bucket::token_bucket(double rate_per_second, double burst, time_point now) noexcept
    : rate_(rate_per_second > 0 ? rate_per_second : 0),
      burst_(burst > 0 ? burst : 0),
      capacity_(capacity_for(rate_, burst_)),
      tokens_(capacity_),
      last_(now) {}

double token_bucket::tokens_at(time_point now) const noexcept {
    if (now <= last_) return tokens_;
    const double secs = std::chrono::duration<double>(now - last_).count();
    return std::min(capacity_, tokens_ + secs * rate_);
}

void token_bucket::refill(time_point now) noexcept {
    if (now <= last_) return;
    tokens_ = tokens_at(now);
    last_ = now;
}

double token_bucket::reachable(double need) const noexcept { return std::clamp(need, 1.0, std::max(1.0, capacity_)); }

bool token_bucket::try_take(time_point now, double need) noexcept {
    if (!enabled()) return true;
    refill(now);
    if (tokens_ < reachable(need) - (1.0 - whole)) return false;
    tokens_ = std::max(0.0, tokens_ - 1.0);
    return true;
}

std::chrono::nanoseconds token_bucket::wait(time_point now, double need) const noexcept {
    if (!enabled()) return std::chrono::nanoseconds(0);
    const double tokens = tokens_at(now);
    need = reachable(need);
    if (tokens >= need - (1.0 - whole)) return std::chrono::nanoseconds(0);
    // At most about 31 years: a tiny rate (1e-300/s) must not overflow the conversion. At
    // least 1 ns: a token is missing.
    const double ns = std::min((need - tokens) / rate_ * 1e9, 1e18);
    return std::chrono::nanoseconds(std::max(1LL, static_cast<long long>(ns)));
}

unsigned token_bucket::wait_seconds(time_point now) const noexcept {
    const double secs = std::chrono::duration<double>(wait(now)).count();  // at most 1e9
    return static_cast<unsigned>(std::max(1.0, std::ceil(secs)));
}

void token_bucket::skip(time_point now) noexcept {
    if (now > last_) last_ = now;
}

void token_bucket::reset(double tokens, time_point now) noexcept {
    tokens_ = std::clamp(tokens, 0.0, capacity_);
    last_ = now;
}

void token_bucket::set_rate(double rate_per_second, time_point now) noexcept { set_rate(rate_per_second, burst_, now); }

void token_bucket::set_rate(double rate_per_second, double burst, time_point now) noexcept {
    const bool was_on = enabled();
    refill(now);  // what was earned at the old rate
    if (now > last_) last_ = now;
    rate_ = rate_per_second > 0 ? rate_per_second : 0;
    burst_ = burst > 0 ? burst : 0;
    capacity_ = capacity_for(rate_, burst_);
    tokens_ = was_on ? std::min(tokens_, capacity_) : capacity_;
}

}  // namespace catalyst::detail
