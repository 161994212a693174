#include "schedule.hpp"

#include <gtest/gtest.h>

using namespace std::chrono_literals;
using catalyst::bench::closed_loop_plan;
using catalyst::bench::nanos;
using catalyst::bench::open_loop_schedule;

TEST(open_loop_schedule, intended_times_are_evenly_spaced_from_zero) {
    open_loop_schedule s(1000);  // one per millisecond
    EXPECT_EQ(s.intended(0), 0ns);
    EXPECT_EQ(s.intended(1), 1ms);
    EXPECT_EQ(s.intended(1000), 1s);
    open_loop_schedule odd(3);  // 333.33 ms apart: no drift over many periods
    EXPECT_EQ(odd.intended(3'000'000), std::chrono::seconds(1'000'000));
}

TEST(open_loop_schedule, due_counts_the_requests_whose_time_has_come) {
    open_loop_schedule s(1000);
    EXPECT_EQ(s.due_by(-1ns), 0u);
    EXPECT_EQ(s.due_by(0ns), 1u);  // request 0 leaves at once
    EXPECT_EQ(s.due_by(999us), 1u);
    EXPECT_EQ(s.due_by(1ms), 2u);
    EXPECT_EQ(s.due_by(10ms + 500us), 11u);
    // a stall of 50 ms makes 50 requests due at once: they are not skipped
    EXPECT_EQ(s.due_by(60ms) - s.due_by(10ms), 50u);
}

TEST(open_loop_schedule, due_agrees_with_intended_at_every_boundary) {
    for (double rate : {1.0, 3.0, 7.0, 1000.0, 33333.0, 250000.0}) {
        open_loop_schedule s(rate);
        for (std::uint64_t i = 0; i < 2000; i += 7) {
            const auto t = s.intended(i);
            EXPECT_EQ(s.due_by(t), i + 1) << rate << " " << i;
            if (t > 0ns) {
                EXPECT_EQ(s.due_by(t - 1ns), i) << rate << " " << i;
            }
        }
    }
}

TEST(open_loop_schedule, duration_and_limit_bound_the_run) {
    open_loop_schedule s(1000);
    EXPECT_EQ(s.due_before(1s), 1000u);  // 0 .. 999 ms
    EXPECT_EQ(s.due_before(0ns), 0u);
    open_loop_schedule limited(1000, 10);
    EXPECT_EQ(limited.due_by(1s), 10u);
    EXPECT_EQ(limited.due_before(1s), 10u);
}

TEST(open_loop_schedule, a_non_positive_rate_does_not_divide_by_zero) {
    open_loop_schedule s(0);
    EXPECT_EQ(s.rate(), 1.0);
    EXPECT_EQ(s.intended(2), 2s);
}

TEST(closed_loop_plan, stops_on_count_or_time) {
    closed_loop_plan by_count{3, 0ns};
    EXPECT_TRUE(by_count.may_start(0, 100s));
    EXPECT_TRUE(by_count.may_start(2, 100s));
    EXPECT_FALSE(by_count.may_start(3, 0s));

    closed_loop_plan by_time{0, 5s};
    EXPECT_TRUE(by_time.may_start(1'000'000, 4999ms));
    EXPECT_FALSE(by_time.may_start(0, 5s));

    closed_loop_plan both{10, 5s};
    EXPECT_FALSE(both.may_start(10, 1s));
    EXPECT_FALSE(both.may_start(1, 6s));
    EXPECT_TRUE(both.may_start(9, 4s));
}
