#include "batch/pacer.hpp"
#include "batch/stats.hpp"

#include <gtest/gtest.h>

namespace catalyst::batch {
namespace {

using namespace std::chrono_literals;

TEST(pacer, unpaced_never_waits) {
    pacer p;
    const auto t = pacer::clock::time_point{};
    for (int i = 0; i < 1000; ++i) EXPECT_EQ(p.try_acquire(t), pacer::clock::duration::zero());
}

TEST(pacer, allows_rate_per_second) {
    pacer p(10, 1);
    auto t = pacer::clock::time_point{} + 1h;
    int started = 0;
    // Ten simulated seconds in 1 ms steps.
    for (int ms = 0; ms < 10'000; ++ms) {
        while (p.try_acquire(t) == pacer::clock::duration::zero()) ++started;
        t += 1ms;
    }
    EXPECT_GE(started, 100);
    EXPECT_LE(started, 101);
}

TEST(pacer, wait_is_time_to_next_token) {
    pacer p(4, 1);
    auto t = pacer::clock::time_point{} + 1h;
    EXPECT_EQ(p.try_acquire(t), pacer::clock::duration::zero());
    const auto w = p.try_acquire(t);
    EXPECT_GT(w, 240ms);
    EXPECT_LE(w, 250ms);
    EXPECT_EQ(p.try_acquire(t + 250ms), pacer::clock::duration::zero());
}

TEST(histogram, quantiles) {
    latency_histogram h;
    EXPECT_EQ(h.quantile(0.5), 0u);
    for (std::uint64_t i = 1; i <= 100; ++i) h.add(i);
    EXPECT_EQ(h.quantile(0.5), 50u);
    EXPECT_EQ(h.quantile(0.99), 99u);
    h.add(25'000);
    EXPECT_EQ(h.quantile(1.0), 25'000u);
}

TEST(stats, counts_outcomes_and_formats) {
    run_stats s;
    result_record ok;
    ok.ok = true;
    ok.attempts = 1;
    ok.latency_ms = 10;
    s.add(ok);
    ok.replayed = true;
    s.add(ok);
    ok.replayed = false;
    ok.reused = true;
    s.add(ok);
    result_record bad;
    bad.error = "timeout";
    s.add(bad);
    s.add(bad);
    EXPECT_EQ(s.created, 1u);
    EXPECT_EQ(s.replayed, 1u);
    EXPECT_EQ(s.reused, 1u);
    EXPECT_EQ(s.failed, 2u);
    EXPECT_EQ(s.done(), 5u);
    const auto summary = format_summary(s, 2000ms, false);
    EXPECT_NE(summary.find("created 1"), std::string::npos) << summary;
    EXPECT_NE(summary.find("failed timeout: 2"), std::string::npos) << summary;
    EXPECT_NE(summary.find("p50 10 ms"), std::string::npos) << summary;
    const auto line = format_progress(s, 1000ms, 10, std::nullopt, true);
    EXPECT_NE(line.find("5/10 lines"), std::string::npos) << line;
    EXPECT_NE(line.find("50%"), std::string::npos) << line;
    EXPECT_NE(line.find("ETA 1s"), std::string::npos) << line;
    EXPECT_NE(line.find("errors 2"), std::string::npos) << line;
    EXPECT_EQ(line.front(), '[');
    // Adaptive mode: the client's allowed rate, in both.
    EXPECT_EQ(line.find("allowed"), std::string::npos) << line;
    EXPECT_EQ(summary.find("adaptive rate"), std::string::npos) << summary;
    s.allowed_rate = 287.4;
    EXPECT_NE(format_progress(s, 1000ms, 10, std::nullopt, false).find(", allowed 287/s"), std::string::npos);
    EXPECT_NE(format_summary(s, 2000ms, false).find("adaptive rate: 287 requests/s allowed at the end"),
              std::string::npos);
}

}  // namespace
}  // namespace catalyst::batch
