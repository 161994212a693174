#ifndef CATALYST_BENCH_HISTOGRAM_HPP
#define CATALYST_BENCH_HISTOGRAM_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace catalyst::bench {

/// A latency histogram in the manner of HdrHistogram: log-linear buckets, so that every
/// recorded value is known to within 1/128 (under 0.8 %) of itself, from 1 ns up to
/// `max_trackable` (about 18 minutes); larger values are counted in the top bucket and still
/// set `max()` exactly.
///
/// Recording is a few integer operations and never allocates (the buckets are allocated once,
/// in the constructor): one histogram per thread, merged at the end.
/// Not thread-safe: each instance belongs to one thread at a time.
class histogram {
public:
    static constexpr unsigned sub_bucket_bits = 7;
    static constexpr std::uint64_t sub_bucket_count = std::uint64_t{1} << sub_bucket_bits;
    static constexpr unsigned max_magnitude = 40;  ///< values up to 2^40 ns are resolved
    static constexpr std::uint64_t max_trackable = (std::uint64_t{1} << max_magnitude) - 1;
    static constexpr std::size_t bucket_count = (max_magnitude - sub_bucket_bits + 1) * sub_bucket_count;

    histogram();

    void record(std::uint64_t value) noexcept {
        counts_[index_of(value)] += 1;
        count_ += 1;
        sum_ += value;
        if (value < min_) min_ = value;
        if (value > max_) max_ = value;
    }
    /// Adds every value of `other`.
    void merge(const histogram& other) noexcept;
    void reset() noexcept;

    std::uint64_t count() const noexcept { return count_; }
    std::uint64_t min() const noexcept { return count_ ? min_ : 0; }
    std::uint64_t max() const noexcept { return max_; }
    double mean() const noexcept { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }

    /// The smallest bucket bound below which at least `p` percent of the values lie
    /// (0 < p <= 100), reported as the bucket's highest value and never above `max()`;
    /// 0 when empty. p = 100 gives `max()`.
    std::uint64_t percentile(double p) const noexcept;

    /// Bucket arithmetic, public for the tests.
    static std::size_t index_of(std::uint64_t value) noexcept;
    static std::uint64_t lowest_in(std::size_t index) noexcept;
    static std::uint64_t highest_in(std::size_t index) noexcept;

private:
    std::vector<std::uint64_t> counts_;
    std::uint64_t count_ = 0;
    std::uint64_t sum_ = 0;
    std::uint64_t min_ = UINT64_MAX;
    std::uint64_t max_ = 0;
};

/// The percentiles every report shows.
struct latency_summary {
    std::uint64_t count = 0;
    double mean_ns = 0;
    std::uint64_t min_ns = 0, p50_ns = 0, p90_ns = 0, p99_ns = 0, p999_ns = 0, max_ns = 0;
};
latency_summary summarize(const histogram& h) noexcept;

}  // namespace catalyst::bench

#endif
