#include "histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace catalyst::bench {

histogram::histogram() : counts_(bucket_count, 0) {}

std::size_t histogram::index_of(std::uint64_t value) noexcept {
    if (value > max_trackable) value = max_trackable;
    if (value < sub_bucket_count) return static_cast<std::size_t>(value);
    // magnitude k: value in [2^k, 2^(k+1)), split into sub_bucket_count equal buckets
    const unsigned k = static_cast<unsigned>(std::bit_width(value)) - 1;
    const unsigned shift = k - sub_bucket_bits;
    return static_cast<std::size_t>((shift + 1) * sub_bucket_count + ((value >> shift) - sub_bucket_count));
}

std::uint64_t histogram::lowest_in(std::size_t index) noexcept {
    if (index < sub_bucket_count) return index;
    const std::uint64_t group = index / sub_bucket_count;  // >= 1
    const std::uint64_t sub = index % sub_bucket_count;
    return (sub_bucket_count + sub) << (group - 1);
}

std::uint64_t histogram::highest_in(std::size_t index) noexcept {
    if (index < sub_bucket_count) return index;
    const std::uint64_t group = index / sub_bucket_count;
    return lowest_in(index) + (std::uint64_t{1} << (group - 1)) - 1;
}

void histogram::merge(const histogram& other) noexcept {
    for (std::size_t i = 0; i < bucket_count; ++i) counts_[i] += other.counts_[i];
    count_ += other.count_;
    sum_ += other.sum_;
    if (other.count_ && other.min_ < min_) min_ = other.min_;
    if (other.max_ > max_) max_ = other.max_;
}

void histogram::reset() noexcept {
    std::fill(counts_.begin(), counts_.end(), 0);
    count_ = sum_ = max_ = 0;
    min_ = UINT64_MAX;
}

std::uint64_t histogram::percentile(double p) const noexcept {
    if (count_ == 0) return 0;
    if (!(p > 0)) p = 0;
    if (p >= 100) return max_;
    // rank of the value sought, 1-based: at least p% of the values are <= it
    auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
    if (rank < 1) rank = 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < bucket_count; ++i) {
        seen += counts_[i];
        if (seen >= rank) {
            const std::uint64_t hi = highest_in(i);
            return hi < max_ ? hi : max_;
        }
    }
    return max_;
}

latency_summary summarize(const histogram& h) noexcept {
    latency_summary s;
    s.count = h.count();
    s.mean_ns = h.mean();
    s.min_ns = h.min();
    s.p50_ns = h.percentile(50);
    s.p90_ns = h.percentile(90);
    s.p99_ns = h.percentile(99);
    s.p999_ns = h.percentile(99.9);
    s.max_ns = h.max();
    return s;
}

}  // namespace catalyst::bench
