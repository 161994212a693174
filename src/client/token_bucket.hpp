#ifndef CATALYST_SRC_CLIENT_TOKEN_BUCKET_HPP
#define CATALYST_SRC_CLIENT_TOKEN_BUCKET_HPP

// Client-side pacing (`pacing_params`): a token bucket, pure (the time is passed in).

#include <catalyst/client_params.hpp>

#include <chrono>

namespace catalyst::detail {

class token_bucket {
public:
    using time_point = std::chrono::steady_clock::time_point;

    /// rate 0 = off (every take succeeds). burst 0 = max(1, rate/10).
    token_bucket(double rate_per_second, unsigned burst, time_point now) noexcept;

    bool enabled() const noexcept { return rate_ > 0; }
    /// Takes one token if there is one.
    bool try_take(time_point now) noexcept;
    /// How long until the next token (0 when one is available).
    std::chrono::nanoseconds wait(time_point now) noexcept;

private:
    void refill(time_point now) noexcept;
    double rate_;
    double capacity_;
    double tokens_;
    time_point last_;
};

}  // namespace catalyst::detail

#endif
