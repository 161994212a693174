#include "core/token_bucket.hpp"

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

// A caller that waits for more than one token before it takes one spreads its takes (the rate
// controller's jitter); the bucket's capacity bounds what it may wait for.
TEST(token_bucket, a_take_may_wait_for_more_than_one_token) {
    const auto t0 = steady_clock::time_point(seconds(10));
    token_bucket b(100, 5, t0);
    while (b.try_take(t0)) {
    }
    EXPECT_EQ(b.wait(t0, 1.5), milliseconds(15));
    EXPECT_FALSE(b.try_take(t0 + milliseconds(10), 1.5));  // one token: not enough
    EXPECT_TRUE(b.try_take(t0 + milliseconds(15), 1.5));   // one and a half: one is taken
    EXPECT_EQ(b.wait(t0 + milliseconds(15), 1.0), milliseconds(5));
    // More than the capacity is read as the capacity.
    EXPECT_EQ(b.wait(t0 + milliseconds(15), 100), b.wait(t0 + milliseconds(15), 5));
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

TEST(token_bucket, fractional_tokens_add_up) {
    const auto t0 = steady_clock::time_point(seconds(10));
    token_bucket b(100, 1, t0);
    ASSERT_TRUE(b.try_take(t0));
    // 3 ms + 3 ms + 4 ms at 100/s: 0.3 + 0.3 + 0.4 tokens make one, not zero.
    EXPECT_FALSE(b.try_take(t0 + milliseconds(3)));
    EXPECT_FALSE(b.try_take(t0 + milliseconds(6)));
    EXPECT_TRUE(b.try_take(t0 + milliseconds(10)));
    // Ten refills of 1 ms: 0.1 token added ten times is 0.9999999999999999 in floating point,
    // which a plain `tokens >= 1` (the sandbox's and the batch pacer's own buckets) missed.
    token_bucket c(100, 1, t0);
    ASSERT_TRUE(c.try_take(t0));
    for (int i = 1; i < 10; ++i) EXPECT_FALSE(c.try_take(t0 + milliseconds(i))) << i;
    EXPECT_TRUE(c.try_take(t0 + milliseconds(10)));
}

TEST(token_bucket, wait_seconds_rounds_up_to_at_least_one) {
    const auto t0 = steady_clock::time_point(seconds(10));
    token_bucket fast(1000, 1, t0);
    ASSERT_TRUE(fast.try_take(t0));
    EXPECT_EQ(fast.wait_seconds(t0), 1u);  // 1 ms away: a Retry-After is whole seconds, at least 1
    token_bucket slow(0.4, 1, t0);
    ASSERT_TRUE(slow.try_take(t0));
    EXPECT_EQ(slow.wait_seconds(t0), 3u);  // 2.5 s
    token_bucket crawl(1e-300, 1, t0);
    ASSERT_TRUE(crawl.try_take(t0));
    EXPECT_EQ(crawl.wait(t0), nanoseconds(1'000'000'000'000'000'000));  // bounded (31 years), no overflow
    EXPECT_EQ(crawl.wait_seconds(t0), 1'000'000'000u);
}

TEST(token_bucket, set_rate_keeps_what_was_earned) {
    const auto t0 = steady_clock::time_point(seconds(10));
    token_bucket b(10, 5, t0);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(b.try_take(t0));
    // 250 ms at 10/s: 2.5 tokens earned, then the rate drops to 1/s.
    b.set_rate(1, t0 + milliseconds(250));
    EXPECT_EQ(b.rate(), 1.0);
    EXPECT_EQ(b.capacity(), 5.0);  // the burst given at construction stays
    const auto t1 = t0 + milliseconds(250);
    EXPECT_TRUE(b.try_take(t1));
    EXPECT_TRUE(b.try_take(t1));
    EXPECT_FALSE(b.try_take(t1));  // half a token left
    EXPECT_EQ(b.wait(t1), milliseconds(500));  // at the new rate
    EXPECT_TRUE(b.try_take(t1 + milliseconds(500)));
}

TEST(token_bucket, set_rate_caps_the_tokens_at_the_new_burst) {
    const auto t0 = steady_clock::time_point(seconds(10));
    token_bucket b(400, 20, t0);  // full: 20
    b.set_rate(200, 10, t0);
    int n = 0;
    while (b.try_take(t0)) ++n;
    EXPECT_EQ(n, 10);
    // A derived burst (0) follows the rate: max(1, rate/10).
    token_bucket d(100, 0, t0);
    EXPECT_EQ(d.capacity(), 10.0);
    d.set_rate(500, t0);
    EXPECT_EQ(d.capacity(), 50.0);
    EXPECT_EQ(d.rate(), 500.0);
}

TEST(token_bucket, a_bucket_switched_on_starts_full) {
    const auto t0 = steady_clock::time_point(seconds(10));
    token_bucket b(0, 3, t0);
    EXPECT_FALSE(b.enabled());
    b.set_rate(1, t0 + seconds(1));
    EXPECT_TRUE(b.enabled());
    int n = 0;
    while (b.try_take(t0 + seconds(1))) ++n;
    EXPECT_EQ(n, 3);
    b.set_rate(0, t0 + seconds(2));  // off again: everything passes
    for (int i = 0; i < 100; ++i) EXPECT_TRUE(b.try_take(t0 + seconds(2)));
}

TEST(token_bucket, a_skipped_spell_earns_nothing) {
    const auto t0 = steady_clock::time_point(seconds(10));
    token_bucket b(100, 5, t0);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(b.try_take(t0));
    b.skip(t0 + seconds(1));  // paused for a second: no token for it
    EXPECT_FALSE(b.try_take(t0 + seconds(1)));
    EXPECT_EQ(b.wait(t0 + seconds(1)), milliseconds(10));
    EXPECT_TRUE(b.try_take(t0 + seconds(1) + milliseconds(10)));
    b.skip(t0);  // the past changes nothing
    EXPECT_FALSE(b.try_take(t0 + seconds(1) + milliseconds(10)));
}

TEST(token_bucket, reset_sets_the_tokens_from_then_on) {
    const auto t0 = steady_clock::time_point(seconds(10));
    token_bucket b(100, 5, t0);
    b.reset(1, t0 + seconds(3));  // full before: one token after, whatever was earned
    EXPECT_TRUE(b.try_take(t0 + seconds(3)));
    EXPECT_FALSE(b.try_take(t0 + seconds(3)));
    b.reset(50, t0 + seconds(4));  // never above the capacity
    int n = 0;
    while (b.try_take(t0 + seconds(4))) ++n;
    EXPECT_EQ(n, 5);
}
