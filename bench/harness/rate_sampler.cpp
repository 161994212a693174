#include "rate_sampler.hpp"

namespace catalyst::bench {

rate_sampler::rate_sampler(const client& c, std::chrono::steady_clock::time_point origin,
                           std::chrono::milliseconds period)
    : client_(c), origin_(origin), period_(period), thread_([this] { run(); }) {}

rate_sampler::~rate_sampler() { stop(); }

std::vector<std::pair<double, double>> rate_sampler::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    return std::move(samples_);
}

void rate_sampler::run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        const auto now = std::chrono::steady_clock::now();
        const double allowed = client_.metrics().rate_allowed;
        samples_.emplace_back(std::chrono::duration<double>(now - origin_).count(), allowed);
        wake_.wait_for(lock, period_, [this] { return stopping_; });
    }
}

}  // namespace catalyst::bench
