#include "verdict.hpp"

#include <algorithm>
#include <cstdio>

namespace catalyst::soak {

verdict judge(const run_figures& run, const thresholds& limits) {
    verdict v;
    const std::uint64_t done = run.ok + run.failed;
    if (done == 0) {
        v.crossed.push_back("no session completed");
    } else {
        const double rate = static_cast<double>(run.failed) / static_cast<double>(done);
        if (rate > limits.max_error_rate) {
            char text[160];
            std::snprintf(text, sizeof text, "error rate %.4f above --max-error-rate %.4f", rate, limits.max_error_rate);
            v.crossed.emplace_back(text);
        }
    }
    if (run.p99 > limits.max_p99)
        v.crossed.push_back("p99 " + std::to_string(run.p99.count() / 1'000'000) + " ms above --max-p99 " +
                            std::to_string(limits.max_p99.count() / 1'000'000) + " ms");
    if (run.rss_kib.size() >= 3 && run.fds.size() == run.rss_kib.size()) {
        v.memory_judged = true;
        const auto& rss = run.rss_kib;
        const long end = *std::min_element(rss.end() - std::min<std::ptrdiff_t>(3, static_cast<std::ptrdiff_t>(rss.size()) - 1), rss.end());
        if (end - rss[1] > static_cast<long>(limits.max_rss_growth_kib))
            v.crossed.push_back("client memory grew " + std::to_string(end - rss[1]) +
                                " KiB from the warm sample, above --max-rss-growth-kib " +
                                std::to_string(limits.max_rss_growth_kib));
        if (run.fds.back() - run.fds[1] > static_cast<long>(limits.max_fd_growth))
            v.crossed.push_back("client descriptors grew " + std::to_string(run.fds.back() - run.fds[1]) +
                                " from the warm sample, above --max-fd-growth " + std::to_string(limits.max_fd_growth));
    }
    return v;
}

}  // namespace catalyst::soak
