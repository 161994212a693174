#ifndef CATALYST_BATCH_STATS_HPP
#define CATALYST_BATCH_STATS_HPP

#include "batch/record.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace catalyst::batch {

/// Latencies in whole milliseconds: exact up to 10 s, then 10 ms steps up to 10 min.
/// Fixed memory whatever the number of samples.
class latency_histogram {
public:
    latency_histogram();
    void add(std::uint64_t ms);
    std::uint64_t count() const noexcept { return count_; }
    /// The smallest latency with at least `q` (0..1) of the samples at or below it; 0 if empty.
    std::uint64_t quantile(double q) const;

private:
    std::vector<std::uint32_t> fine_;    // 0..9999 ms
    std::vector<std::uint32_t> coarse_;  // 10 ms steps above
    std::uint64_t count_ = 0;
};

/// Counters of one run; lines skipped on resume count in `previous_*`.
struct run_stats {
    std::uint64_t created = 0;
    std::uint64_t replayed = 0;
    std::uint64_t reused = 0;
    std::uint64_t validated = 0;  ///< --dry-run: valid lines
    std::uint64_t failed = 0;
    std::map<std::string, std::uint64_t> failed_by_reason;
    std::uint64_t sent = 0;          ///< lines with a request sent (at least one attempt)
    std::uint64_t lines_read = 0;    ///< input records read (empty lines not counted)
    std::uint64_t skipped_done = 0;  ///< lines read that an earlier run already has an outcome for
    std::uint64_t empty_lines = 0;
    std::uint64_t other_shards = 0;
    std::uint64_t previous_ok = 0;
    std::uint64_t previous_failed = 0;
    std::map<std::string, std::uint64_t> previous_failed_by_reason;
    latency_histogram latency;
    /// In adaptive mode, the client's allowed requests/s when last read (its metrics gauge).
    std::optional<double> allowed_rate;

    void add(const result_record& r);
    std::uint64_t done() const noexcept { return created + replayed + reused + validated + failed; }
    std::uint64_t ok() const noexcept { return created + replayed + reused + validated; }
};

/// The final summary, several lines for people.
std::string format_summary(const run_stats& s, std::chrono::milliseconds wall, bool aborted);

/// One progress line: done (of total when known), rate, ETA, errors so far, and the client's
/// allowed rate in adaptive mode.
/// `fraction` is the share of the input read (by bytes) when the total line count is unknown.
std::string format_progress(const run_stats& s, std::chrono::milliseconds elapsed,
                            std::optional<std::uint64_t> total, std::optional<double> fraction, bool bar);

}  // namespace catalyst::batch

#endif
