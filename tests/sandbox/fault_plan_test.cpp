// Which request gets which fault: the triggers (every n-th eligible request, a probability),
// the precedence among faults that end a request, latency, and the table of faults read,
// written and named. No sockets: the draw is passed in.

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

TEST(fault_plan, every_nth_fires_on_multiples_only) {
    fault_trigger t;
    t.every_nth = 3;
    std::vector<std::uint64_t> hits;
    for (std::uint64_t n = 1; n <= 10; ++n)
        if (fires(t, n, constant(0.0))) hits.push_back(n);
    EXPECT_EQ(hits, (std::vector<std::uint64_t>{3, 6, 9}));
}

TEST(fault_plan, probability_compares_the_draw) {
    fault_trigger t;
    t.probability = 0.25;
    EXPECT_TRUE(fires(t, 1, constant(0.2)));
    EXPECT_FALSE(fires(t, 1, constant(0.3)));
    t.probability = 1.0;
    EXPECT_TRUE(fires(t, 1, constant(0.999)));
    EXPECT_FALSE(fires(fault_trigger{}, 1, constant(0.0)));
}

TEST(fault_plan, precedence_first_ending_fault_wins) {
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

TEST(fault_plan, latency_fixed_or_in_range) {
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

TEST(fault_plan, no_faults_no_plan) {
    const auto p = plan_request_faults(fault_params{}, 7, constant(0.0));
    int count = 0;
    p.for_each([&](fault_kind) { ++count; });
    EXPECT_EQ(count, 0);
    EXPECT_FALSE(fault_params{}.any());
}

TEST(fault_plan, names_are_stable_and_complete) {
    const auto names = fault_names();
    ASSERT_EQ(names.size(), fault_kind_count);
    EXPECT_EQ(names[0], "latency");
    EXPECT_EQ(names[static_cast<unsigned>(fault_kind::close_after_create)], "close_after_create");
    EXPECT_EQ(names.back(), "idle_timeout");
}

// The table drives the reader, the writer, any() and the names: every row works through all.
TEST(fault_plan, every_fault_of_the_table_is_read_written_and_named) {
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

}  // namespace
