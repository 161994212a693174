#include "histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

using catalyst::bench::histogram;
using catalyst::bench::summarize;

TEST(histogram, buckets_cover_every_value_and_hold_it) {
    // every value lands in a bucket whose bounds contain it, and indices never go backwards
    std::size_t last = 0;
    for (std::uint64_t v = 0; v < 200'000; v += (v < 5'000 ? 1 : 37)) {
        const auto i = histogram::index_of(v);
        ASSERT_LT(i, histogram::bucket_count);
        EXPECT_LE(histogram::lowest_in(i), v) << v;
        EXPECT_GE(histogram::highest_in(i), v) << v;
        EXPECT_GE(i, last) << v;
        last = i;
    }
    for (unsigned k = 8; k < histogram::max_magnitude; ++k) {
        const std::uint64_t v = (std::uint64_t{1} << k) + 12345;
        const auto i = histogram::index_of(v);
        EXPECT_LE(histogram::lowest_in(i), v);
        EXPECT_GE(histogram::highest_in(i), v);
    }
}

TEST(histogram, relative_error_is_below_one_percent) {
    for (std::uint64_t v : {129ull, 1'000ull, 65'537ull, 1'234'567ull, 987'654'321ull, 123'456'789'012ull}) {
        const auto i = histogram::index_of(v);
        const double width = static_cast<double>(histogram::highest_in(i) - histogram::lowest_in(i) + 1);
        EXPECT_LT(width / static_cast<double>(v), 0.01) << v;
    }
    // small values are exact
    EXPECT_EQ(histogram::lowest_in(histogram::index_of(100)), 100u);
    EXPECT_EQ(histogram::highest_in(histogram::index_of(100)), 100u);
}

TEST(histogram, values_past_the_range_are_clamped_but_max_is_exact) {
    histogram h;
    const std::uint64_t huge = std::uint64_t{1} << 50;
    h.record(huge);
    EXPECT_EQ(h.count(), 1u);
    EXPECT_EQ(h.max(), huge);
    EXPECT_EQ(h.percentile(50), histogram::highest_in(histogram::bucket_count - 1));
    EXPECT_EQ(h.percentile(100), huge);
}

TEST(histogram, percentiles_of_one_to_ten_thousand) {
    histogram h;
    for (std::uint64_t v = 1; v <= 10'000; ++v) h.record(v * 1'000);  // 1 us .. 10 ms
    EXPECT_EQ(h.count(), 10'000u);
    EXPECT_EQ(h.min(), 1'000u);
    EXPECT_EQ(h.max(), 10'000'000u);
    EXPECT_NEAR(h.mean(), 5'000'500.0, 1.0);
    struct { double p; double expected; } cases[] = {{50, 5e6}, {90, 9e6}, {99, 9.9e6}, {99.9, 9.99e6}};
    for (auto c : cases) {
        const double got = static_cast<double>(h.percentile(c.p));
        EXPECT_GE(got, c.expected) << c.p;  // highest equivalent value: never under-reports
        EXPECT_LT(got, c.expected * 1.01) << c.p;
    }
    EXPECT_EQ(h.percentile(100), 10'000'000u);
}

TEST(histogram, percentile_matches_a_sorted_sample) {
    std::mt19937_64 rng(42);
    std::lognormal_distribution<double> dist(13.0, 1.2);  // around 0.4 ms, long tail
    histogram h;
    std::vector<std::uint64_t> sample;
    for (int i = 0; i < 50'000; ++i) {
        const auto v = static_cast<std::uint64_t>(dist(rng));
        sample.push_back(v);
        h.record(v);
    }
    std::sort(sample.begin(), sample.end());
    for (double p : {50.0, 90.0, 99.0, 99.9}) {
        const auto rank = static_cast<std::size_t>(std::ceil(p / 100 * static_cast<double>(sample.size())));
        const double exact = static_cast<double>(sample[rank - 1]);
        const double got = static_cast<double>(h.percentile(p));
        EXPECT_GE(got, exact) << p;
        EXPECT_LE(got, exact * 1.008 + 1) << p;
    }
}

TEST(histogram, a_single_stall_shows_in_the_tail_only) {
    histogram h;
    for (int i = 0; i < 999; ++i) h.record(100'000);  // 100 us
    h.record(2'000'000'000);  // one 2 s stall
    EXPECT_LE(h.percentile(99), 100'800u);
    EXPECT_EQ(h.percentile(99.95), h.percentile(100));
    EXPECT_EQ(h.max(), 2'000'000'000u);
}

TEST(histogram, merge_equals_recording_everything_in_one) {
    histogram a, b, all;
    for (std::uint64_t v = 1; v < 5'000; v += 3) {
        (v % 2 ? a : b).record(v * 977);
        all.record(v * 977);
    }
    histogram merged;
    merged.merge(a);
    merged.merge(b);
    EXPECT_EQ(merged.count(), all.count());
    EXPECT_EQ(merged.min(), all.min());
    EXPECT_EQ(merged.max(), all.max());
    EXPECT_DOUBLE_EQ(merged.mean(), all.mean());
    for (double p : {1.0, 50.0, 90.0, 99.0, 99.9}) EXPECT_EQ(merged.percentile(p), all.percentile(p)) << p;
}

TEST(histogram, empty_and_reset) {
    histogram h;
    EXPECT_EQ(h.percentile(99), 0u);
    EXPECT_EQ(h.min(), 0u);
    EXPECT_EQ(h.mean(), 0.0);
    histogram other;
    h.merge(other);  // merging an empty one keeps it empty
    EXPECT_EQ(h.min(), 0u);
    h.record(5);
    h.record(7);
    EXPECT_EQ(h.min(), 5u);
    h.reset();
    EXPECT_EQ(h.count(), 0u);
    EXPECT_EQ(h.max(), 0u);
    EXPECT_EQ(h.percentile(50), 0u);
    h.record(9);
    EXPECT_EQ(h.min(), 9u);
}

TEST(histogram, summary_carries_every_percentile) {
    histogram h;
    for (std::uint64_t v = 1; v <= 1'000; ++v) h.record(v);
    const auto s = summarize(h);
    EXPECT_EQ(s.count, 1'000u);
    EXPECT_EQ(s.min_ns, 1u);
    EXPECT_EQ(s.max_ns, 1'000u);
    EXPECT_LE(s.p50_ns, s.p90_ns);
    EXPECT_LE(s.p90_ns, s.p99_ns);
    EXPECT_LE(s.p99_ns, s.p999_ns);
    EXPECT_LE(s.p999_ns, s.max_ns);
    EXPECT_GE(s.p50_ns, 500u);
    EXPECT_LE(s.p50_ns, 504u);
}
