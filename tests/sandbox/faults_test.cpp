// Pure parts of the sandbox: fault planning, configuration, the per-key limit, the stores,
// DRF-shaped error bodies. No sockets, no clocks: the time is passed in.

#include "sandbox/config.hpp"
#include "sandbox/faults.hpp"
#include "sandbox/service.hpp"

#include <gtest/gtest.h>

#include <catalyst/sandbox.hpp>

#include <boost/json.hpp>

using namespace catalyst;
using namespace catalyst::sandbox_detail;
using namespace std::chrono_literals;

namespace {

uniform_source constant(double u) {
    return [u] { return u; };
}

TEST(SandboxFaults, EveryNthFiresOnMultiplesOnly) {
    fault_trigger t;
    t.every_nth = 3;
    std::vector<std::uint64_t> hits;
    for (std::uint64_t n = 1; n <= 10; ++n)
        if (fires(t, n, constant(0.0))) hits.push_back(n);
    EXPECT_EQ(hits, (std::vector<std::uint64_t>{3, 6, 9}));
}

TEST(SandboxFaults, ProbabilityComparesTheDraw) {
    fault_trigger t;
    t.probability = 0.25;
    EXPECT_TRUE(fires(t, 1, constant(0.2)));
    EXPECT_FALSE(fires(t, 1, constant(0.3)));
    t.probability = 1.0;
    EXPECT_TRUE(fires(t, 1, constant(0.999)));
    EXPECT_FALSE(fires(fault_trigger{}, 1, constant(0.0)));
}

TEST(SandboxFaults, PrecedenceFirstEndingFaultWins) {
    fault_params f;
    f.close_after_read.every_nth = 1;
    f.server_error.every_nth = 1;
    f.trickle.every_nth = 1;
    auto p = plan_request_faults(f, 1, constant(0.5));
    EXPECT_TRUE(p.has(fault_kind::close_after_read));
    EXPECT_FALSE(p.has(fault_kind::server_error));
    EXPECT_FALSE(p.has(fault_kind::trickle));

    f.close_after_read = {};
    p = plan_request_faults(f, 1, constant(0.5));
    EXPECT_TRUE(p.has(fault_kind::server_error));
    EXPECT_TRUE(p.has(fault_kind::trickle));  // delivery faults apply to the injected answer too

    f.throttle.every_nth = 1;
    p = plan_request_faults(f, 1, constant(0.5));
    EXPECT_TRUE(p.has(fault_kind::throttle));
    EXPECT_FALSE(p.has(fault_kind::server_error));

    fault_params g;
    g.close_after_create.every_nth = 1;
    g.connection_close.every_nth = 1;
    p = plan_request_faults(g, 1, constant(0.5));
    EXPECT_TRUE(p.has(fault_kind::close_after_create));
    EXPECT_FALSE(p.has(fault_kind::connection_close));

    fault_params h;
    h.reset_mid_response.every_nth = 2;
    h.truncated_body.every_nth = 1;
    EXPECT_TRUE(plan_request_faults(h, 2, constant(0.5)).has(fault_kind::reset_mid_response));
    EXPECT_FALSE(plan_request_faults(h, 2, constant(0.5)).has(fault_kind::truncated_body));
    EXPECT_TRUE(plan_request_faults(h, 3, constant(0.5)).has(fault_kind::truncated_body));
}

TEST(SandboxFaults, LatencyFixedOrInRange) {
    fault_params f;
    f.latency.every_nth = 1;
    f.latency_min = 20ms;
    EXPECT_EQ(plan_request_faults(f, 1, constant(0.9)).delay, 20ms);
    f.latency_max = 30ms;
    EXPECT_EQ(pick_latency(f, 0.0), 20ms);
    EXPECT_EQ(pick_latency(f, 0.9999), 30ms);
    const auto mid = pick_latency(f, 0.5);
    EXPECT_GE(mid, 20ms);
    EXPECT_LE(mid, 30ms);
    int count = 0;
    plan_request_faults(f, 1, constant(0.5)).for_each([&](fault_kind k) {
        EXPECT_EQ(k, fault_kind::latency);
        ++count;
    });
    EXPECT_EQ(count, 1);
}

TEST(SandboxFaults, NoFaultsNoPlan) {
    const auto p = plan_request_faults(fault_params{}, 7, constant(0.0));
    int count = 0;
    p.for_each([&](fault_kind) { ++count; });
    EXPECT_EQ(count, 0);
    EXPECT_FALSE(fault_params{}.any());
}

TEST(SandboxFaults, NamesAreStableAndComplete) {
    const auto names = fault_names();
    ASSERT_EQ(names.size(), fault_kind_count);
    EXPECT_EQ(names[0], "latency");
    EXPECT_EQ(names[static_cast<unsigned>(fault_kind::close_after_create)], "close_after_create");
    EXPECT_EQ(names.back(), "idle_timeout");
}

// The table drives the reader, the writer, any() and the names: every row works through all.
TEST(SandboxFaults, EveryFaultOfTheTableIsReadWrittenAndNamed) {
    const auto names = fault_names();
    for (std::size_t i = 0; i < fault_table.size(); ++i) {
        const auto& row = fault_table[i];
        SCOPED_TRACE(std::string(row.name));
        EXPECT_EQ(names[i], row.name);
        EXPECT_FALSE(row.help.empty());
        fault_params f;
        apply_fault_setting(f, std::string(row.name) + ".every_nth=2");
        EXPECT_EQ((f.*row.trigger).every_nth, 2u);
        EXPECT_TRUE(f.any());
        const auto back = parse_faults_json(to_json(f));
        EXPECT_EQ((back.*row.trigger).every_nth, 2u);
        try {
            apply_fault_setting(f, std::string(row.name) + ".probability=2");
            ADD_FAILURE() << "accepted a probability of 2";
        } catch (const sandbox_config_error& e) {
            EXPECT_EQ(e.key(), std::string(row.name) + ".probability");
        }
    }
    fault_params idle;
    apply_fault_setting(idle, "idle_timeout_ms=200");
    EXPECT_EQ(idle.idle_timeout, 200ms);
    EXPECT_TRUE(idle.any());
}

TEST(SandboxConfig, FaultsJsonRoundTrip) {
    auto f = parse_faults_json(R"({"server_error":{"every_nth":3,"status":502,"retry_after":2,"body":"html"},
        "latency":{"probability":0.5,"min_ms":10,"max_ms":20},"trickle":{"every_nth":1,"delay_ms":3},
        "idle_timeout_ms":150})");
    EXPECT_EQ(f.server_error.every_nth, 3u);
    EXPECT_EQ(f.server_error_status, 502u);
    EXPECT_EQ(f.server_error_retry_after, 2u);
    EXPECT_EQ(f.server_error_body, fault_body::html);
    EXPECT_DOUBLE_EQ(f.latency.probability, 0.5);
    EXPECT_EQ(f.latency_max, 20ms);
    EXPECT_EQ(f.trickle_delay, 3ms);
    EXPECT_EQ(f.idle_timeout, 150ms);
    const auto again = parse_faults_json(to_json(f));
    EXPECT_EQ(to_json(again), to_json(f));
    EXPECT_TRUE(f.any());
}

