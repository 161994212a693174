// The adaptive rate controller against a simulated rate-limited API (rate_sim.hpp): fake
// time, a token-bucket server whose limit the clients do not know, count-based properties
// with margins. Every figure is printed as a "rate-sim |" line:
//   catalyst_client_tests --gtest_filter='rate_controller_sim.*' | grep '^rate-sim'
//
// Each property is checked against two servers: one whose 429s carry no Retry-After, and one
// whose 429s carry Retry-After in whole seconds (1 s at these rates), as CatalystPay's
// (Django REST framework) throttling does. Against the second, every probe above the limit
// pauses the whole origin for a second (rate_params::max_pause): the steady-state figures
// are lower there, and their bounds say so.
#include "rate_sim.hpp"
#include "support/sanitizers.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace {

using namespace catalyst;
using namespace catalyst::test;

struct server_style {
    retry_after_style style;
    const char* name;
};
const server_style styles[] = {{retry_after_style::none, "no Retry-After"},
                               {retry_after_style::whole_seconds, "Retry-After 1s"}};

// A property holds in every run, not in one: each is checked over several seeds (the
// clients' jitter and the answers' latencies differ between them) and the worst run is the
// figure. With one seed, a slow start that ended at 0.8 of the limit (15 s to climb back)
// and a return after an outage that took minutes both stayed hidden: they came in one run
// in ten. Under sanitizers the simulation runs 20x slower: one seed there (two for two
// clients), which exercises the same code for what the sanitizers check.
constexpr std::uint64_t seeds = under_sanitizer ? 1 : 5;

void report(const std::string& target, const server_style& s, double measured, const char* op,
            double bound) {
    const double margin = std::string(op) == ">=" ? measured - bound : bound - measured;
    std::printf("rate-sim | %-58s | %-14s | %10.6g | %s %9.6g | margin %+9.3g (%+.0f%%)\n",
                target.c_str(), s.name, measured, op, bound, margin,
                bound != 0 ? 100 * margin / bound : 0.0);
}

void at_least(const std::string& target, const server_style& s, double measured, double bound) {
    report(target, s, measured, ">=", bound);
    EXPECT_GE(measured, bound) << target << ", " << s.name;
}

void at_most(const std::string& target, const server_style& s, double measured, double bound) {
    report(target, s, measured, "<=", bound);
    EXPECT_LE(measured, bound) << target << ", " << s.name;
}

std::string fmt(const char* f, double a) {
    char buf[128];
    std::snprintf(buf, sizeof buf, f, a);
    return buf;
}

sim_server server(const server_style& s, std::vector<limit_step> schedule) {
    sim_server v;
    v.schedule = std::move(schedule);
    v.retry_after = s.style;
    return v;
}

sim_client offering(double per_second) {
    sim_client c;
    c.rate = adaptive_defaults();
    c.offered = per_second;
    return c;
}

// The end of the first whole second in [from, to) whose acceptances reach `share` of `limit`
// (seconds after `from`), or +infinity.
double time_to_reach(const sim_client_result& r, double limit, double share, std::size_t from) {
    for (std::size_t s = from; s < r.seconds.size(); ++s)
        if (static_cast<double>(r.seconds[s].accepted) >= share * limit)
            return static_cast<double>(s + 1 - from);
    return INFINITY;
}

// One client offering 1.5 x `limit`, over seeds 1..runs, counted over seconds 10-70 (after
// 10 s, at a steady limit): the accepted rate and the 429s among the attempts.
struct steady_state_figures {
    double accepted = INFINITY;     ///< accepted / limit, worst run
    double throttled_share = 0;     ///< 429s / attempts, worst run
    double runs_over_1_percent = 0; ///< runs with more than 1 % of 429s
};

