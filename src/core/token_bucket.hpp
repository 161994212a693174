#ifndef CATALYST_SRC_CORE_TOKEN_BUCKET_HPP
#define CATALYST_SRC_CORE_TOKEN_BUCKET_HPP

// A token bucket, pure (the time is passed in): the client's fixed rate (`rate_params`) and
// its adaptive rate's send slots (rate_controller), the batch tool's --rate, and the sandbox's
// per-key and global rate limits.
// Not thread-safe: its owner serialises the calls.
// Exported (CATALYST_DECL): the sandbox and the command lines, outside libcatalyst, use it
// from a shared libcatalyst too.

#include <catalyst/export.hpp>

#include <chrono>

namespace catalyst::detail {

class CATALYST_DECL token_bucket {
public:
    using time_point = std::chrono::steady_clock::time_point;

    /// `rate_per_second` 0 = off (every take succeeds). `burst` = the capacity, at least 1
    /// (fractions of it count); 0 = max(1, rate/10), following the rate when set_rate changes
    /// it. Starts full at `now`.
    token_bucket(double rate_per_second, double burst, time_point now) noexcept;

    bool enabled() const noexcept { return rate_ > 0; }
    double rate() const noexcept { return rate_; }
    double capacity() const noexcept { return capacity_; }

    /// Takes one token if there are `need` (from 1 to the capacity): a caller that asks for
    /// more than one before it takes one spreads its takes without changing their rate.
    bool try_take(time_point now, double need = 1) noexcept;
    /// How long until there are `need` tokens (0 when there are).
    std::chrono::nanoseconds wait(time_point now, double need = 1) const noexcept;
    /// `wait` in whole seconds, rounded up, at least 1: the value of a Retry-After header.
    /// Call it after a failed `try_take`.
    unsigned wait_seconds(time_point now) const noexcept;
    /// The time until `now` earns nothing (its owner is paused): the tokens stay as they were.
    void skip(time_point now) noexcept;
    /// From `now` on, `tokens` (at most the capacity), whatever was earned before: a limit
    /// that resumes after a pause starts from what its owner says, not from a full bucket.
    void reset(double tokens, time_point now) noexcept;

    /// From `now` on, `rate` per second. The tokens earned until `now` at the old rate are
    /// kept (up to the new capacity); a bucket that was off starts full. The burst stays as
    /// given at construction (or follows the new rate when it was 0).
    void set_rate(double rate_per_second, time_point now) noexcept;
    /// The same with a new `burst` (0 = max(1, rate/10)).
    void set_rate(double rate_per_second, double burst, time_point now) noexcept;

private:
    void refill(time_point now) noexcept;
    double reachable(double need) const noexcept;  ///< `need` within [1, capacity]
    double tokens_at(time_point now) const noexcept;
    double rate_;
    double burst_;  ///< as given: 0 = derived from the rate
    double capacity_;
    double tokens_;
    time_point last_;
};

}  // namespace catalyst::detail

#endif