// Long decimals that Boost.JSON 1.81 parses a little off (it has no exact mode): read back
// from their own JSON they must still be the same faults (found by fuzz_sandbox_config).
TEST(SandboxConfig, FaultsJsonRoundTripOfLongProbabilities) {
    for (const char* p : {"0.000000000000000008942981972700838115", "0.0000000000000000000008942981972700838115", "0.12345678901234567890123", "1e-300",
                          "0.99999999999999999999"}) {
        const auto f = parse_faults_json(std::string(R"({"throttle":{"probability":)") + p + "}}");
        const std::string once = to_json(f);
        EXPECT_EQ(to_json(parse_faults_json(once)), once) << p;
    }
}

TEST(SandboxConfig, FaultErrorsNameTheKey) {
    try {
        parse_faults_json(R"({"server_error":{"status":418}})");
        FAIL() << "accepted status 418";
    } catch (const sandbox_config_error& e) {
        EXPECT_EQ(e.key(), "server_error.status");
    }
    try {
        parse_faults_json(R"({"latency":{"probability":1.5}})");
        FAIL();
    } catch (const sandbox_config_error& e) {
        EXPECT_EQ(e.key(), "latency.probability");
    }
    try {
        parse_faults_json(R"({"meteor":{}})");
        FAIL();
    } catch (const sandbox_config_error& e) {
        EXPECT_EQ(e.key(), "meteor");
    }
    EXPECT_THROW(parse_faults_json("{not json"), sandbox_config_error);
    EXPECT_THROW(parse_faults_json(R"({"trickle":{"delay_ms":-1}})"), sandbox_config_error);
}

TEST(SandboxConfig, FaultSettingFlag) {
    fault_params f;
    apply_fault_setting(f, "server_error.every_nth=3");
    apply_fault_setting(f, "server_error.body=empty");
    apply_fault_setting(f, "latency.probability=0.25");
    apply_fault_setting(f, "idle_timeout_ms=200");
    EXPECT_EQ(f.server_error.every_nth, 3u);
    EXPECT_EQ(f.server_error_body, fault_body::empty);
    EXPECT_DOUBLE_EQ(f.latency.probability, 0.25);
    EXPECT_EQ(f.idle_timeout, 200ms);
    EXPECT_THROW(apply_fault_setting(f, "server_error"), sandbox_config_error);
    EXPECT_THROW(apply_fault_setting(f, "server_error.colour=red"), sandbox_config_error);
}