steady_state_figures steady_state(double limit, const server_style& s, std::uint64_t runs) {
    steady_state_figures out;
    for (std::uint64_t seed = 1; seed <= runs; ++seed) {
        const auto r = simulate(server(s, {{0, limit, 0}}), {offering(1.5 * limit)}, 70, seed);
        const auto& c = r.clients[0];
        out.accepted = std::min(
            out.accepted,
            static_cast<double>(c.sum(&second_counts::accepted, 10, 70)) / (60 * limit));
        const double sent = static_cast<double>(c.sum(&second_counts::sent, 10, 70));
        const double share = static_cast<double>(c.sum(&second_counts::throttled, 10, 70)) / sent;
        if (share > 0.01) ++out.runs_over_1_percent;
        out.throttled_share = std::max(out.throttled_share, share);
    }
    return out;
}

TEST(rate_controller_sim, steady_state_rides_the_limit) {
    for (const auto& s : styles) {
        for (const double limit : {50.0, 400.0, 5000.0}) {
            const auto f = steady_state(limit, s, seeds);
            at_least(fmt("steady L=%g: accepted / L after 10 s (worst run)", limit), s, f.accepted,
                     0.90);
            at_most(fmt("steady L=%g: 429s / attempts after 10 s (worst run)", limit), s,
                    f.throttled_share, 0.01);
        }
    }
    // rate_params::max_pause = 0: a Retry-After holds only the call it came with (the retry
    // policy's wait), not the whole origin; the server that sends one on every 429 is then
    // ridden as closely as the one that sends none.
    auto no_pause = offering(600);
    no_pause.rate.max_pause = std::chrono::milliseconds(0);
    const auto r = simulate(server(styles[1], {{0, 400, 0}}), {no_pause}, 70);
    at_least("steady L=400, max_pause 0: accepted / L after 10 s", styles[1],
             static_cast<double>(r.clients[0].sum(&second_counts::accepted, 10, 70)) / (60 * 400.0),
             0.90);
}

// A client alone at 50/s, over 100 runs instead of the five above: the steady state's bounds
// hold in every run. With a meter of 0.5 s buckets (25 sends at this rate), 8 of these 100
// runs had more than 1 % of 429s, 1.98 % the worst (seed 49): the meter's noise read as a sign
// of another client and kept the client in the equal climb for 15 s after its slow start
// (rate_controller.cpp, meter_min_sends). A client alone is throttled the same way by both
// server styles: one cut at a time, a Retry-After of 1 s never pauses it.
TEST(rate_controller_sim, a_client_alone_at_50_per_s_keeps_under_1_percent_of_429s_in_every_run) {
    const std::uint64_t runs = under_sanitizer ? 10 : 100;
    for (const auto& s : styles) {
        const auto f = steady_state(50, s, runs);
        const std::string what = "steady L=50 over " + std::to_string(runs) + " runs: ";
        at_most(what + "runs with > 1% 429s after 10 s", s, f.runs_over_1_percent, 0);
        at_most(what + "429s / attempts after 10 s (worst run)", s, f.throttled_share, 0.01);
        at_least(what + "accepted / L after 10 s (worst run)", s, f.accepted, 0.90);
    }
}

TEST(rate_controller_sim, a_cold_start_reaches_90_percent_of_the_limit_within_10_s) {
    for (const auto& s : styles) {
        for (const double limit : {50.0, 400.0, 5000.0}) {
            double worst = 0;
            for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
                const auto r =
                    simulate(server(s, {{0, limit, 0}}), {offering(1.5 * limit)}, 12, seed);
                worst = std::max(worst, time_to_reach(r.clients[0], limit, 0.9, 0));
            }
            at_most(fmt("cold start L=%g: s to a second at 90%% of L (worst run)", limit), s, worst,
                    10);
        }
    }
}

