#include "client/token_bucket.hpp"

#include <gtest/gtest.h>

using catalyst::detail::token_bucket;
using namespace std::chrono;

TEST(token_bucket, off_by_default) {
    const auto t0 = steady_clock::time_point(seconds(10));
    token_bucket b(0, 0, t0);
    for (int i = 0; i < 1000; ++i) EXPECT_TRUE(b.try_take(t0));
    EXPECT_EQ(b.wait(t0), nanoseconds(0));
}

TEST(token_bucket, burst_then_rate) {
    const auto t0 = steady_clock::time_point(seconds(10));
    token_bucket b(100, 5, t0);  // 100/s, burst 5
    for (int i = 0; i < 5; ++i) EXPECT_TRUE(b.try_take(t0)) << i;
    EXPECT_FALSE(b.try_take(t0));
    EXPECT_EQ(b.wait(t0), milliseconds(10));
    EXPECT_FALSE(b.try_take(t0 + milliseconds(9)));
    EXPECT_TRUE(b.try_take(t0 + milliseconds(10)));
    // A long pause refills only up to the burst.
    const auto later = t0 + seconds(60);
    int taken = 0;
    while (b.try_take(later)) ++taken;
    EXPECT_EQ(taken, 5);
}

TEST(token_bucket, default_burst_is_a_tenth_of_the_rate_at_least_one) {
    const auto t0 = steady_clock::time_point(seconds(10));
    token_bucket big(1000, 0, t0);
    int n = 0;
    while (big.try_take(t0)) ++n;
    EXPECT_EQ(n, 100);
    token_bucket small(2, 0, t0);
    EXPECT_TRUE(small.try_take(t0));
    EXPECT_FALSE(small.try_take(t0));
    EXPECT_EQ(small.wait(t0), milliseconds(500));
}