TEST(SandboxConfig, WholeFileAndNormalize) {
    sandbox_params p;
    apply_sandbox_json(p, R"({"listen":"[::1]:9443","api_keys":["rk_a"],"campaigns":[
        {"id":"33333333-3333-4333-8333-333333333333","duplicates":"reuse"}],"gateways":[],
        "rate_limit_per_second":5,"limits":{"max_body_bytes":1000,"idle_timeout_ms":100},"threads":2})");
    EXPECT_EQ(p.listen_address, "::1");
    EXPECT_EQ(p.port, 9443);
    EXPECT_EQ(p.limits.max_body_bytes, 1000u);
    EXPECT_EQ(p.limits.idle_timeout, 100ms);
    const auto n = normalize(p);
    ASSERT_EQ(n.campaigns.size(), 1u);
    EXPECT_EQ(n.campaigns[0].duplicates, duplicate_policy::reuse);
    ASSERT_EQ(n.gateways.size(), 1u);
    EXPECT_EQ(n.gateways[0], default_sandbox_gateway);

    try {
        sandbox_params q;
        apply_sandbox_json(q, R"({"campaigns":[{"id":"x","duplicates":"sometimes"}]})");
        FAIL();
    } catch (const sandbox_config_error& e) {
        EXPECT_EQ(e.key(), "campaigns[0].duplicates");
    }
    try {
        sandbox_params q;
        q.campaigns = {{"NOT-A-UUID", duplicate_policy::allow, ""}};
        normalize(q);
        FAIL();
    } catch (const sandbox_config_error& e) {
        EXPECT_EQ(e.key(), "campaigns[0].id");
    }
    try {
        sandbox_params q;
        apply_sandbox_json(q, R"({"limitz":{}})");
        FAIL();
    } catch (const sandbox_config_error& e) {
        EXPECT_EQ(e.key(), "limitz");
    }
    EXPECT_THROW(apply_sandbox_json(p, R"({"listen":"nohostport"})"), sandbox_config_error);
    EXPECT_THROW(apply_sandbox_json(p, R"({"port":70000})"), sandbox_config_error);
}

TEST(SandboxConfig, ShippedConfigFileLoads) {
    const auto p = normalize(load_sandbox_params(std::string(CATALYST_SOURCE_DIR) + "/config/sandbox.json"));
    EXPECT_EQ(p.api_keys.front(), "rk_your_api_key");
    bool found = false;
    for (const auto& c : p.campaigns)
        if (c.id == "a1b2c3d4-e5f6-7890-abcd-ef1234567890") found = c.duplicates == duplicate_policy::allow;
    EXPECT_TRUE(found);
    EXPECT_FALSE(p.gateways.empty());
    EXPECT_FALSE(p.faults.any());
    try {
        load_sandbox_params("/nonexistent/sandbox.json");
        FAIL();
    } catch (const sandbox_config_error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/sandbox.json"), std::string::npos);
    }
}