// The limit halves (400 -> 200) at several points of the sawtooth.
TEST(rate_controller_sim, a_halved_limit_is_ridden_below_within_2_s) {
    for (const auto& s : styles) {
        double worst_after = 0;
        double worst_any = 0;
        double accepted_after = INFINITY;
        for (const double at : {30.0, 32.3, 34.6, 36.9}) {
            for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
                const auto r =
                    simulate(server(s, {{0, 400, 0}, {at, 200, 0}}), {offering(600)}, 70, seed);
                const auto& c = r.clients[0];
                const auto settled = static_cast<std::size_t>(std::ceil(at + 2));
                for (std::size_t i = 0; i < c.seconds.size(); ++i) {
                    const auto sent = static_cast<double>(c.seconds[i].sent);
                    worst_any = std::max(worst_any, sent);
                    if (i >= settled) worst_after = std::max(worst_after, sent);
                }
                accepted_after =
                    std::min(accepted_after,
                             static_cast<double>(c.sum(&second_counts::accepted, settled + 8, 70)) /
                                 (200.0 * static_cast<double>(70 - settled - 8)));
            }
        }
        at_most("halved 400->200: max attempts/s from 2 s after", s, worst_after, 1.05 * 200);
        at_most("halved 400->200: max attempts/s in any second", s, worst_any, 1.2 * 400);
        at_least("halved 400->200: accepted / new L from 10 s after", s, accepted_after, 0.90);
    }
}

// The same target at both ends of the range (100 -> 50 and 2000 -> 1000), measured as the
// sandbox test measures it (adaptive_rate.rides_a_limit_that_halves_then_doubles): the send
// rate over the 10 s from 2 s after the limit halved, <= 1.05 x the new limit. Not the busiest
// single second: at 50/s one request is 2 % of the limit, and a client alone at 50/s that never
// saw a halving has a second above 52.5 attempts in 6 of 40 runs (54 the most). After a halving
// the client climbs as if another client had taken the room (the two cannot be told apart),
// which costs a request or two in some seconds (54 at most over 80 runs), not in the rate: over
// those 80 runs (seeds 1-10 of both styles, the same four points) the worst 10 s averaged 51.9
// attempts a second at 50/s, 993 at 1000/s.
TEST(rate_controller_sim, a_halved_limit_is_ridden_below_at_50_and_1000_per_s) {
    for (const auto& s : styles) {
        for (const double limit : {100.0, 2000.0}) {
            const double halved = limit / 2;
            double worst_rate = 0;
            double worst_any = 0;
            for (const double at : {30.0, 32.3, 34.6, 36.9}) {
                for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
                    const auto r = simulate(server(s, {{0, limit, 0}, {at, halved, 0}}),
                                            {offering(1.5 * limit)}, at + 13, seed);
                    const auto& c = r.clients[0];
                    const auto settled = static_cast<std::size_t>(std::ceil(at + 2));
                    ASSERT_GE(c.seconds.size(), settled + 10);
                    worst_rate = std::max(
                        worst_rate,
                        static_cast<double>(c.sum(&second_counts::sent, settled, settled + 10)) /
                            10);
                    for (const auto& second : c.seconds)
                        worst_any = std::max(worst_any, static_cast<double>(second.sent));
                }
            }
            const std::string what = fmt("halved %g", limit) + fmt("->%g: ", halved);
            at_most(what + "attempts/s over the 10 s from 2 s after (worst)", s, worst_rate,
                    1.05 * halved);
            at_most(what + "max attempts/s in any second", s, worst_any, 1.2 * limit);
        }
    }
}

// The limit doubles (400 -> 800), at several points of the sawtooth: the worst case.
TEST(rate_controller_sim, a_doubled_limit_is_found_within_30_s) {
    for (const auto& s : styles) {
        double worst = 0;
        for (const double at : {30.0, 31.4, 32.8, 34.2, 35.6, 37.0}) {
            for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
                const auto r = simulate(server(s, {{0, 400, 0}, {at, 800, 0}}), {offering(1200)},
                                        at + 35, seed);
                worst = std::max(worst, time_to_reach(r.clients[0], 800, 0.9,
                                                      static_cast<std::size_t>(std::ceil(at))));
            }
        }
        at_most("doubled 400->800: s to a second at 90% of new L (worst)", s, worst, 30);
    }
}

