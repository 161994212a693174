#ifndef CATALYST_BENCH_RATE_SAMPLER_HPP
#define CATALYST_BENCH_RATE_SAMPLER_HPP

#include <catalyst/client.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace catalyst::bench {

/// Reads a client's allowed rate (its `rate_allowed` gauge) every `period` on a thread of its
/// own, while a run goes on: the client's side of a run against a scheduled limit, which the
/// sandbox's counts do not show. Each sample is (seconds since `origin`, requests/s).
class rate_sampler {
public:
    rate_sampler(const client& c, std::chrono::steady_clock::time_point origin,
                 std::chrono::milliseconds period = std::chrono::milliseconds(100));
    ~rate_sampler();
    rate_sampler(const rate_sampler&) = delete;
    rate_sampler& operator=(const rate_sampler&) = delete;

    /// Stops sampling (joins the thread) and returns the samples; later calls return none.
    std::vector<std::pair<double, double>> stop();

private:
    void run();

    const client& client_;
    const std::chrono::steady_clock::time_point origin_;
    const std::chrono::milliseconds period_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::vector<std::pair<double, double>> samples_;
    std::thread thread_;
};

}  // namespace catalyst::bench

#endif