// The per-key limit's answer: a token, or the Retry-After in whole seconds (at least 1).
TEST(SandboxTokenBucket, BurstThenWait) {
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

TEST(SandboxIdempotency, ProceedReplayConflictInProgress) {
    stats_counters stats;
    const auto t0 = idempotency_store::time_point{} + std::chrono::hours(1);
    idempotency_store s(std::chrono::milliseconds(0), 1000, stats);
    unsigned status = 0;
    std::string body;
    EXPECT_EQ(s.begin(0, "k1", "{a}", t0, status, body), idempotency_outcome::proceed);
    EXPECT_EQ(s.begin(0, "k1", "{a}", t0, status, body), idempotency_outcome::in_progress);
    EXPECT_EQ(s.begin(0, "k1", "{b}", t0, status, body), idempotency_outcome::conflict);
    s.complete(0, "k1", 201, "answer");
    EXPECT_EQ(s.begin(0, "k1", "{a}", t0, status, body), idempotency_outcome::replay);
    EXPECT_EQ(status, 201u);
    EXPECT_EQ(body, "answer");
    // Keys are per API key.
    EXPECT_EQ(s.begin(1, "k1", "{b}", t0, status, body), idempotency_outcome::proceed);
    s.abandon(1, "k1");
    EXPECT_EQ(s.begin(1, "k1", "{c}", t0, status, body), idempotency_outcome::proceed);
}

TEST(SandboxIdempotency, RecordsExpireAfterTheTtl) {
    stats_counters stats;
    const auto t0 = idempotency_store::time_point{} + std::chrono::hours(1);
    idempotency_store s(std::chrono::milliseconds(100), 1000, stats);
    unsigned status = 0;
    std::string payload;
    ASSERT_EQ(s.begin(0, "k1", "{a}", t0, status, payload), idempotency_outcome::proceed);
    s.complete(0, "k1", 201, "ps_1");
    EXPECT_EQ(s.begin(0, "k1", "{a}", t0, status, payload), idempotency_outcome::replay);
    EXPECT_EQ(s.begin(0, "k1", "{a}", t0 + 99ms, status, payload), idempotency_outcome::replay);
    EXPECT_EQ(stats.idempotency_expired.load(), 0u);
    // Forgotten at the TTL: the same key is new again, even with another body.
    EXPECT_EQ(s.begin(0, "k1", "{other}", t0 + 100ms, status, payload), idempotency_outcome::proceed);
    EXPECT_EQ(stats.idempotency_expired.load(), 1u);
    EXPECT_EQ(s.size(), 1u);
}

TEST(SandboxIdempotency, TheCapEvictsTheOldest) {
    stats_counters stats;
    const auto t0 = idempotency_store::time_point{} + std::chrono::hours(1);
    idempotency_store s(std::chrono::milliseconds(0), 3, stats);
    unsigned status = 0;
    std::string payload;
    for (int i = 0; i < 10; ++i) {
        const auto k = "k" + std::to_string(i);
        ASSERT_EQ(s.begin(0, k, "{}", t0, status, payload), idempotency_outcome::proceed);
        s.complete(0, k, 201, "ps_" + std::to_string(i));
        EXPECT_LE(s.size(), 3u);
    }
    EXPECT_EQ(stats.idempotency_evicted.load(), 7u);
    EXPECT_EQ(s.begin(0, "k9", "{}", t0, status, payload), idempotency_outcome::replay);  // the newest stay
    EXPECT_EQ(payload, "ps_9");
    EXPECT_EQ(s.begin(0, "k0", "{}", t0, status, payload), idempotency_outcome::proceed);  // the oldest went
    EXPECT_EQ(s.clear(), 3u);
    EXPECT_EQ(s.size(), 0u);
}

TEST(SandboxSessions, TheLedgerKeepsTheNewestAndPages) {
    session_store s(4);
    std::vector<session_record> evicted;
    for (int i = 0; i < 6; ++i) {
        session_record r;
        r.token = "ps_" + std::to_string(i);
        s.insert(std::move(r), evicted);
    }
    ASSERT_EQ(evicted.size(), 2u);
    EXPECT_EQ(evicted[0].token, "ps_0");
    EXPECT_EQ(s.size(), 4u);
    session_record found;
    EXPECT_FALSE(s.find("ps_1", found));
    ASSERT_TRUE(s.find("ps_4", found));
    EXPECT_EQ(found.token, "ps_4");
    std::uint64_t first = 0, next = 0;
    auto page = s.page(0, 3, first, next);  // 0 and 1 were evicted: starts at 2
    ASSERT_EQ(page.size(), 3u);
    EXPECT_EQ(first, 2u);
    EXPECT_EQ(page[0].token, "ps_2");
    EXPECT_EQ(next, 5u);
    page = s.page(next, 3, first, next);
    ASSERT_EQ(page.size(), 1u);
    EXPECT_EQ(page[0].token, "ps_5");
    EXPECT_EQ(next, 0u);  // nothing follows
    EXPECT_EQ(s.clear(), 4u);
    EXPECT_FALSE(s.find("ps_4", found));
}

TEST(SandboxErrors, DrfShapeNestsLead) {
    const auto body = field_errors_body({{"amount", "A valid number is required."},
                                         {"lead.email", "Enter a valid email address."},
                                         {"lead.country", "This field is required."},
                                         {"amount", "second"}});
    const auto v = boost::json::parse(body);
    EXPECT_EQ(v.at("amount").as_array().size(), 2u);
    EXPECT_EQ(v.at("lead").at("email").at(0).as_string(), "Enter a valid email address.");
    EXPECT_EQ(v.at("lead").at("country").at(0).as_string(), "This field is required.");
    const auto nf = boost::json::parse(field_errors_body({{"non_field_errors", "malformed \"JSON\""}}));
    EXPECT_EQ(nf.at("non_field_errors").at(0).as_string(), "malformed \"JSON\"");
}

TEST(SandboxErrors, RedactKey) {
    EXPECT_EQ(redact_sandbox_key("rk_your_api_key"), "rk_****_key");
    EXPECT_EQ(redact_sandbox_key("rk_test_123"), "rk_****");
    EXPECT_EQ(redact_sandbox_key(""), "");
}

}  // namespace