// Two clients offering 1.5 x `limit` each, over seeds 1..runs, each run simulated until `to`
// and its shares counted over seconds [from, to).
struct two_client_shares {
    int fair = 0;                ///< runs in which each client got >= 40 % of the limit
    double each = INFINITY;      ///< the least share of a client, worst run
    double together = INFINITY;  ///< both clients' shares together, worst run
};

two_client_shares two_clients_sharing(double limit, const server_style& s, std::uint64_t runs,
                                      std::uint64_t from, std::uint64_t to) {
    two_client_shares out;
    for (std::uint64_t seed = 1; seed <= runs; ++seed) {
        const auto r =
            simulate(server(s, {{0, limit, 0}}), {offering(1.5 * limit), offering(1.5 * limit)},
                     static_cast<double>(to), seed);
        double sum = 0;
        double least = INFINITY;
        for (const auto& c : r.clients) {
            const double share = static_cast<double>(c.sum(&second_counts::accepted, from, to)) /
                                 (static_cast<double>(to - from) * limit);
            least = std::min(least, share);
            sum += share;
        }
        if (least >= 0.40) ++out.fair;
        out.each = std::min(out.each, least);
        out.together = std::min(out.together, sum);
    }
    return out;
}

// Two clients sharing `limit` over seconds [from, to), for each server style: each >= 40 % of
// the limit in at least `fair_share` of `runs` (optimised builds), each client's worst share >=
// `each_floor`, and both together >= 90 % in every run.
void expect_two_clients(double limit, std::uint64_t runs, int from, int to, double each_floor,
                        double fair_share = 0.95) {
    const std::string what =
        fmt("two clients, L=%g", limit) + " s " + std::to_string(from) + "-" + std::to_string(to);
    for (const auto& s : styles) {
        const auto [fair, each, together] = two_clients_sharing(limit, s, runs, from, to);
        // A share of runs is a statistic: under sanitizers (two runs, to check the code, not
        // the figures) one run below 40 % would fail it, so only the optimised build counts it.
        if (!under_sanitizer)
            at_least(what + fmt(": runs with each >= 40%% of L (of %g)", static_cast<double>(runs)),
                     s, fair, static_cast<double>(runs) * fair_share);
        at_least(what + ": each client's accepted / L (worst run)", s, each, each_floor);
        at_least(what + ": both together / L (worst run)", s, together, 0.90);
    }
}

// Two client processes, each with its own controller, share one account's limit. Who gets
// a share depends on where the throttles fall, and the first throttle of an overload falls
// about as often on either client whatever its rate. What evens the shares out is the equal
// climb after a sign of the other client (rate_controller.cpp, additive_climb), the cut in two
// stages there (first_cut: the whole cut falls more often on the client that sends more) and
// the cubic curve's convex part. Over 40 seeds: each >= 40 % over seconds 30-190 in at least
// 38 runs and >= 35 % in every run; both together >= 90 % in every run. These 40: 40 of 40,
// 0.46 the worst, 0.99 together.
TEST(rate_controller_sim, two_clients_share_a_limit) {
    expect_two_clients(400, under_sanitizer ? 2 : 40, 30, 190, 0.35);
}

// The same two clients over the sandbox test's window (adaptive_rate.two_clients_share_one_limit:
// both start together, their shares counted over seconds 15-40). Over 25 s a run is far less
// even than over 160: the shares wander with the throttles, which fall on either client
// whatever its rate. This is what the sandbox showed (35 / 63 % in one of 8 runs), reproduced
// without sockets. Over 1000 runs: each >= 40 % in 998 to 1000, 0.39 the worst, 0.98 together
// (993 to 995 and 0.37 with every cut whole at the first throttle; 988 to 990 with a cut's
// episode one p99 latency only; 982 to 983 and 0.34 with a climb of 60/s per s from the cut
// all the way; 915 to 921 and 0.29 with the equal climb after a cut below the peak only). The
// target is every run; the bounds are what the controller held over these 200 before the cut
// in two stages, with a margin (197 to 199 runs, 0.37 the worst; now 200 of 200, 0.40).
TEST(rate_controller_sim, two_clients_share_a_limit_over_the_sandbox_tests_window) {
    expect_two_clients(400, under_sanitizer ? 2 : 200, 15, 40, 0.35, 0.97);
}

