#ifndef CATALYST_SOAK_VERDICT_HPP
#define CATALYST_SOAK_VERDICT_HPP

// catalyst-soak's pass/fail: the figures of a run against the thresholds, each crossing named.
// Pure, so that tests/bench checks that a climbing memory fails the run.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace catalyst::soak {

struct thresholds {
    double max_error_rate = 0.25;
    std::chrono::nanoseconds max_p99 = std::chrono::seconds(5);
    std::uint64_t max_rss_growth_kib = 8 * 1024;
    std::uint64_t max_fd_growth = 8;
};

struct run_figures {
    std::uint64_t ok = 0, failed = 0;
    std::chrono::nanoseconds p99{0};
    std::vector<long> rss_kib;  ///< one per sample
    std::vector<long> fds;      ///< one per sample
};

struct verdict {
    std::vector<std::string> crossed;  ///< empty: every threshold held
    bool memory_judged = false;        ///< false with fewer than 3 samples
};

/// Memory: the warm sample (the second) against the lowest of the last three, so that one
/// late allocation burst is not a leak while a steady climb is. Descriptors: warm against last.
verdict judge(const run_figures& run, const thresholds& limits);

}  // namespace catalyst::soak

#endif
