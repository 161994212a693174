#ifndef CATALYST_BENCH_REPORT_HPP
#define CATALYST_BENCH_REPORT_HPP

#include "histogram.hpp"

#include <boost/json/value.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace catalyst::bench {

/// Everything one run measured.
struct run_result {
    std::string target;            ///< "embedded sandbox" or the base URL
    std::string mode;              ///< "closed" or "open"
    unsigned concurrency = 0;      ///< closed loop
    double rate = 0;               ///< open loop, sessions/s asked for
    std::uint64_t started = 0;
    std::uint64_t succeeded = 0;
    std::uint64_t failed = 0;
    double wall_s = 0;             ///< from the first send to the last completion
    latency_summary latency;       ///< successes and failures alike
    double client_cpu_s = 0;       ///< CPU of the client's threads (the sandbox's excluded)
    double process_user_s = 0;     ///< the whole process, getrusage
    double process_sys_s = 0;
    bool sandbox_in_process = false;
    std::uint64_t peak_rss_bytes = 0;
    std::uint64_t connections_opened = 0;
    std::uint64_t tls_full = 0;
    std::uint64_t tls_resumed = 0;
    std::uint64_t retries = 0;
    std::vector<std::pair<std::string, std::uint64_t>> errors;  ///< by kind, most frequent first

    double sessions_per_s() const noexcept { return wall_s > 0 ? static_cast<double>(succeeded) / wall_s : 0; }
    /// Client CPU microseconds per completed request (successes and failures).
    double cpu_us_per_session() const noexcept {
        const auto done = succeeded + failed;
        return done ? client_cpu_s * 1e6 / static_cast<double>(done) : 0;
    }
};

/// "812 us", "3.41 ms", "1.20 s".
std::string format_latency(std::uint64_t ns);
/// "11.2 MB" (10^6 bytes).
std::string format_bytes(std::uint64_t bytes);

/// The table for people.
std::string format_table(const run_result& r);
/// One row per run, for sweeps.
std::string format_sweep_table(const std::vector<run_result>& runs);
/// One line, for compare.sh logs.
std::string format_brief(const run_result& r);

/// The JSON of one run: numbers in base units (seconds, nanoseconds, bytes).
boost::json::value to_json(const run_result& r);
/// {"machine": {...}, "runs": [...]} pretty enough to diff.
std::string to_json_report(const std::vector<run_result>& runs, const boost::json::value& machine);

}  // namespace catalyst::bench

#endif
