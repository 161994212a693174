// The sandbox's configuration: the faults as JSON (both ways), errors that name the key, the
// --fault flag, a whole file normalised, the shipped config file, and numbers out of range.

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

TEST(sandbox_config, faults_json_round_trip) {
    auto f = parse_faults_json(
        R"({"server_error":{"every_nth":3,"status":502,"retry_after":2,"body":"html"},
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
TEST(sandbox_config, faults_json_round_trip_of_long_probabilities) {
    for (const char* p :
         {"0.000000000000000008942981972700838115", "0.0000000000000000000008942981972700838115",
          "0.12345678901234567890123", "1e-300", "0.99999999999999999999"}) {
        const auto f = parse_faults_json(std::string(R"({"throttle":{"probability":)") + p + "}}");
        const std::string once = to_json(f);
        EXPECT_EQ(to_json(parse_faults_json(once)), once) << p;
    }
}

TEST(sandbox_config, fault_errors_name_the_key) {
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

TEST(sandbox_config, fault_setting_flag) {
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

TEST(sandbox_config, whole_file_and_normalize) {
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

TEST(sandbox_config, shipped_config_file_loads) {
    const auto p =
        normalize(load_sandbox_params(std::string(CATALYST_SOURCE_DIR) + "/config/sandbox.json"));
    EXPECT_EQ(p.api_keys.front(), "rk_your_api_key");
    bool found = false;
    for (const auto& c : p.campaigns)
        if (c.id == "a1b2c3d4-e5f6-7890-abcd-ef1234567890")
            found = c.duplicates == duplicate_policy::allow;
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

// A number beyond what its setting's type holds is a range error, a double beyond 2^64 too
// (found by fuzz/fuzz_sandbox_config): it is checked before any conversion to an integer,
// which would be undefined behaviour (reported by UBSan).
TEST(sandbox_config, huge_double_is_a_range_error) {
    for (const char* text : {R"({"threads": 7.7e34})", R"({"threads": 1.8446744073709552e19})",
                             R"({"faults": {"server_error": {"every_nth": 1e300}}})"}) {
        sandbox_params p;
        try {
            apply_sandbox_json(p, text);
            ADD_FAILURE() << "accepted " << text;
        } catch (const sandbox_config_error& e) {
            EXPECT_NE(std::string(e.what()).find("must be <="), std::string::npos) << e.what();
        }
    }
    sandbox_params p;
    apply_sandbox_json(p, R"({"threads": 2.0})");
    EXPECT_EQ(p.threads, 2u);
}

}  // namespace
