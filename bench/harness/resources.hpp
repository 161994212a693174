#ifndef CATALYST_BENCH_RESOURCES_HPP
#define CATALYST_BENCH_RESOURCES_HPP

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace catalyst::bench {

/// CPU time of the whole process (getrusage RUSAGE_SELF): every thread, live or ended.
struct cpu_times {
    std::chrono::nanoseconds user{0};
    std::chrono::nanoseconds sys{0};
    std::chrono::nanoseconds total() const noexcept { return user + sys; }
};
cpu_times process_cpu() noexcept;
cpu_times operator-(const cpu_times& a, const cpu_times& b) noexcept;

/// Peak resident set size in bytes (VmHWM, else ru_maxrss); 0 when unknown.
std::uint64_t peak_rss_bytes();
/// Resets the peak to the current RSS (Linux: "5" into /proc/self/clear_refs), so that
/// each point of a sweep reports its own peak. Returns false where unsupported.
bool reset_peak_rss();

/// The ids of this process's threads (/proc/self/task).
std::vector<int> thread_ids();
/// CPU time (user + sys) of the given threads of this process, as far as they still run:
/// /proc/self/task/TID/schedstat (nanoseconds), else .../stat (clock ticks).
std::chrono::nanoseconds threads_cpu(const std::vector<int>& tids);

/// Parsers of the /proc files above, pure for the tests.
std::optional<std::uint64_t> parse_vm_hwm_bytes(std::string_view proc_status);
std::optional<std::uint64_t> parse_schedstat_ns(std::string_view schedstat);
/// utime + stime in clock ticks from a /proc/.../stat line (the command may hold spaces and ')').
std::optional<std::uint64_t> parse_stat_ticks(std::string_view stat);

}  // namespace catalyst::bench

#endif
