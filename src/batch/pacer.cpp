#include "batch/pacer.hpp"

#include <algorithm>
#include <cmath>

namespace catalyst::batch {

pacer::pacer(double rate_per_second, double burst)
    : rate_(rate_per_second), burst_(std::max(1.0, burst)), tokens_(std::max(1.0, burst)) {}

pacer::clock::duration pacer::try_acquire(clock::time_point now) {
    if (rate_ <= 0) return clock::duration::zero();
    if (!started_) {
        started_ = true;
        last_ = now;
    }
    if (now > last_) {
        const double elapsed = std::chrono::duration<double>(now - last_).count();
        tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
        last_ = now;
    }
    if (tokens_ >= 1.0) {
        tokens_ -= 1.0;
        return clock::duration::zero();
    }
    const double wait = (1.0 - tokens_) / rate_;
    return std::max<clock::duration>(
        std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(wait)), clock::duration(1));
}

}  // namespace catalyst::batch
