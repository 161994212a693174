// The global, scheduled rate limit (rate_limit_schedule): its syntax, the limiter on a fake
// clock (count-based: what passes per step and per second), and the service's answers.

#include "sandbox/rate_schedule.hpp"
#include "sandbox/sandbox_fixture.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace catalyst;
using namespace catalyst::test;
using namespace std::chrono_literals;
using catalyst::sandbox_detail::global_rate_limiter;

namespace {

std::string refusal(std::string_view text) {
    try {
        parse_rate_limit_schedule(text, "--rate-limit-schedule");
    } catch (const sandbox_config_error& e) {
        EXPECT_EQ(e.key(), "--rate-limit-schedule");
        return e.what();
    }
    return "(accepted)";
}

TEST(rate_limit_schedule, reads) {
    const auto s = parse_rate_limit_schedule("400@15s,200@15s,400");
    ASSERT_EQ(s.size(), 3u);
    EXPECT_EQ(s[0].rate, 400.0);
    EXPECT_EQ(s[0].duration, 15s);
    EXPECT_EQ(s[1].rate, 200.0);
    EXPECT_EQ(s[1].duration, 15s);
    EXPECT_EQ(s[2].rate, 400.0);
    EXPECT_EQ(s[2].duration.count(), 0);
    EXPECT_EQ(to_string(s), "400@15s,200@15s,400");
    const auto t = parse_rate_limit_schedule(" 2.5@500ms , 10@2m,1e3@1h, 7 ");
    EXPECT_EQ(to_string(t), "2.5@500ms,10@2m,1000@1h,7");
    EXPECT_EQ(to_string(parse_rate_limit_schedule("50")), "50");
}

TEST(rate_limit_schedule, refusals_name_the_item) {
    EXPECT_EQ(refusal("400@15s,200@x,400"),
              "--rate-limit-schedule: item 2 '200@x': expected a duration with its unit after '@' "
              "(500ms, 15s, 2m, "
              "1h), got 'x'");
    EXPECT_NE(refusal("400@15s,200,400").find("item 2 '200': needs a duration"), std::string::npos);
    EXPECT_NE(refusal("400@15s,200@15s").find("item 2 '200@15s': the last step has no duration"),
              std::string::npos);
    EXPECT_NE(refusal("0@1s,5").find("item 1 '0@1s': the rate must be"), std::string::npos);
    EXPECT_NE(refusal("-3").find("item 1 '-3': the rate"), std::string::npos);
    EXPECT_NE(refusal("x@1s,5").find("item 1 'x@1s'"), std::string::npos);
    EXPECT_NE(refusal("5@15,5").find("item 1 '5@15': expected a duration"),
              std::string::npos);  // no unit
    EXPECT_NE(refusal("5@0s,5").find("at least 1ms"), std::string::npos);
    EXPECT_NE(refusal("5@400d,5").find("at most 366 days"), std::string::npos);
    EXPECT_NE(refusal("5@1s,,5").find("item 2 ''"), std::string::npos);
    EXPECT_NE(refusal("").find("empty"), std::string::npos);
    EXPECT_NE(refusal("nan").find("item 1"), std::string::npos);
    EXPECT_NE(refusal("inf").find("item 1"), std::string::npos);
    std::string many;
    for (int i = 0; i < 1001; ++i) many += "1@1s,";
    EXPECT_NE(refusal(many + "1").find("item 1001"), std::string::npos);
}

TEST(rate_limit_schedule, config_file_and_params) {
    sandbox_params p;
    apply_sandbox_json(p, R"({"rate_limit_schedule": "100@1s,50"})");
    EXPECT_EQ(to_string(p.rate_limit_schedule), "100@1s,50");
    try {
        apply_sandbox_json(p, R"({"rate_limit_schedule": "100@1s,50@x"})");
        FAIL();
    } catch (const sandbox_config_error& e) {
        EXPECT_EQ(e.key(), "rate_limit_schedule");
        EXPECT_NE(std::string(e.what()).find("item 2 '50@x'"), std::string::npos) << e.what();
    }
    apply_sandbox_json(p, R"({"rate_limit_schedule": ""})");
    EXPECT_TRUE(p.rate_limit_schedule.empty());
    // Built in code: the same rules.
    sandbox_params q;
    q.rate_limit_schedule = {{100, 1s}, {50, 1s}};  // the last step has a duration
    EXPECT_THROW(sandbox{q}, sandbox_config_error);
    q.rate_limit_schedule = {{100, 1s}, {50, 0ms}};
    EXPECT_NO_THROW(sandbox{q});
}

// Requests every `gap` from `from` for `span`; returns how many passed.
std::uint64_t drive(global_rate_limiter& g, std::chrono::steady_clock::time_point from,
                    std::chrono::nanoseconds span, std::chrono::nanoseconds gap) {
    std::uint64_t passed = 0;
    for (auto t = from; t < from + span; t += gap) passed += g.admit(t) == 0;
    return passed;
}

TEST(global_rate_limit, each_step_passes_its_rate_within_the_burst) {
    global_rate_limiter g;
    const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
    g.start(parse_rate_limit_schedule("400@15s,200@15s,400"), t0);
    EXPECT_EQ(global_rate_limiter::burst_for(400), 20.0);
    EXPECT_EQ(global_rate_limiter::burst_for(10), 1.0);
    // 1000 requests/s offered, far above every step.
    const auto step1 = drive(g, t0, 15s, 1ms);
    const auto step2 = drive(g, t0 + 15s, 15s, 1ms);
    const auto step3 = drive(g, t0 + 30s, 15s, 1ms);
    EXPECT_GE(step1, 400u * 15);
    EXPECT_LE(step1, 400u * 15 + 20);  // + the full bucket at the start
    EXPECT_GE(step2, 200u * 15 - 1);
    EXPECT_LE(step2, 200u * 15 + 10);
    EXPECT_GE(step3, 400u * 15 - 1);
    EXPECT_LE(step3, 400u * 15 + 20);
    const auto s = g.snapshot(t0 + 45s - 1ms);
    EXPECT_EQ(s.accepted, step1 + step2 + step3);
    EXPECT_EQ(s.accepted + s.throttled, 45'000u);
    EXPECT_EQ(s.limit, 400.0);
}

TEST(global_rate_limit, steps_change_at_their_times_and_each_second_is_counted) {
    global_rate_limiter g;
    const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
    g.start(parse_rate_limit_schedule("400@15s,200@15s,400"), t0);
    drive(g, t0, 40s, 1ms);
    const auto s = g.snapshot(t0 + 40s - 1ms);
    ASSERT_EQ(s.seconds.size(), 40u);
    for (const auto& sec : s.seconds) {
        SCOPED_TRACE("second " + std::to_string(sec.second));
        const double limit = sec.second < 15 ? 400 : sec.second < 30 ? 200 : 400;
        EXPECT_EQ(sec.limit, limit);
        EXPECT_EQ(sec.accepted + sec.throttled, 1000u);
        // Within a second: the rate, give or take one token and the burst carried in.
        EXPECT_GE(sec.accepted, limit - 1);
        EXPECT_LE(sec.accepted, limit + global_rate_limiter::burst_for(limit));
    }
    EXPECT_EQ(s.seconds.front().second, 0u);
    EXPECT_EQ(s.seconds.back().second, 39u);
    // Just before and at a boundary.
    global_rate_limiter h;
    h.start(parse_rate_limit_schedule("5@2s,1"), t0);
    EXPECT_EQ(h.snapshot(t0 + 2s - 1ns).limit, 5.0);
    EXPECT_EQ(h.snapshot(t0 + 2s).limit, 1.0);
}

TEST(global_rate_limit, the_ring_keeps_the_last_six_hundred_seconds) {
    global_rate_limiter g;
    const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
    g.start(parse_rate_limit_schedule("3@100s,2"), t0);
    drive(g, t0, 700s, 250ms);  // 4 a second
    const auto s = g.snapshot(t0 + 700s - 1ms);
    ASSERT_EQ(s.seconds.size(), global_rate_limiter::ring_seconds);
    EXPECT_EQ(s.seconds.front().second, 100u);
    EXPECT_EQ(s.seconds.back().second, 699u);
    for (std::size_t i = 0; i < s.seconds.size(); ++i) {
        EXPECT_EQ(s.seconds[i].second, 100u + i);
        EXPECT_EQ(s.seconds[i].limit, 2.0);
        EXPECT_EQ(s.seconds[i].accepted + s.seconds[i].throttled, 4u);
    }
    EXPECT_EQ(s.accepted + s.throttled, 2800u);  // the totals keep what the ring forgot
    // Seconds without a request are listed with nothing counted.
    const auto later = g.snapshot(t0 + 705s);
    EXPECT_EQ(later.seconds.back().second, 705u);
    EXPECT_EQ(later.seconds.back().accepted + later.seconds.back().throttled, 0u);
    EXPECT_EQ(later.seconds.size(), global_rate_limiter::ring_seconds);
}

TEST(global_rate_limit, retry_after_is_the_wait_for_the_next_token) {
    global_rate_limiter g;
    const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
    g.start(parse_rate_limit_schedule("0.25"), t0);  // one token per 4 s, burst 1
    EXPECT_EQ(g.admit(t0), 0u);
    EXPECT_EQ(g.admit(t0), 4u);
    EXPECT_EQ(g.admit(t0 + 2500ms), 2u);
    EXPECT_EQ(g.admit(t0 + 4s), 0u);
    g.zero();
    const auto s = g.snapshot(t0 + 4s);
    EXPECT_EQ(s.accepted + s.throttled, 0u);
    EXPECT_TRUE(s.enabled);
    g.start({}, t0);
    EXPECT_FALSE(g.enabled());
    EXPECT_EQ(g.admit(t0), 0u);
}

using global_rate_limit_rules = service_test;

TEST_F(global_rate_limit_rules, above_the_limit_is_429_with_retry_after_and_counted) {
    sandbox_params p;
    p.rate_limit_schedule = parse_rate_limit_schedule("2@10s,1");
    start(p);
    // Burst 1 (2/20 < 1): one now, then one every 500 ms.
    EXPECT_EQ(post(example_create_body()).status, 201u);
    const auto r = post(example_create_body(), create_headers("rk_test_123"));  // every key counts
    ASSERT_EQ(r.status, 429u);
    EXPECT_EQ(r.header("Retry-After"), "1");
    EXPECT_EQ(json(r).at("detail").as_string(),
              "Request was throttled. Expected available in 1 seconds.");
    clock_.advance(500ms);
    EXPECT_EQ(post(example_create_body()).status, 201u);
    auto s = stats();
    EXPECT_EQ(s.created, 2u);
    EXPECT_EQ(s.rate_limited, 0u);  // the per-key counter
    ASSERT_TRUE(s.global_rate_limit.enabled);
    EXPECT_EQ(s.global_rate_limit.accepted, 2u);
    EXPECT_EQ(s.global_rate_limit.throttled, 1u);
    // Unauthenticated requests take no token.
    EXPECT_EQ(post(example_create_body(), create_headers("rk_wrong")).status, 401u);
    EXPECT_EQ(stats().global_rate_limit.accepted + stats().global_rate_limit.throttled, 3u);
    // After the first step: 1 a second.
    clock_.advance(10s);
    EXPECT_EQ(post(example_create_body()).status, 201u);
    EXPECT_EQ(post(example_create_body()).status, 429u);
    s = stats();
    EXPECT_EQ(s.global_rate_limit.limit, 1.0);
    EXPECT_EQ(s.global_rate_limit.schedule, "2@10s,1");
}

TEST_F(global_rate_limit_rules, the_per_key_limit_comes_first) {
    sandbox_params p;
    p.rate_limit_per_second = 0.001;
    p.rate_limit_burst = 1;
    p.rate_limit_schedule = parse_rate_limit_schedule("1000");
    start(p);
    EXPECT_EQ(post(example_create_body()).status, 201u);
    EXPECT_EQ(post(example_create_body()).status, 429u);
    const auto s = stats();
    EXPECT_EQ(s.rate_limited, 1u);
    EXPECT_EQ(s.global_rate_limit.accepted, 1u);
    EXPECT_EQ(s.global_rate_limit.throttled, 0u);
}

TEST_F(global_rate_limit_rules, the_admin_endpoint_restarts_replaces_and_stops) {
    start();
    EXPECT_FALSE(stats().global_rate_limit.enabled);
    auto r = request("GET", "/sandbox/rate-limit-schedule", {}, "");
    ASSERT_EQ(r.status, 200u);
    EXPECT_EQ(r.body, "null");
    r = request("POST", "/sandbox/rate-limit-schedule", {}, "10@1s,1");
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_EQ(json(r).at("schedule").as_string(), "10@1s,1");
    EXPECT_EQ(json(r).at("elapsed_ms").as_int64(), 0);
    clock_.advance(3s);
    EXPECT_EQ(json(request("GET", "/sandbox/rate-limit-schedule", {}, ""))
                  .at("limit")
                  .to_number<double>(),
              1.0);
    // An empty body starts the same schedule again, now.
    r = request("POST", "/sandbox/rate-limit-schedule", {}, "");
    EXPECT_EQ(json(r).at("limit").to_number<double>(), 10.0);
    EXPECT_EQ(json(r).at("elapsed_ms").as_int64(), 0);
    r = request("POST", "/sandbox/rate-limit-schedule", {}, "10@1s,x");
    EXPECT_EQ(r.status, 400u);
    EXPECT_NE(std::string(json(r).at("detail").as_string()).find("item 2 'x'"), std::string::npos)
        << r.body;
    // The item is quoted back as valid UTF-8, whatever the bytes sent (found by
    // fuzz_sandbox_request).
    r = request("POST", "/sandbox/rate-limit-schedule", {},
                "400@15s,2.5@500ms,40\x9e"
                "0");
    EXPECT_EQ(r.status, 400u);
    EXPECT_NE(std::string(json(r).at("detail").as_string()).find("item 3 '40?0'"),
              std::string::npos)
        << r.body;
    EXPECT_EQ(request("DELETE", "/sandbox/rate-limit-schedule", {}, "").status, 405u);
    r = request("POST", "/sandbox/rate-limit-schedule", {}, "off");
    EXPECT_EQ(r.body, "null");
    EXPECT_FALSE(stats().global_rate_limit.enabled);
}

TEST_F(global_rate_limit_rules, stats_carry_the_seconds_and_reset_zeroes_them) {
    sandbox_params p;
    p.rate_limit_schedule = parse_rate_limit_schedule("1@2s,3");
    start(p);
    for (int i = 0; i < 4; ++i) post(example_create_body());  // second 0: 1 passes, 3 throttled
    clock_.advance(2s);
    for (int i = 0; i < 4; ++i) post(example_create_body());  // second 2: limit 3
    const auto v = json(request("GET", "/sandbox/stats", {}, ""));
    const auto& g = v.at("global_rate_limit");
    EXPECT_EQ(g.at("schedule").as_string(), "1@2s,3");
    EXPECT_EQ(g.at("elapsed_ms").as_int64(), 2000);
    const auto& seconds = g.at("seconds").as_array();
    ASSERT_EQ(seconds.size(), 3u);
    EXPECT_EQ(seconds[0].at("accepted").as_int64(), 1);
    EXPECT_EQ(seconds[0].at("throttled").as_int64(), 3);
    EXPECT_EQ(seconds[0].at("limit").to_number<double>(), 1.0);
    EXPECT_EQ(seconds[1].at("accepted").as_int64() + seconds[1].at("throttled").as_int64(), 0);
    EXPECT_EQ(seconds[2].at("limit").to_number<double>(), 3.0);
    EXPECT_EQ(seconds[2].at("accepted").as_int64() + seconds[2].at("throttled").as_int64(), 4);
    EXPECT_EQ(g.at("accepted").as_int64() + g.at("throttled").as_int64(), 8);
    ASSERT_EQ(request("POST", "/sandbox/reset", {}, "").status, 200u);
    const auto z = stats().global_rate_limit;
    EXPECT_TRUE(z.enabled);
    EXPECT_EQ(z.accepted + z.throttled, 0u);
}

// Over the socket: the schedule starts with the sandbox, and the 429 is a whole HTTP answer.
using global_rate_limit_over_https = sandbox_test;

TEST_F(global_rate_limit_over_https, throttles_across_connections_and_counts) {
    fake_clock clock;
    sandbox_params p;
    p.clock = clock.source();
    p.rate_limit_schedule = parse_rate_limit_schedule("1");
    start(p);
    EXPECT_EQ(post(example_create_body()).status, 201u);
    const auto r = post(example_create_body(), create_headers("rk_test_123"));
    ASSERT_EQ(r.status, 429u);
    EXPECT_EQ(r.header("Retry-After"), "1");
    EXPECT_EQ(sb_->stats().responses_by_status.at(429), 1u);
    clock.advance(1s);
    EXPECT_EQ(post(example_create_body()).status, 201u);
    EXPECT_EQ(sb_->stats().global_rate_limit.accepted, 2u);
}

// --- the per-key limit ------------------------------------------------------------------------

using per_key_rate_limit_rules = service_test;

// The per-key limit's answer: a token, or the Retry-After in whole seconds (at least 1).
TEST(per_key_rate_limit, burst_then_wait) {
    const auto t0 = detail::token_bucket::time_point{} + std::chrono::hours(1);
    const auto take = [](detail::token_bucket& b, detail::token_bucket::time_point t) {
        return b.try_take(t) ? 0u : b.wait_seconds(t);
    };
    detail::token_bucket b(2.0, 3.0, t0);
    EXPECT_EQ(take(b, t0), 0u);
    EXPECT_EQ(take(b, t0), 0u);
    EXPECT_EQ(take(b, t0), 0u);
    EXPECT_EQ(take(b, t0), 1u);  // empty: one token in 0.5 s, rounded up to 1 s
    EXPECT_EQ(take(b, t0 + 500ms), 0u);
    EXPECT_GE(take(b, t0 + 500ms), 1u);
    detail::token_bucket slow(0.1, 1.0, t0);
    EXPECT_EQ(take(slow, t0), 0u);
    EXPECT_EQ(take(slow, t0), 10u);
}

TEST_F(per_key_rate_limit_rules, a_key_over_its_limit_is_429_and_others_are_not) {
    sandbox_params p;
    p.rate_limit_per_second = 0.5;  // one token per 2 s
    p.rate_limit_burst = 2;
    start(p);
    EXPECT_EQ(post(example_create_body()).status, 201u);
    EXPECT_EQ(post(example_create_body()).status, 201u);
    const auto r = post(example_create_body());
    ASSERT_EQ(r.status, 429u);
    EXPECT_EQ(r.header("Retry-After"), "2");
    EXPECT_EQ(json(r).at("detail").as_string(),
              "Request was throttled. Expected available in 2 seconds.");
    // The other key has its own bucket.
    EXPECT_EQ(post(example_create_body(), create_headers("rk_test_123")).status, 201u);
    clock_.advance(std::chrono::milliseconds(1999));
    EXPECT_EQ(post(example_create_body()).header("Retry-After"), "1");
    clock_.advance(std::chrono::milliseconds(1));
    EXPECT_EQ(post(example_create_body()).status, 201u);  // refilled at the rate
    const auto s = stats();
    EXPECT_EQ(s.rate_limited, 2u);
    EXPECT_EQ(s.created, 4u);
    EXPECT_FALSE(s.global_rate_limit.enabled);
}

}  // namespace