// Two clients sharing 2000/s, about 1000/s each, where the cubic leaves a cut at 170/s per s:
// the equal climb back to W_max is twice that (rate_controller.cpp, additive_climb), and with
// few 429s a part of each cut stays (lasting_first: AIMD, whose lasting cuts pull the shares
// together; each climbing back to its own W_max, the clients kept whatever ratio the slow
// start left them). Over seeds 1-300 of both server styles: each >= 40 % in 596 of 600 runs,
// 0.38 the worst (578 and 0.33 without the lasting part). These 40 runs: 40 of 40, 0.40.
TEST(rate_controller_sim, two_clients_share_a_limit_of_2000) {
    expect_two_clients(2000, under_sanitizer ? 2 : 40, 15, 40, 0.36, 0.95);
}

// Two clients sharing 100/s: about 50/s each, where the send-slot bucket holds 2.5 slots and
// the server's 5. Before the send-slot bucket stayed full while the rate climbed, the smaller
// client, between 20 and 40/s, sent nothing for whole seconds: each >= 40 % in 35 of 200
// runs, 0.12 the worst. Now: 200 of 200 with each >= 40 %, 0.42 the worst, 0.99 together
// (195 to 197 and 0.27 with a cut's episode one p99 latency only: the smaller client was cut
// two or three times within 120 ms).
TEST(rate_controller_sim, two_clients_share_a_limit_of_100) {
    expect_two_clients(100, under_sanitizer ? 2 : 100, 15, 40, 0.38, 0.98);
}

// One client at 20/s: the server's bucket holds one request (1/20 s of the limit), so two
// requests must reach it 50 ms apart, and the answers' latencies (5-20 ms, the request half
// of it) move each arrival by up to 7.5 ms: a paced stream is refused now and then from
// about 1 / (50 + 7.5 ms) = 17/s, 0.87 of the limit, whatever the controller does. The bound
// is that, not the steady-state target (>= 90 %, <= 1 % of 429s): 0.80 of the limit with 3.8 %
// of 429s in the worst of 5 runs (0.59 before the send-slot bucket stayed full while the
// rate climbed; 3.1 % with every cut whole).
TEST(rate_controller_sim, one_client_at_a_limit_of_20_is_bounded_by_the_one_request_bucket) {
    for (const auto& s : styles) {
        double accepted = INFINITY;
        double throttled_share = 0;
        for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
            const auto r = simulate(server(s, {{0, 20, 0}}), {offering(30)}, 70, seed);
            const auto& c = r.clients[0];
            accepted =
                std::min(accepted, static_cast<double>(c.sum(&second_counts::accepted, 10, 70)) /
                                       (60 * 20.0));
            throttled_share = std::max(
                throttled_share, static_cast<double>(c.sum(&second_counts::throttled, 10, 70)) /
                                     static_cast<double>(c.sum(&second_counts::sent, 10, 70)));
        }
        at_least("steady L=20: accepted / L after 10 s (worst run)", s, accepted, 0.72);
        at_most("steady L=20: 429s / attempts after 10 s (worst run)", s, throttled_share, 0.06);
    }
}

