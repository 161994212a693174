#ifndef CATALYST_BATCH_PACER_HPP
#define CATALYST_BATCH_PACER_HPP

#include <chrono>

namespace catalyst::batch {

/// `--rate N/s`: a token bucket deciding when the next line may start. Pure: the caller
/// passes the time, so tests need no clock.
class pacer {
public:
    using clock = std::chrono::steady_clock;

    /// rate 0 = unpaced. `burst` tokens at most (at least 1).
    explicit pacer(double rate_per_second = 0, double burst = 1);

    /// Takes a token and returns zero when one is available at `now`; otherwise takes
    /// nothing and returns how long until one is.
    clock::duration try_acquire(clock::time_point now);

    bool enabled() const noexcept { return rate_ > 0; }

private:
    double rate_;
    double burst_;
    double tokens_;
    clock::time_point last_{};
    bool started_ = false;
};

}  // namespace catalyst::batch

#endif
