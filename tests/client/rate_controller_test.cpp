// Each rule of the adaptive rate controller on its own, with a fake clock. The simulation
// (rate_controller_sim_test.cpp) shows them working together against a rate-limited server.
#include "client/rate_controller.hpp"
#include "support/fake_clock.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <tuple>
#include <vector>

namespace {

using catalyst::rate_decision;
using catalyst::rate_params;
using catalyst::detail::rate_controller;
using namespace std::chrono_literals;
using verdict = rate_controller::verdict;
using time_point = rate_controller::time_point;

using catalyst::test::t0;

rate_params adaptive(double initial = 10) {
    rate_params p;
    p.mode = catalyst::rate_mode::adaptive;
    p.initial_rate = initial;
    return p;
}

// Takes every slot available at `t`; returns how many were given.
int drain(rate_controller& c, time_point t, double u = 0.99) {
    int n = 0;
    for (int i = 0; i < 100'000 && c.try_acquire(t, u).what == verdict::send; ++i) ++n;
    return n;
}

// Sends at the allowed rate for `d` (a slot whenever one is free), answering each call
// `rtt` later as accepted. Returns the time reached.
time_point run_accepted(rate_controller& c, time_point from, std::chrono::nanoseconds d,
                        std::chrono::nanoseconds rtt = 10ms) {
    std::vector<time_point> in_flight;
    time_point t = from;
    for (int step = 0; step < 1'000'000 && t < from + d; ++step) {
        while (!in_flight.empty() && in_flight.front() + rtt <= t) {
            c.on_accepted(in_flight.front(), in_flight.front() + rtt);
            in_flight.erase(in_flight.begin());
        }
        while (c.try_acquire(t, 0.99).what == verdict::send) in_flight.push_back(t);
        t = std::min(c.next_slot(t), in_flight.empty() ? c.next_slot(t) : in_flight.front() + rtt);
        if (t <= from) t = from + 1ns;
    }
    return t;
}

// Throttles of a call sent before the last cut: the same episode, ignored by the rate, but
// counted in the client's share of 429s. 20 of them hold that share above 0.6 % of the last
// 2000 answers or so, where a cut has no lasting part (rate_controller.cpp, lasting_first):
// the tests below that look at the cubic and the equal climb as such use it.
void many_429s(rate_controller& c, time_point at) {
    for (int i = 0; i < 20; ++i)
        EXPECT_EQ(c.on_throttled(t0, at, std::nullopt, 0.5).decision,
                  rate_decision::throttle_ignored);
}

TEST(rate_controller, starts_in_slow_start_at_the_initial_rate_with_a_small_burst) {
    rate_controller c(adaptive(100), t0);
    EXPECT_EQ(c.current_phase(), rate_controller::phase::slow_start);
    EXPECT_EQ(c.allowed_rate(), 100);
    EXPECT_EQ(drain(c, t0), 5);  // 50 ms of the rate
    EXPECT_EQ(c.next_slot(t0), t0 + 10ms);
    EXPECT_EQ(c.try_acquire(t0 + 9ms, 0.99).what, verdict::wait);
    EXPECT_EQ(c.try_acquire(t0 + 10ms, 0.99).what, verdict::send);
    EXPECT_EQ(c.counts().sent, 6u);
    EXPECT_GE(c.counts().waits, 2u);
}

TEST(rate_controller, slow_start_doubles_at_most_every_100_ms_however_short_the_round_trip) {
    rate_controller c(adaptive(10), t0);
    // A loopback: answers 100 us after the send, for 1 s.
    run_accepted(c, t0, 1s, 100us);
    // 10 steps of 100 ms at most: 10 * 2^10, not 10 * 2^10000.
    EXPECT_LE(c.counts().increases, 10u);
    EXPECT_GE(c.counts().increases, 5u);
    EXPECT_LE(c.allowed_rate(), 10 * std::exp2(10));
}

TEST(rate_controller, slow_start_doubles_once_per_round_trip_when_the_round_trip_is_long) {
    rate_controller c(adaptive(10), t0);
    // 300 ms round trips: an answer to a call sent at the current rate comes every 300 ms.
    run_accepted(c, t0, 3s, 300ms);
    EXPECT_LE(c.counts().increases, 10u);  // 3 s / 300 ms
    EXPECT_GE(c.counts().increases, 5u);
}

TEST(rate_controller, an_answer_to_a_call_sent_before_the_last_doubling_does_not_double_again) {
    rate_controller c(adaptive(100), t0);
    const auto early = t0;
    ASSERT_EQ(c.try_acquire(early, 0.99).what, verdict::send);
    drain(c, t0);
    for (auto t = t0; t < t0 + 150ms; t += 10ms) drain(c, t);
    ASSERT_TRUE(c.on_accepted(t0 + 140ms, t0 + 150ms));  // one round trip at this rate: doubles
    EXPECT_EQ(c.allowed_rate(), 200);
    for (auto t = t0 + 150ms; t < t0 + 400ms; t += 5ms) drain(c, t);
    // Old news: sent before the doubling (even if it arrives 250 ms later).
    EXPECT_FALSE(c.on_accepted(early, t0 + 400ms));
    EXPECT_EQ(c.allowed_rate(), 200);
    EXPECT_TRUE(c.on_accepted(t0 + 390ms, t0 + 400ms));
    EXPECT_EQ(c.allowed_rate(), 400);
}

TEST(rate_controller, slow_start_does_not_double_a_rate_the_caller_does_not_use) {
    rate_controller c(adaptive(100), t0);
    // One call every 100 ms against an allowed 100/s: a tenth of it.
    for (int i = 0; i < 30; ++i) {
        const auto t = t0 + i * 100ms;
        ASSERT_EQ(c.try_acquire(t, 0.99).what, verdict::send);
        EXPECT_FALSE(c.on_accepted(t, t + 10ms));
    }
    EXPECT_EQ(c.allowed_rate(), 100);
    EXPECT_EQ(c.counts().increases, 0u);
}

TEST(rate_controller,
     a_throttle_cuts_to_0_7_of_the_rate_the_call_was_sent_at_and_leaves_slow_start) {
    rate_controller c(adaptive(100), t0);
    const auto end = run_accepted(c, t0, 450ms);
    const double before = c.allowed_rate();
    ASSERT_GT(before, 100);
    const auto e = c.on_throttled(end, end, std::nullopt, 0.5);
    EXPECT_EQ(e.decision, rate_decision::decrease);
    EXPECT_EQ(e.rate_before, before);
    EXPECT_DOUBLE_EQ(e.rate_after, 0.7 * before);
    EXPECT_EQ(c.allowed_rate(), e.rate_after);
    EXPECT_EQ(c.current_phase(), rate_controller::phase::cubic);
    EXPECT_EQ(c.counts().decreases, 1u);
}

TEST(rate_controller, one_cut_per_round_trip_throttles_of_calls_sent_before_the_cut_are_ignored) {
    rate_controller c(adaptive(400), t0);
    for (auto t = t0; t < t0 + 50ms; t += 1ms) drain(c, t);
    const auto cut_at = t0 + 60ms;
    EXPECT_EQ(c.on_throttled(t0 + 40ms, cut_at, std::nullopt, 0.5).decision,
              rate_decision::decrease);
    const double after_cut = c.allowed_rate();
    // 20 more 429s, all for calls sent before the cut: no second cut.
    for (int i = 0; i < 20; ++i) {
        const auto e =
            c.on_throttled(t0 + 40ms + i * 1ms, cut_at + 1ms + i * 1ms, std::nullopt, 0.5);
        EXPECT_EQ(e.decision, rate_decision::throttle_ignored) << i;
    }
    // The rate has only climbed since the cut (the slow start's end: the equal climb, twice
    // the cubic's slope at the cut, 2 x 3 C K^2 = 184/s per s at W_max = 400, for 21 ms).
    EXPECT_GE(c.allowed_rate(), after_cut);
    EXPECT_LE(c.allowed_rate(), after_cut + 184 * 0.021 + 0.1);
    EXPECT_EQ(c.counts().ignored_throttles, 20u);
    EXPECT_EQ(c.counts().decreases, 1u);
    // A call sent 50 ms or more after the cut and throttled: a second cut.
    drain(c, cut_at + 50ms);
    EXPECT_EQ(c.on_throttled(cut_at + 50ms, cut_at + 60ms, std::nullopt, 0.5).decision,
              rate_decision::decrease);
    EXPECT_EQ(c.counts().decreases, 2u);
    EXPECT_LT(c.allowed_rate(), after_cut * 0.75);
}

// Answers overtake each other: a call sent just after a cut can meet the server's bucket
// still emptied by the calls sent before it. Its throttle is the same episode.
TEST(rate_controller,
     a_throttle_of_a_call_sent_within_one_p99_latency_after_the_cut_is_the_same_episode) {
    rate_controller c(adaptive(400), t0);
    const auto t = run_accepted(c, t0, 500ms, 80ms);  // p99 latency: 80 ms
    drain(c, t);
    EXPECT_EQ(c.on_throttled(t - 5ms, t, std::nullopt, 0.5).decision, rate_decision::decrease);
    EXPECT_EQ(c.on_throttled(t + 70ms, t + 150ms, std::nullopt, 0.5).decision,
              rate_decision::throttle_ignored);
    EXPECT_EQ(c.counts().decreases, 1u);
    // Sent later than one p99 latency after the cut: a cut of its own.
    drain(c, t + 100ms);
    EXPECT_EQ(c.on_throttled(t + 100ms, t + 180ms, std::nullopt, 0.5).decision,
              rate_decision::decrease);
    EXPECT_EQ(c.counts().decreases, 2u);
}

TEST(rate_controller, after_a_cut_the_rate_climbs_back_along_the_cubic_to_its_old_level_at_k) {
    rate_params p = adaptive(400);
    p.max_rate = 2000;
    rate_controller c(p, t0);
    auto t = run_accepted(c, t0, 150ms);
    c.on_throttled(t, t, std::nullopt, 0.5);  // the slow start's end
    // 11 s later (past the equal climb's memory of the slow start's end), the last 2 s at
    // 1000/s under an allowed 2000: the cut's W_max is the measured 1000, and the curve has
    // room to grow past it.
    t = run_accepted(c, t, 9s);
    for (const auto end = t + 2s; t < end; t += 1ms)
        if (c.try_acquire(t, 0.99).what == verdict::send) c.on_accepted(t, t);
    many_429s(c, t);
    const auto cut = t;
    // The climb since the slow start's end was the equal climb: the first throttle is a first
    // stage (0.9), a second one at once makes the cut whole (rate_controller.cpp, first_cut).
    c.on_throttled(cut, cut, std::nullopt, 0.5);
    const auto e = c.on_throttled(cut, cut, std::nullopt, 0.5);
    EXPECT_NEAR(e.rate_after, 0.7 * 1000, 0.7 * 1000 * 0.05);
    const double w_max = e.rate_after / 0.7;
    const double k = std::cbrt(w_max * 0.3 / 2.0);  // C = 2 (rate_controller.cpp)
    // Keep sending at the allowed rate so that the 2x-measured bound does not hold it.
    const auto at_k = run_accepted(
        c, cut,
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(k)));
    c.try_acquire(at_k, 0.99);
    EXPECT_NEAR(c.allowed_rate(), w_max, w_max * 0.02);
    // Past K it grows beyond (probing for more).
    const auto later = run_accepted(c, at_k, 4s);
    c.try_acquire(later, 0.99);
    EXPECT_GT(c.allowed_rate(), w_max * 1.01);
}

TEST(rate_controller, the_rate_never_leaves_min_and_max) {
    auto p = adaptive(10);
    p.min_rate = 2;
    p.max_rate = 40;
    rate_controller c(p, t0);
    run_accepted(c, t0, 3s);
    EXPECT_EQ(c.allowed_rate(), 40);
    auto t = t0 + 3s;
    for (int i = 0; i < 30; ++i, t += 100ms) {
        drain(c, t);
        c.on_throttled(t, t + 1ms, std::nullopt, 0.5);
    }
    EXPECT_EQ(c.allowed_rate(), 2);
}

TEST(rate_controller, retry_after_pauses_every_call_until_then_plus_jitter) {
    rate_controller c(adaptive(1000), t0);
    drain(c, t0);
    const auto e = c.on_throttled(t0, t0 + 10ms, 2000ms, 0.5);
    // 2 s and half of the jitter's 200 ms (10 % of 2 s).
    const auto end = t0 + 10ms + 2100ms;
    EXPECT_EQ(c.pause_end(), end);
    EXPECT_EQ(e.pause, 2100ms);
    EXPECT_FALSE(e.retry_after_capped);
    for (auto t = t0 + 10ms; t < end; t += 50ms)
        EXPECT_EQ(c.try_acquire(t, 0.99).what, verdict::wait);
    EXPECT_EQ(c.next_slot(t0 + 20ms), end);
    // One call at the end, then the rate: not a burst of what the bucket would have earned.
    EXPECT_EQ(drain(c, end), 1);
    EXPECT_EQ(c.counts().pauses, 1u);
}

// "Retry-After: 1", the shortest a server can say, on the throttle of an occasional crossing:
// the cut answers it, the origin goes on (the call that got it waits its own second). Cuts
// that come in a row mean cutting is not enough: the third one pauses every call.
TEST(rate_controller, a_short_retry_after_pauses_the_origin_only_when_cuts_do_not_help) {
    rate_controller c(adaptive(400), t0);
    auto t = t0 + 10s;
    drain(c, t);
    auto e = c.on_throttled(t, t + 5ms, 1000ms, 0.5);
    EXPECT_EQ(e.decision, rate_decision::decrease);
    EXPECT_EQ(e.pause, 0ms);
    EXPECT_LT(c.pause_end(), t + 5ms);
    // Later (not in a row): again only a cut.
    t += 5s;
    e = c.on_throttled(t, t + 5ms, 1000ms, 0.5);
    EXPECT_EQ(e.pause, 0ms);
    // Two more within the window, each sent 50 ms or more after the cut before it (a cut's
    // episode): the second of them is the third cut in a row and pauses the origin.
    e = c.on_throttled(t + 60ms, t + 70ms, 1000ms, 0.5);
    EXPECT_EQ(e.decision, rate_decision::decrease);
    EXPECT_EQ(e.pause, 0ms);
    e = c.on_throttled(t + 130ms, t + 140ms, 1000ms, 0.0);
    EXPECT_EQ(e.decision, rate_decision::decrease);
    EXPECT_EQ(e.pause, 1000ms);
    EXPECT_EQ(c.try_acquire(t + 500ms, 0.99).what, verdict::wait);
    // A longer Retry-After pauses at once, alone.
    rate_controller d(adaptive(400), t0);
    EXPECT_EQ(d.on_throttled(t0, t0 + 5ms, 2000ms, 0.0).pause, 2000ms);
}

// Throttled again after growing back is a probe's answer (another client took the room the
// cut left), not "cutting does not help": no pause, however short the spell.
TEST(rate_controller, cuts_after_growing_back_are_not_in_a_row) {
    rate_controller c(adaptive(400), t0);
    auto t = t0 + 10s;
    drain(c, t);
    for (int i = 0; i < 4; ++i) {
        const double left = c.on_throttled(t, t + 5ms, 1000ms, 0.5).rate_after;
        t = run_accepted(c, t + 5ms, 400ms);  // the curve climbs back more than 10 % meanwhile
        ASSERT_GT(c.allowed_rate(), 1.1 * left) << i;
        drain(c, t);
    }
    EXPECT_EQ(c.counts().decreases, 4u);
    EXPECT_EQ(c.counts().pauses, 0u);
}

// The equal climb of clients that share a limit (rate_controller.cpp, additive_climb): after a
// sign of another client, for 10 s, the rate climbs at least 60/s each second from where a cut
// left it, not only back along the cubic to its plateau.
struct climb_after_cut {
    double peak;     ///< the rate when the cut came
    double left;     ///< what the cut left
    double climbed;  ///< the rate `climb` after the cut
};

// Sends at the allowed rate for `before_cut`, then one throttle (a cut) and a second one at
// once, then sends for `climb`. `t` moves on to the end. The second throttle makes a first-stage
// cut whole (rate_controller.cpp, first_cut) and is the same episode as a whole one: the cut
// leaves 0.7 x W_max either way.
climb_after_cut cut_then_climb(rate_controller& c, time_point& t,
                               std::chrono::nanoseconds before_cut,
                               std::chrono::nanoseconds climb = 3s) {
    t = run_accepted(c, t, before_cut);
    // Only after a cut (the throttles must be of its episode) and past the 250 ms in which a
    // throttle would complete a first-stage cut (rate_controller.cpp, first_cut).
    if (before_cut > 250ms && c.counts().decreases > 0) many_429s(c, t);
    drain(c, t);
    const double peak = c.allowed_rate();
    EXPECT_EQ(c.on_throttled(t, t + 5ms, std::nullopt, 0.5).decision, rate_decision::decrease);
    const auto e = c.on_throttled(t, t + 5ms, std::nullopt, 0.5);
    if (e.decision == rate_decision::throttle_ignored) {
        EXPECT_EQ(e.rate_after, e.rate_before);
    }
    t += 5ms;
    t = run_accepted(c, t, climb);
    c.try_acquire(t, 0.99);
    return {peak, e.rate_after, c.allowed_rate()};
}

// The slow start's end, then a cut 11 s later, past the memory (a client alone, its cut at
// its peak; the max rate holds the curve at 200). Returns the time of that cut.
time_point alone_at_its_peak(rate_controller& c) {
    auto t = t0 + 10s;
    drain(c, t);
    c.on_throttled(t, t + 5ms, std::nullopt, 0.5);  // the slow start's end
    t += 5ms;
    const auto cut = cut_then_climb(c, t, 11s, 0s);
    EXPECT_GE(cut.peak, 0.98 * 200);
    return t;
}

rate_params adaptive_up_to_200() {
    rate_params p = adaptive(200);
    p.max_rate = 200;
    return p;
}

// Where the cubic alone is `s` seconds after the cut: W(t) = C (t - K)^3 + W_max, C = 2.
double cubic_after(const climb_after_cut& x, double s) {
    const double w_max = x.left / 0.7;
    const double k = std::cbrt(w_max * 0.3 / 2.0);
    return 2.0 * std::pow(s - k, 3) + w_max;
}

// 1 s after the cut (below 200/s, the climb is well apart from the cubic there).
void expect_cubic_alone(const climb_after_cut& x) {
    EXPECT_NEAR(x.climbed, cubic_after(x, 1), x.left * 0.03);
}

void expect_additive(const climb_after_cut& x) {
    EXPECT_GE(x.climbed, x.left + 60 * 0.98);
    EXPECT_GT(x.climbed, cubic_after(x, 1) + 10);
}

TEST(rate_controller, a_cut_below_the_last_peak_climbs_back_by_at_least_60_per_s_each_second) {
    rate_controller c(adaptive_up_to_200(), t0);
    auto t = alone_at_its_peak(c);
    // 400 ms after the last cut the rate has grown back past 1.1 x what it left (not in a
    // row) and is still below that cut's peak: another client took the room.
    const auto below = cut_then_climb(c, t, 400ms, 1s);
    EXPECT_LT(below.peak, 0.98 * 200);
    expect_additive(below);
}

TEST(rate_controller, a_cut_at_the_peak_long_after_any_sign_of_another_client_keeps_the_cubic) {
    rate_controller c(adaptive_up_to_200(), t0);
    auto t = alone_at_its_peak(c);
    // 5 s after, past K: the rate is at the peak, and the last sign (the slow start's end) is
    // 16 s old.
    const auto at_peak = cut_then_climb(c, t, 5s, 1s);
    EXPECT_GE(at_peak.peak, 0.98 * 200);
    expect_cubic_alone(at_peak);
}

// The first cut after the slow start's end is read as any other: 11 s later, past the memory
// of that sign, it climbs along the cubic alone.
TEST(rate_controller, the_first_cut_after_the_slow_start_past_the_memory_keeps_the_cubic) {
    rate_controller c(adaptive_up_to_200(), t0);
    auto t = t0 + 10s;
    drain(c, t);
    c.on_throttled(t, t + 5ms, std::nullopt, 0.5);  // the slow start's end
    t += 5ms;
    const auto first = cut_then_climb(c, t, 11s, 1s);
    EXPECT_GE(first.peak, 0.98 * 200);
    EXPECT_EQ(c.counts().decreases, 3u);  // the slow start's end, a first stage, made whole
    expect_cubic_alone(first);
}

// Both clients sit on their plateaus, cut at them: nothing below a peak shows the other, and
// the equal climb follows every cut within 10 s of the last sign of it.
TEST(rate_controller, the_equal_climb_lasts_10_s_after_the_last_cut_below_a_peak) {
    rate_controller c(adaptive_up_to_200(), t0);
    auto t = alone_at_its_peak(c);
    const auto below = cut_then_climb(c, t, 400ms, 2s);  // a sign, 2 s before `t`
    EXPECT_LT(below.peak, 0.98 * 200);
    const auto soon = cut_then_climb(c, t, 3s, 1s);  // at the peak 5 s after the sign
    EXPECT_GE(soon.peak, 0.98 * 200);
    expect_additive(soon);
    const auto late = cut_then_climb(c, t, 8s, 1s);  // at the peak 14 s after it
    EXPECT_GE(late.peak, 0.98 * 200);
    expect_cubic_alone(late);
}

// With few 429s (rate_controller.cpp, lasting_first) a cut also lowers W_max for good (to
// 0.95 of the rate it cut from for a first stage, all of it at a share of 429s under 0.2 %,
// in part up to 0.6 %), cuts less deep (0.9 to 0.95 for a first stage), and turns the equal
// climb on even for a client alone: AIMD, whose lasting cuts even out two clients' shares.
// With many 429s the same cut is the cubic's: 0.9, made whole at 0.7, then the plateau.
TEST(rate_controller, with_few_429s_a_cut_lasts_in_part_and_the_equal_climb_is_on) {
    for (const bool few : {true, false}) {
        rate_controller c(adaptive_up_to_200(), t0);
        auto t = t0 + 10s;
        drain(c, t);
        c.on_throttled(t, t + 5ms, std::nullopt, 0.5);  // the slow start's end
        t += 5ms;
        // 11 s at 200/s, past the memory of the slow start's end: 2200 answers, the share of
        // 429s falls from 0.6 % to about 0.2 %.
        t = run_accepted(c, t, 11s);
        if (!few) many_429s(c, t);
        drain(c, t);
        const auto first = c.on_throttled(t, t + 5ms, std::nullopt, 0.5);
        const double base = std::min(first.measured_rate, first.rate_before);
        const auto whole = c.on_throttled(t, t + 5ms, std::nullopt, 0.5);
        EXPECT_EQ(whole.decision, rate_decision::decrease);
        EXPECT_NEAR(whole.rate_after, 0.7 * base, 1e-6 * base);
        t += 5ms;
        t = run_accepted(c, t, 1s);
        c.try_acquire(t, 0.99);
        const climb_after_cut x{base, whole.rate_after, c.allowed_rate()};
        if (few) {
            EXPECT_GT(first.rate_after, 0.91 * base);
            EXPECT_LE(first.rate_after, 0.95 * base + 1e-6);
            expect_additive(x);
        } else {
            EXPECT_NEAR(first.rate_after, 0.9 * base, 1e-6 * base);
            expect_cubic_alone(x);
        }
    }
}

// Clients sharing a limit leave the slow start together, their shares set by which doubled
// last: its end is a sign of them.
TEST(rate_controller, the_equal_climb_follows_the_slow_starts_end) {
    rate_controller c(adaptive_up_to_200(), t0);
    auto t = t0 + 10s;
    drain(c, t);
    expect_additive(cut_then_climb(c, t, 0s, 1s));  // the slow start's end
    // At the peak, 6 s after the slow start's end.
    const auto at_peak = cut_then_climb(c, t, 5s, 1s);
    EXPECT_GE(at_peak.peak, 0.98 * 200);
    expect_additive(at_peak);
}

// The server's bucket stays empty until every client sharing it has cut: a throttle of a call
// sent within 50 ms after a cut is that cut's episode, however short the round trip.
TEST(rate_controller, a_cut_is_one_episode_for_50_ms_at_least) {
    rate_controller c(adaptive(400), t0);
    const auto t = run_accepted(c, t0, 500ms, 5ms);  // p99 latency: 5 ms
    drain(c, t);
    EXPECT_EQ(c.on_throttled(t - 2ms, t, std::nullopt, 0.5).decision, rate_decision::decrease);
    drain(c, t + 30ms);
    EXPECT_EQ(c.on_throttled(t + 30ms, t + 35ms, std::nullopt, 0.5).decision,
              rate_decision::throttle_ignored);
    drain(c, t + 45ms);
    EXPECT_EQ(c.on_throttled(t + 45ms, t + 50ms, std::nullopt, 0.5).decision,
              rate_decision::throttle_ignored);
    EXPECT_EQ(c.counts().decreases, 1u);
    drain(c, t + 55ms);
    EXPECT_EQ(c.on_throttled(t + 55ms, t + 60ms, std::nullopt, 0.5).decision,
              rate_decision::decrease);
    EXPECT_EQ(c.counts().decreases, 2u);
}

// While the rate climbs equally, a cut comes in two stages (rate_controller.cpp, first_cut):
// the first throttle cuts to 0.9 x W_max, and a second one within 250 ms, of any call, makes
// the cut whole, 0.7 x the same W_max. A client that sends more into an overload meets it
// twice more often. After the window, a throttle of a call sent in the cut's episode is
// ignored as before; with no acceptance since the last cut (a dead API) a cut is whole at once.
TEST(rate_controller, in_the_equal_climb_a_second_throttle_within_250_ms_makes_a_cut_whole) {
    for (const bool second : {true, false}) {
        rate_controller c(adaptive_up_to_200(), t0);
        auto t = t0 + 10s;
        drain(c, t);
        c.on_throttled(t, t + 5ms, std::nullopt, 0.5);  // the slow start's end: a sign
        t = run_accepted(c, t + 5ms, 1s);
        many_429s(c, t);
        drain(c, t);
        const auto first = c.on_throttled(t, t + 5ms, std::nullopt, 0.5);
        const double w_max = std::min(first.measured_rate, first.rate_before);
        EXPECT_EQ(first.decision, rate_decision::decrease);
        EXPECT_NEAR(first.rate_after, 0.9 * w_max, 1e-9);
        if (second) {
            const auto e = c.on_throttled(t + 100ms, t + 200ms, std::nullopt, 0.5);
            EXPECT_EQ(e.decision, rate_decision::decrease);
            EXPECT_NEAR(e.rate_after, 0.7 * w_max, 1e-9);
            EXPECT_EQ(c.counts().decreases, 3u);
        } else {
            const auto e = c.on_throttled(t + 10ms, t + 300ms, std::nullopt, 0.5);
            EXPECT_EQ(e.decision, rate_decision::throttle_ignored);
            EXPECT_GE(c.allowed_rate(), first.rate_after);
            EXPECT_EQ(c.counts().decreases, 2u);
        }
    }
    // Nothing accepted since the slow start's end: the next cut is whole.
    rate_controller c(adaptive_up_to_200(), t0);
    auto t = t0 + 10s;
    drain(c, t);
    c.on_throttled(t, t + 5ms, std::nullopt, 0.5);
    t += 1s;
    drain(c, t);
    const auto e = c.on_throttled(t, t + 5ms, std::nullopt, 0.5);
    EXPECT_EQ(e.decision, rate_decision::decrease);
    EXPECT_NEAR(e.rate_after, 0.7 * std::min(e.measured_rate, e.rate_before), 1e-9);
}

// At 1000/s the cubic leaves a cut at 3 C K^2 = 170/s per s and is back at W_max by K = 5.3 s,
// above a climb of 60/s per s all the way: such a climb would change nothing. The equal climb
// goes back to W_max at twice the cubic's slope at the cut (339/s per s here, in K / 6 =
// 0.89 s), then on past it at 60/s per s, as every client does.
TEST(rate_controller, the_equal_climb_regains_the_cut_at_twice_the_cubics_slope_then_probes_at_60) {
    rate_params p = adaptive(1000);
    p.max_rate = 2000;
    const double w_max = 1000;
    const double k = std::cbrt(w_max * 0.3 / 2.0);  // C = 2
    const double back = 2 * 3 * 2.0 * k * k;
    const double back_s = 0.3 * w_max / back;
    EXPECT_NEAR(back, 339, 1);
    for (const auto& [climb, expected] :
         {std::pair{500ms, 700 + back * 0.5}, std::pair{1500ms, w_max + 60 * (1.5 - back_s)}}) {
        rate_controller c(p, t0);
        auto t = t0 + 10s;
        drain(c, t);
        // The slow start's end at 1000/s (a sign of another client): 700/s.
        const auto x = cut_then_climb(c, t, 0s, climb);
        EXPECT_NEAR(x.left, 700, 1);
        // 0.5 s after the cut: 870 (the cubic alone 778, a climb of 60/s per s 730); 1.5 s
        // after it: 1037 (the cubic alone 889; 339/s per s all the way would be 1208).
        EXPECT_NEAR(x.climbed, expected, 10) << climb.count();
        EXPECT_GT(x.climbed, cubic_after(x, std::chrono::duration<double>(climb).count()) + 50);
    }
}

// At a few requests/s the climb is at most 1.2 x W_max per s (back from a cut in 0.25 s at
// least): a client alone at 20/s, whose meter reads a cut below its peak now and then, is not
// cut four times a second.
TEST(rate_controller, the_equal_climb_is_at_most_1_2_w_max_per_s) {
    rate_controller c(adaptive(20), t0);
    auto t = t0 + 10s;
    drain(c, t);
    // The slow start's end at 20/s: 14/s, then 0.25 s of climb at 24/s per s (60 would be
    // 29/s, under the 2 x measured bound of 40; the cubic alone 16.6).
    const auto x = cut_then_climb(c, t, 0s, 250ms);
    const double w_max = x.left / 0.7;
    EXPECT_NEAR(w_max, 20, 0.5);
    EXPECT_LE(x.climbed, x.left + 1.2 * w_max * 0.3);         // 0.25 s and the last slot's wait
    EXPECT_GE(x.climbed, x.left + 1.2 * w_max * 0.25 * 0.9);  // the climb, not the cubic
}

// Between 20 and 40/s the bucket holds 1 to 2 slots, and a slot with a large jitter waits
// for a full bucket. While the rate climbs, the depth grows at every call a little more than
// the tokens the bucket had (filled up to the old depth): a caller asking every 100 us, or
// every millisecond, would never find it full, and sent nothing until the climb flattened
// (in the simulation, a client of two sharing 100/s fell to 0 sends in whole seconds).
TEST(rate_controller, a_full_bucket_stays_full_while_the_rate_climbs) {
    for (const std::chrono::nanoseconds poll : {100us, 1000us}) {
        rate_controller c(adaptive(30), t0);
        drain(c, t0);
        c.on_throttled(t0, t0 + 5ms, std::nullopt, 0.5);  // 21/s, climbing back to 30 within 1.7 s
        ASSERT_EQ(c.current_phase(), rate_controller::phase::cubic);
        int sent = 0;
        for (auto t = t0 + 5ms; t < t0 + 1005ms; t = std::max(t + poll, c.next_slot(t)))
            if (c.try_acquire(t, 0.99, 0.99).what == verdict::send) ++sent;
        // About 25 to 40 at the climbing rate, less the jitter's delay (up to one interval
        // each).
        EXPECT_GE(sent, 10) << poll.count();
        EXPECT_LE(sent, 45) << poll.count();
    }
}

// Each slot waits for 1 + jitter tokens: the sends keep their rate, their spacing varies.
TEST(rate_controller, jittered_slots_keep_the_rate_and_vary_the_spacing) {
    const auto sends = [](double jitter_of_slot) {
        rate_controller c(adaptive(200), t0);
        std::vector<time_point> at;
        for (auto t = t0; t < t0 + 2s; t = std::max(t + 1us, c.next_slot(t)))
            if (c.try_acquire(t, 0.99, jitter_of_slot * static_cast<double>(at.size() % 7) / 7)
                    .what == verdict::send)
                at.push_back(t);
        return at;
    };
    const auto even = sends(0);
    const auto jittered = sends(1);
    // The same rate within the bucket's depth (50 ms of 200/s: 10 sends) ...
    EXPECT_NEAR(static_cast<double>(jittered.size()), static_cast<double>(even.size()), 11);
    // ... and gaps that vary: even sends are 5 ms apart, jittered ones from 5 ms to 10 ms and back.
    const auto spread = [](const std::vector<time_point>& v) {
        std::chrono::nanoseconds lo = std::chrono::hours(1), hi{0};
        for (std::size_t i = 20; i + 1 < v.size(); ++i) {
            lo = std::min(lo, v[i + 1] - v[i]);
            hi = std::max(hi, v[i + 1] - v[i]);
        }
        return hi - lo;
    };
    EXPECT_LT(spread(even), 100us);
    EXPECT_GT(spread(jittered), 2ms);
}

TEST(rate_controller, the_jitter_is_10_percent_of_the_wait_and_at_least_100_ms) {
    for (const auto& [wait, jitter_max] : {std::pair{2000ms, 200ms}, std::pair{20'000ms, 2000ms}}) {
        rate_controller low(adaptive(), t0), high(adaptive(), t0);
        low.on_throttled(t0, t0, wait, 0.0);
        high.on_throttled(t0, t0, wait, 0.999999);
        EXPECT_EQ(low.pause_end(), t0 + wait);
        EXPECT_NEAR(std::chrono::duration<double>(high.pause_end() - t0).count(),
                    std::chrono::duration<double>(wait + jitter_max).count(), 1e-3);
    }
}

TEST(rate_controller, a_huge_retry_after_is_capped_and_reported) {
    auto p = adaptive();
    p.max_pause = 30s;
    rate_controller c(p, t0);
    const auto e = c.on_throttled(t0, t0, std::chrono::milliseconds(std::chrono::hours(24)), 0.0);
    EXPECT_TRUE(e.retry_after_capped);
    EXPECT_EQ(c.pause_end(), t0 + 30s);
    EXPECT_EQ(c.counts().capped_retry_after, 1u);
    EXPECT_EQ(c.try_acquire(t0 + 29s, 0.99).what, verdict::wait);
    EXPECT_EQ(c.try_acquire(t0 + 30s, 0.99).what, verdict::send);
}

TEST(rate_controller, absurd_durations_do_not_overflow) {
    auto p = adaptive();
    p.max_pause = std::chrono::milliseconds::max();
    p.local_throttling_window = std::chrono::milliseconds::max();
    rate_controller c(p, t0);
    const auto e = c.on_throttled(t0, t0, std::chrono::milliseconds::max(), 0.5);
    EXPECT_TRUE(e.retry_after_capped);
    EXPECT_GT(c.pause_end(), t0 + std::chrono::hours(24));  // a week, not an overflow into the past
    EXPECT_EQ(c.try_acquire(t0 + std::chrono::hours(48), 0.99).what, verdict::wait);
}

TEST(rate_controller,
     a_pause_is_only_ever_lengthened_and_a_throttle_without_retry_after_sets_none) {
    rate_controller c(adaptive(), t0);
    c.on_throttled(t0, t0, std::nullopt, 0.5);
    EXPECT_LE(c.pause_end(), t0);
    c.on_throttled(t0, t0, 0ms, 0.5);  // "Retry-After: 0": now
    EXPECT_LE(c.pause_end(), t0);
    c.on_throttled(t0, t0, 5000ms, 0.0);
    // An ignored throttle (sent before the cut) with a shorter Retry-After: the pause stays.
    const auto e = c.on_throttled(t0 - 1ms, t0 + 1ms, 1000ms, 0.0);
    EXPECT_EQ(e.decision, rate_decision::throttle_ignored);
    EXPECT_EQ(e.pause, 0ms);
    EXPECT_EQ(c.pause_end(), t0 + 5s);
    // A longer one lengthens it, ignored for the rate or not.
    c.on_throttled(t0 - 1ms, t0 + 2ms, 9000ms, 0.0);
    EXPECT_EQ(c.pause_end(), t0 + 2ms + 9s);
}

TEST(rate_controller, a_zero_max_pause_never_pauses_the_origin) {
    auto p = adaptive();
    p.max_pause = 0ms;
    rate_controller c(p, t0);
    c.on_throttled(t0, t0, 5000ms, 0.5);
    EXPECT_LE(c.pause_end(), t0);
}

TEST(rate_controller, the_concurrency_cap_is_rate_times_p99_latency_times_1_5_at_least_4) {
    rate_controller c(adaptive(1000), t0);
    EXPECT_EQ(c.concurrency_cap(), 4u);  // no latency known yet
    // 1000 answers: 990 in 10 ms, 10 in 2 s (the 1 %): p99 is about 10 ms.
    for (int i = 0; i < 1000; ++i) {
        const auto sent = t0 + i * 1ms;
        c.on_accepted(sent, sent + (i % 100 == 0 ? 2s : 10ms));
    }
    const double rate = c.allowed_rate();
    const double p99 = 0.010;
    const double cap = static_cast<double>(c.concurrency_cap());
    // The p99 is read from buckets 19 % apart, rounded up.
    EXPECT_GE(cap, rate * p99 * 1.5);
    EXPECT_LE(cap, std::ceil(rate * p99 * 1.5 * 1.19) + 1);
    // A slow API (1 s answers) at 10/s: 15 calls on the wire, not the pool's 64 or 256.
    rate_controller slow(adaptive(10), t0);
    for (int i = 0; i < 200; ++i) slow.on_accepted(t0 + i * 100ms, t0 + i * 100ms + 1s);
    EXPECT_GE(slow.concurrency_cap(), 15u);
    EXPECT_LE(slow.concurrency_cap(), 18u);
    // A fast API at a low rate: the floor, never 0.
    rate_controller fast(adaptive(1), t0);
    for (int i = 0; i < 200; ++i) fast.on_accepted(t0 + i * 1s, t0 + i * 1s + 1ms);
    EXPECT_EQ(fast.concurrency_cap(), 4u);
}

TEST(rate_controller, the_latency_window_forgets_old_answers) {
    rate_controller c(adaptive(100), t0);
    for (int i = 0; i < 500; ++i) c.on_accepted(t0 + i * 10ms, t0 + i * 10ms + 2s);
    const auto slow_cap = c.concurrency_cap();
    auto t = t0 + 60s;
    for (int i = 0; i < 500; ++i, t += 10ms) c.on_accepted(t, t + 10ms);
    EXPECT_LT(c.concurrency_cap(), slow_cap / 10);
}

// A call that takes a slot and ends without an answer (a timeout, no connection): a request
// the API did not accept.
rate_controller::acquire_result send_unanswered(rate_controller& c, time_point t, double u) {
    const auto r = c.try_acquire(t, u);
    if (r.what == verdict::send) c.on_unanswered(t);
    return r;
}

TEST(rate_controller, local_throttling_follows_the_sre_formula_capped_at_0_9) {
    auto p = adaptive(1000);
    p.local_throttling_window = 30s;
    rate_controller c(p, t0);
    EXPECT_EQ(c.reject_probability(), 0);
    // 40 requests, 20 accepted: requests - 2 accepts = 0.
    auto t = t0;
    for (int i = 0; i < 40; ++i, t += 1ms) {
        ASSERT_EQ(c.try_acquire(t, 0.999).what, verdict::send);
        if (i % 2 == 0)
            c.on_accepted(t, t);
        else
            c.on_unanswered(t);
    }
    EXPECT_EQ(c.reject_probability(), 0);
    // 40 more, none accepted: (80 - 40) / 81.
    for (int i = 0; i < 40; ++i, t += 1ms) send_unanswered(c, t, 0.999);
    EXPECT_NEAR(c.reject_probability(), 40.0 / 81, 1e-9);
    // A draw below the probability is refused locally, above it is sent.
    t += 10ms;
    const auto refused = c.try_acquire(t, 0.1);
    EXPECT_EQ(refused.what, verdict::reject);
    ASSERT_TRUE(refused.event);
    EXPECT_EQ(refused.event->decision, rate_decision::local_reject);
    EXPECT_NEAR(refused.event->reject_probability, 40.0 / 81, 1e-9);
    EXPECT_EQ(c.counts().local_rejects, 1u);
    t += 10ms;
    EXPECT_EQ(c.try_acquire(t, 0.9).what, verdict::send);
    // Nothing accepted for long: at most 0.9.
    for (int i = 0; i < 10'000; ++i, t += 1ms) send_unanswered(c, t, 0.999);
    EXPECT_EQ(c.reject_probability(), 0.9);
    // The window forgets.
    t += 31s;
    c.on_accepted(t, t);
    EXPECT_EQ(c.reject_probability(), 0);
}

// At the minimum rate, one call in ten would be one every 20 s: an API's return could go
// unseen for a minute.
TEST(rate_controller, local_throttling_lets_one_attempt_through_when_none_went_out_for_5_s) {
    auto p = adaptive(1000);
    p.local_throttling_window = 30s;
    rate_controller c(p, t0);
    auto t = t0;
    for (int i = 0; i < 10'000; ++i, t += 1ms) send_unanswered(c, t, 0.999);  // nothing accepted
    ASSERT_EQ(c.reject_probability(), 0.9);
    // Every draw below the probability: refused, until 5 s have passed since the last send.
    const auto last_send = t - 1ms;
    for (; t < last_send + 5s; t += 100ms) ASSERT_EQ(c.try_acquire(t, 0.0).what, verdict::reject);
    EXPECT_EQ(c.try_acquire(last_send + 5s, 0.0).what, verdict::send);
    EXPECT_EQ(c.try_acquire(last_send + 5s + 100ms, 0.0).what, verdict::reject);
}

// After a long outage the rate sits at its minimum and local throttling refuses 9 calls in 10.
// Once the API accepts again, the refused slots count as used: the rate climbs while the
// refusals fade, instead of staying at the minimum because a tenth of it went out.
TEST(rate_controller, after_an_outage_the_rate_climbs_back_while_local_throttling_still_refuses) {
    auto p = adaptive(400);
    p.max_pause = 0ms;
    rate_controller c(p, t0);
    auto t = run_accepted(c, t0, 1s);
    // Every call sent, answered 10 ms later; the draws cycle over [0, 1).
    const auto run = [&](std::chrono::seconds d, bool accepted) {
        std::vector<time_point> in_flight;
        int draw = 0;
        for (const auto end = t + d; t < end; t += 1ms) {
            while (!in_flight.empty() && in_flight.front() + 10ms <= t) {
                if (accepted)
                    c.on_accepted(in_flight.front(), in_flight.front() + 10ms);
                else
                    c.on_throttled(in_flight.front(), in_flight.front() + 10ms, std::nullopt, 0.5);
                in_flight.erase(in_flight.begin());
            }
            while (true) {
                const auto r = c.try_acquire(t, (draw++ % 10 + 0.5) / 10);
                if (r.what == verdict::wait) break;
                if (r.what == verdict::send) in_flight.push_back(t);
            }
        }
    };
    run(60s, false);
    ASSERT_LT(c.allowed_rate(), 1.0);
    ASSERT_GT(c.reject_probability(), 0.8);
    run(20s, true);
    EXPECT_GT(c.allowed_rate(), 100);
}

// A request counts when its attempt ends. Counted at the send, calls still waiting for their
// first answers (a first TLS handshake, a slow API) were requests without accepts, and the
// second slot of a cold start was refused locally one time in two: a batch line failed
// `rate_limited` without being sent, against an API that had refused nothing.
TEST(rate_controller, calls_in_flight_are_not_refused_locally_before_any_answer) {
    auto p = adaptive(1000);
    p.local_throttling_window = 30s;
    rate_controller c(p, t0);
    auto t = t0;
    for (int i = 0; i < 20; ++i, t += 1ms) {
        ASSERT_EQ(c.try_acquire(t, 0.0).what, verdict::send) << i;  // the lowest draw
    }
    EXPECT_EQ(c.reject_probability(), 0);
    EXPECT_EQ(c.counts().local_rejects, 0u);
    // Their answers, accepted: still nothing to refuse.
    for (int i = 0; i < 20; ++i) c.on_accepted(t0 + i * 1ms, t + 300ms);
    EXPECT_EQ(c.reject_probability(), 0);
    // Throttled instead, all of them: (20 - 0) / 21 of the next calls would be refused.
    rate_controller d(p, t0);
    t = t0;
    for (int i = 0; i < 20; ++i, t += 1ms) ASSERT_EQ(d.try_acquire(t, 0.0).what, verdict::send);
    for (int i = 0; i < 20; ++i) d.on_throttled(t0 + i * 1ms, t + 300ms, std::nullopt, 0.5);
    EXPECT_NEAR(d.reject_probability(), 0.9, 1e-9);
}

TEST(rate_controller, local_throttling_off_never_refuses) {
    auto p = adaptive(1000);
    p.local_throttling = false;
    rate_controller c(p, t0);
    auto t = t0;
    for (int i = 0; i < 1000; ++i, t += 1ms) EXPECT_NE(c.try_acquire(t, 0.0).what, verdict::reject);
    EXPECT_EQ(c.reject_probability(), 0);
}

TEST(rate_controller, time_that_goes_back_is_read_as_now) {
    rate_controller c(adaptive(100), t0);
    drain(c, t0 + 1s);
    // A caller that read the clock before another one took the lock.
    EXPECT_EQ(c.try_acquire(t0, 0.99).what, verdict::wait);
    EXPECT_GE(c.next_slot(t0), t0 + 1s);
    c.on_accepted(t0 + 2s, t0 + 1s);  // an answer "before" its send: latency 0
    c.on_throttled(t0 + 2s, t0, 3000ms, 0.0);
    EXPECT_GE(c.pause_end(), t0 + 2s);
}

TEST(rate_controller, fill_writes_the_rate_gauges_and_counters) {
    rate_controller c(adaptive(100), t0);
    drain(c, t0);
    c.try_acquire(t0, 0.99);  // a wait
    c.on_throttled(t0, t0 + 1ms, 3000ms, 0.0);
    catalyst::metrics_snapshot m;
    c.fill(m, t0 + 1001ms);
    EXPECT_NEAR(m.rate_allowed, 70, 1e-9);  // the curve stood still during the pause
    EXPECT_NEAR(m.rate_pause_seconds, 2.0, 1e-9);
    EXPECT_GE(m.rate_waits, 1u);
    EXPECT_EQ(m.rate_local_rejects, 0u);
    c.fill(m, t0 + 10s);
    EXPECT_EQ(m.rate_pause_seconds, 0);
}

}  // namespace