// The operator's batch: 12 000 calls queued, the limit 400/s, then 200/s for 15 s, then 400.
TEST(rate_controller_sim, a_long_run_accepts_every_call_exactly_once_with_few_429s) {
    for (const auto& s : styles) {
        sim_client c;
        c.rate = adaptive_defaults();
        c.backlog = 12'000;
        const auto r = simulate(server(s, {{0, 400, 0}, {15, 200, 0}, {30, 400, 0}}), {c}, 600);
        const auto& x = r.clients[0];
        EXPECT_EQ(x.accepted_calls, 12'000u) << s.name;
        EXPECT_EQ(x.duplicates, 0u) << s.name;
        const double sent = static_cast<double>(x.sum(&second_counts::sent, 0, 600));
        const double throttled = static_cast<double>(x.sum(&second_counts::throttled, 0, 600));
        at_least("long run 12000 calls: calls accepted exactly once", s,
                 static_cast<double>(x.accepted_calls - x.duplicates), 12'000);
        at_most("long run 12000 calls: 429s / attempts", s, throttled / sent, 0.03);
        // 12 000 calls at these limits take 37.5 s at least (15 s x 400 + 15 s x 200 + 7.5 s x
        // 400).
        at_most("long run 12000 calls: s to the last acceptance", s, x.all_done_s, 60);
    }
}

// The API throttles everything for 3 minutes, then comes back.
TEST(rate_controller_sim, a_dead_api_is_left_alone_and_found_again) {
    for (const auto& s : styles) {
        const auto dead = server(s, {{0, 400, 0}, {10, 0, 0}, {190, 400, 0}});
        double share = 0;
        double versus = 0;
        double back = 0;
        double back_without = 0;
        for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
            const auto r = simulate(dead, {offering(600)}, 300, seed);
            auto off = offering(600);
            off.rate.local_throttling = false;
            const auto without = simulate(dead, {off}, 300, seed);
            const auto& c = r.clients[0];
            const double attempts = static_cast<double>(c.sum(&second_counts::sent, 10, 190));
            const double attempts_without =
                static_cast<double>(without.clients[0].sum(&second_counts::sent, 10, 190));
            share = std::max(share, attempts / (600.0 * 180));
            versus = std::max(versus, attempts / attempts_without);
            back = std::max(back, time_to_reach(c, 400, 0.9, 190));
            back_without = std::max(back_without, time_to_reach(without.clients[0], 400, 0.9, 190));
            EXPECT_GT(c.counts.local_rejects, 0u) << s.name << ", seed " << seed;
        }
        at_most("dead API 180 s: attempts / offered calls (worst run)", s, share, 0.01);
        at_most("dead API 180 s: attempts vs local throttling off (worst run)", s, versus, 0.6);
        at_most("dead API: s after its return to a second at 90% of L (worst run)", s, back, 60);
        report("dead API: same, local throttling off", s, back_without, "<=", 60);
    }
}

// One 429 with Retry-After holds every call of the client, however many are queued.
TEST(rate_controller_sim, retry_after_pauses_every_call_and_a_huge_one_is_capped) {
    const server_style& s = styles[0];
    for (const auto& [retry_after, pause] : {std::pair{5.0, 5.0}, std::pair{3600.0, 30.0}}) {
        sim_client c = offering(600);
        c.record_sends = true;
        const auto r = simulate(server(s, {{0, 400, 0}, {5, 0, retry_after}, {5.05, 400, 0}}), {c},
                                pause + 10);
        const auto& x = r.clients[0];
        const auto held =
            std::count_if(x.sends.begin(), x.sends.end(),
                          [&, until = 5 + pause](double t) { return t >= 5.05 && t < until; });
        const auto resumed =
            std::find_if(x.sends.begin(), x.sends.end(), [&](double t) { return t >= 5.05; });
        ASSERT_NE(resumed, x.sends.end());
        const std::string what = fmt("Retry-After %gs", retry_after);
        at_most(what + ": sends while paused", s, static_cast<double>(held), 0);
        // The pause's end: the wait (capped) plus up to 10 % jitter, after the 429 came back.
        at_most(what + ": s to the first send after", s, *resumed - 5, pause * 1.1 + 0.1);
        EXPECT_EQ(x.counts.capped_retry_after > 0, retry_after > 30);
    }
}

}  // namespace
