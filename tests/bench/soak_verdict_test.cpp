#include "verdict.hpp"

#include <gtest/gtest.h>

using namespace std::chrono_literals;
using catalyst::soak::judge;
using catalyst::soak::run_figures;
using catalyst::soak::thresholds;

namespace {

bool names(const catalyst::soak::verdict& v, const std::string& part) {
    for (const auto& c : v.crossed)
        if (c.find(part) != std::string::npos) return true;
    return false;
}

}  // namespace

TEST(soak_verdict, a_flat_run_passes) {
    run_figures r{10'000, 100, 800ms, {12000, 12800, 12850, 12840, 12852}, {24, 24, 24, 24, 24}};
    auto v = judge(r, thresholds{});
    EXPECT_TRUE(v.crossed.empty()) << v.crossed.front();
    EXPECT_TRUE(v.memory_judged);
}

TEST(soak_verdict, climbing_memory_fails) {
    // + 5 MiB per sample after warm-up: a leak, which must fail the run, not only be printed.
    run_figures r{
        10'000, 0, 10ms, {12000, 12800, 17920, 23040, 28160, 33280}, {24, 24, 24, 24, 24, 24}};
    auto v = judge(r, thresholds{});
    EXPECT_TRUE(names(v, "--max-rss-growth-kib"))
        << (v.crossed.empty() ? "passed" : v.crossed.front());
    // one late burst that falls back is not a leak
    run_figures burst{10'000, 0, 10ms, {12000, 12800, 12810, 30000, 12820}, {24, 24, 24, 24, 24}};
    EXPECT_TRUE(judge(burst, thresholds{}).crossed.empty());
}

TEST(soak_verdict, descriptors_errors_and_latency_fail) {
    run_figures r{900, 100, 6s, {1, 1, 1}, {24, 24, 40}};
    auto v = judge(r, thresholds{0.05, 5s, 8192, 8});
    EXPECT_TRUE(names(v, "--max-fd-growth"));
    EXPECT_TRUE(names(v, "--max-error-rate"));
    EXPECT_TRUE(names(v, "--max-p99"));
    EXPECT_EQ(v.crossed.size(), 3u);
    EXPECT_TRUE(names(judge(run_figures{}, thresholds{}), "no session completed"));
}

TEST(soak_verdict, memory_is_not_judged_on_two_samples) {
    run_figures r{10, 0, 1ms, {1000, 900000}, {1, 1}};
    auto v = judge(r, thresholds{});
    EXPECT_FALSE(v.memory_judged);
    EXPECT_TRUE(v.crossed.empty());
}
