#include "resources.hpp"

#include <algorithm>
#include <charconv>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/resource.h>
#include <unistd.h>

namespace catalyst::bench {
namespace {

std::chrono::nanoseconds from_timeval(const timeval& tv) {
    return std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec);
}

std::string read_small_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) return {};
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::optional<std::uint64_t> to_u64(std::string_view s) {
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p == s.data()) return std::nullopt;
    return v;
}

}  // namespace

cpu_times process_cpu() noexcept {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return {from_timeval(ru.ru_utime), from_timeval(ru.ru_stime)};
}

cpu_times operator-(const cpu_times& a, const cpu_times& b) noexcept {
    return {a.user - b.user, a.sys - b.sys};
}

std::optional<std::uint64_t> parse_vm_hwm_bytes(std::string_view status) {
    constexpr std::string_view key = "VmHWM:";
    auto pos = status.find(key);
    while (pos != std::string_view::npos && pos != 0 && status[pos - 1] != '\n') pos = status.find(key, pos + 1);
    if (pos == std::string_view::npos) return std::nullopt;
    auto rest = status.substr(pos + key.size());
    rest.remove_prefix(std::min(rest.find_first_not_of(" \t"), rest.size()));
    auto end = rest.find_first_not_of("0123456789");
    auto kb = to_u64(rest.substr(0, end));
    if (!kb) return std::nullopt;
    return *kb * 1024;
}

std::optional<std::uint64_t> parse_schedstat_ns(std::string_view s) {
    return to_u64(s.substr(0, s.find(' ')));
}

std::optional<std::uint64_t> parse_stat_ticks(std::string_view stat) {
    // "pid (comm) state ppid ..." - comm may contain anything, so start after the last ')'
    auto close = stat.rfind(')');
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view rest = stat.substr(close + 1);
    // fields after comm: 3 state, 4 ppid, ..., 14 utime, 15 stime -> the 12th and 13th here
    std::uint64_t utime = 0, stime = 0;
    int field = 2;
    std::size_t i = 0;
    while (i < rest.size()) {
        while (i < rest.size() && rest[i] == ' ') ++i;
        std::size_t j = i;
        while (j < rest.size() && rest[j] != ' ' && rest[j] != '\n') ++j;
        if (j == i) break;
        ++field;
        if (field == 14 || field == 15) {
            auto v = to_u64(rest.substr(i, j - i));
            if (!v) return std::nullopt;
            (field == 14 ? utime : stime) = *v;
            if (field == 15) return utime + stime;
        }
        i = j;
    }
    return std::nullopt;
}

std::uint64_t peak_rss_bytes() {
    if (auto v = parse_vm_hwm_bytes(read_small_file("/proc/self/status"))) return *v;
    rusage ru{};
    if (getrusage(RUSAGE_SELF, &ru) == 0) return static_cast<std::uint64_t>(ru.ru_maxrss) * 1024;
    return 0;
}

bool reset_peak_rss() {
    std::ofstream out("/proc/self/clear_refs");
    if (!out) return false;
    out << "5";
    out.flush();
    return static_cast<bool>(out);
}

std::vector<int> thread_ids() {
    std::vector<int> ids;
    if (DIR* d = opendir("/proc/self/task")) {
        while (dirent* e = readdir(d)) {
            if (auto v = to_u64(e->d_name)) ids.push_back(static_cast<int>(*v));
        }
        closedir(d);
    }
    return ids;
}

std::chrono::nanoseconds threads_cpu(const std::vector<int>& tids) {
    std::chrono::nanoseconds total{0};
    static const long ticks_per_s = sysconf(_SC_CLK_TCK);
    for (int tid : tids) {
        const std::string base = "/proc/self/task/" + std::to_string(tid);
        if (auto ns = parse_schedstat_ns(read_small_file(base + "/schedstat"))) {
            total += std::chrono::nanoseconds(*ns);
        } else if (auto ticks = parse_stat_ticks(read_small_file(base + "/stat")); ticks && ticks_per_s > 0) {
            total += std::chrono::nanoseconds(static_cast<std::int64_t>(*ticks * 1'000'000'000ull / static_cast<unsigned long long>(ticks_per_s)));
        }
    }
    return total;
}

}  // namespace catalyst::bench
