#include "batch/stats.hpp"

#include <cmath>
#include <cstdio>

namespace catalyst::batch {
namespace {
constexpr std::uint64_t fine_limit = 10'000;
constexpr std::uint64_t coarse_step = 10;
constexpr std::size_t coarse_buckets = 60'000;  // up to 10 minutes

std::string format_duration(std::uint64_t seconds) {
    char buf[32];
    if (seconds >= 3600)
        std::snprintf(buf, sizeof buf, "%lluh%02llum", static_cast<unsigned long long>(seconds / 3600),
                      static_cast<unsigned long long>(seconds % 3600 / 60));
    else if (seconds >= 60)
        std::snprintf(buf, sizeof buf, "%llum%02llus", static_cast<unsigned long long>(seconds / 60),
                      static_cast<unsigned long long>(seconds % 60));
    else
        std::snprintf(buf, sizeof buf, "%llus", static_cast<unsigned long long>(seconds));
    return buf;
}
}  // namespace

latency_histogram::latency_histogram() : fine_(fine_limit, 0), coarse_(coarse_buckets, 0) {}

void latency_histogram::add(std::uint64_t ms) {
    ++count_;
    if (ms < fine_limit) {
        ++fine_[ms];
        return;
    }
    std::uint64_t b = (ms - fine_limit) / coarse_step;
    if (b >= coarse_buckets) b = coarse_buckets - 1;
    ++coarse_[b];
}

std::uint64_t latency_histogram::quantile(double q) const {
    if (count_ == 0) return 0;
    const auto target = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
    std::uint64_t seen = 0;
    for (std::uint64_t i = 0; i < fine_limit; ++i) {
        seen += fine_[i];
        if (seen >= target && seen > 0) return i;
    }
    for (std::size_t i = 0; i < coarse_buckets; ++i) {
        seen += coarse_[i];
        if (seen >= target) return fine_limit + i * coarse_step;
    }
    return fine_limit + coarse_buckets * coarse_step;
}

void run_stats::add(const result_record& r) {
    if (!r.ok) {
        ++failed;
        ++failed_by_reason[r.error];
    } else if (r.dry_run) {
        ++validated;
    } else if (r.reused) {
        ++reused;
    } else if (r.replayed) {
        ++replayed;
    } else {
        ++created;
    }
    if (r.attempts > 0) {
        ++sent;
        latency.add(r.latency_ms);
    }
}

std::string format_summary(const run_stats& s, std::chrono::milliseconds wall, bool aborted) {
    std::string out = aborted ? "catalyst-batch: aborted (in-flight lines finished and written)\n"
                              : "catalyst-batch: done\n";
    char buf[256];
    const double secs = std::max(0.001, static_cast<double>(wall.count()) / 1000.0);
    std::snprintf(buf, sizeof buf,
                  "  lines this run: %llu (created %llu, replayed %llu, reused %llu, failed %llu",
                  static_cast<unsigned long long>(s.done()), static_cast<unsigned long long>(s.created),
                  static_cast<unsigned long long>(s.replayed), static_cast<unsigned long long>(s.reused),
                  static_cast<unsigned long long>(s.failed));
    out += buf;
    if (s.validated > 0) out += ", validated only " + std::to_string(s.validated);
    out += ")\n";
    for (const auto& [reason, n] : s.failed_by_reason)
        out += "    failed " + reason + ": " + std::to_string(n) + "\n";
    if (s.previous_ok + s.previous_failed > 0) {
        out += "  already in the output (resumed): " + std::to_string(s.previous_ok + s.previous_failed) +
               " (ok " + std::to_string(s.previous_ok) + ", failed " + std::to_string(s.previous_failed) + ")\n";
        for (const auto& [reason, n] : s.previous_failed_by_reason)
            out += "    failed " + reason + ": " + std::to_string(n) + "\n";
    }
    if (s.empty_lines > 0) out += "  empty lines skipped: " + std::to_string(s.empty_lines) + "\n";
    if (s.other_shards > 0) out += "  lines of other shards: " + std::to_string(s.other_shards) + "\n";
    if (s.allowed_rate) {
        std::snprintf(buf, sizeof buf, "  adaptive rate: %.0f requests/s allowed at the end\n", *s.allowed_rate);
        out += buf;
    }
    std::snprintf(buf, sizeof buf, "  latency p50 %llu ms, p99 %llu ms; wall time %.1f s; %.0f lines/s\n",
                  static_cast<unsigned long long>(s.latency.quantile(0.50)),
                  static_cast<unsigned long long>(s.latency.quantile(0.99)), secs,
                  static_cast<double>(s.done()) / secs);
    out += buf;
    return out;
}

std::string format_progress(const run_stats& s, std::chrono::milliseconds elapsed,
                            std::optional<std::uint64_t> total, std::optional<double> fraction, bool bar) {
    const double secs = std::max(0.001, static_cast<double>(elapsed.count()) / 1000.0);
    const double rate = static_cast<double>(s.done()) / secs;
    // Lines done by earlier runs count towards the total, not towards this run's rate.
    const std::uint64_t count = s.done() + s.previous_ok + s.previous_failed;
    std::optional<double> share;
    std::optional<double> eta;
    if (total && *total > 0) {
        share = std::min(1.0, static_cast<double>(count) / static_cast<double>(*total));
        if (rate > 0 && count < *total) eta = static_cast<double>(*total - count) / rate;
    } else if (fraction) {
        share = std::min(1.0, *fraction);
        if (*share > 0.0 && *share < 1.0) eta = secs * (1.0 - *share) / *share;
    }
    std::string out;
    char buf[160];
    if (bar && share) {
        constexpr int width = 24;
        const int filled = static_cast<int>(*share * width);
        out += '[';
        out.append(static_cast<std::size_t>(filled), '#');
        out.append(static_cast<std::size_t>(width - filled), '.');
        out += "] ";
    }
    if (total)
        std::snprintf(buf, sizeof buf, "%llu/%llu lines", static_cast<unsigned long long>(count),
                      static_cast<unsigned long long>(*total));
    else
        std::snprintf(buf, sizeof buf, "%llu lines", static_cast<unsigned long long>(count));
    out += buf;
    if (share) {
        std::snprintf(buf, sizeof buf, " (%.0f%%)", *share * 100.0);
        out += buf;
    }
    std::snprintf(buf, sizeof buf, ", %.0f/s", rate);
    out += buf;
    if (eta) out += ", ETA " + format_duration(static_cast<std::uint64_t>(*eta));
    out += ", errors " + std::to_string(s.failed + s.previous_failed);
    if (s.allowed_rate) {
        std::snprintf(buf, sizeof buf, ", allowed %.0f/s", *s.allowed_rate);
        out += buf;
    }
    return out;
}

}  // namespace catalyst::batch
