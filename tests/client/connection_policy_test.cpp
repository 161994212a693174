#include "client/connection_policy.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

using namespace catalyst;
using namespace catalyst::detail;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(connection_policy, close_reasons) {
    client_params p;
    p.idle_timeout = seconds(30);
    p.max_requests_per_connection = 10;
    p.max_connection_age = seconds(60);
    const auto t0 = std::chrono::steady_clock::time_point(seconds(1000));
    connection_facts c;
    c.opened = t0;
    c.last_used = t0;
    c.requests_served = 1;
    EXPECT_EQ(close_reason(c, p, t0 + seconds(1)), "");
    EXPECT_EQ(close_reason(c, p, t0 + seconds(30)), "idle timeout");
    EXPECT_EQ(close_reason(c, p, t0 + seconds(60)), "max connection age");
    c.requests_served = 10;
    EXPECT_EQ(close_reason(c, p, t0), "max requests per connection");
    c.requests_served = 1;
    c.server_said_close = true;
    EXPECT_EQ(close_reason(c, p, t0), "server asked to close");
    c.server_said_close = false;
    c.broken = true;
    EXPECT_EQ(close_reason(c, p, t0), "broken");

    p.max_requests_per_connection = 0;
    p.max_connection_age = milliseconds(0);
    p.idle_timeout = milliseconds(0);
    c.broken = false;
    c.requests_served = 1'000'000;
    EXPECT_EQ(close_reason(c, p, t0 + seconds(100000)), "");
}

TEST(connection_policy, idle_deadline_is_the_earlier_of_idle_and_age) {
    client_params p;
    const auto t0 = std::chrono::steady_clock::time_point(seconds(1000));
    connection_facts c;
    c.opened = t0;
    c.last_used = t0 + seconds(50);
    p.idle_timeout = seconds(30);
    p.max_connection_age = seconds(60);
    EXPECT_EQ(idle_deadline(c, p), t0 + seconds(60));
    p.max_connection_age = milliseconds(0);
    EXPECT_EQ(idle_deadline(c, p), t0 + seconds(80));
    p.idle_timeout = milliseconds(0);
    EXPECT_EQ(idle_deadline(c, p), std::chrono::steady_clock::time_point::max());
}

TEST(connection_policy, keep_alive_timeout_is_parsed) {
    using std::chrono::milliseconds;
    EXPECT_EQ(parse_keep_alive_timeout("timeout=5"), milliseconds(5000));
    EXPECT_EQ(parse_keep_alive_timeout("timeout=5, max=100"), milliseconds(5000));
    EXPECT_EQ(parse_keep_alive_timeout("max=100, Timeout=2"), milliseconds(2000));
    EXPECT_EQ(parse_keep_alive_timeout(" timeout=1 "), milliseconds(1000));
    EXPECT_EQ(parse_keep_alive_timeout(""), milliseconds(0));
    EXPECT_EQ(parse_keep_alive_timeout("timeout="), milliseconds(0));
    EXPECT_EQ(parse_keep_alive_timeout("timeout=-1"), milliseconds(0));
    EXPECT_EQ(parse_keep_alive_timeout("timeout=5s"), milliseconds(0));
    EXPECT_EQ(parse_keep_alive_timeout("timeout=99999999999"), milliseconds(0));
}

TEST(connection_policy, server_keep_alive_limit_closes_before_the_server_does) {
    client_params p;
    p.idle_timeout = milliseconds(30'000);
    connection_facts c;
    c.opened = c.last_used = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
    c.requests_served = 1;
    c.server_idle_limit = milliseconds(1000);  // the server closes after 1 s
    EXPECT_EQ(idle_deadline(c, p), c.last_used + milliseconds(500));
    EXPECT_EQ(close_reason(c, p, c.last_used + milliseconds(499)), "");
    EXPECT_EQ(close_reason(c, p, c.last_used + milliseconds(500)), "server's keep-alive timeout");
    c.server_idle_limit = milliseconds(5000);
    EXPECT_EQ(idle_deadline(c, p), c.last_used + milliseconds(4000));
}

#include "client/client_impl.hpp"

TEST(uuid, version_4_lower_case_hyphenated_and_distinct) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        auto u = catalyst::detail::uuid_v4();
        ASSERT_EQ(u.size(), 36u);
        EXPECT_EQ(u[8], '-');
        EXPECT_EQ(u[13], '-');
        EXPECT_EQ(u[18], '-');
        EXPECT_EQ(u[23], '-');
        EXPECT_EQ(u[14], '4');
        EXPECT_TRUE(u[19] == '8' || u[19] == '9' || u[19] == 'a' || u[19] == 'b') << u;
        for (char c : u) EXPECT_TRUE(c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << u;
        seen.insert(u);
    }
    EXPECT_EQ(seen.size(), 1000u);
    // Every random digit takes every value: each byte of both draws lands in its own place.
    for (std::size_t at = 0; at < 36; ++at) {
        if (at == 8 || at == 13 || at == 18 || at == 23 || at == 14) continue;
        std::set<char> values;
        for (const auto& u : seen) values.insert(u[at]);
        EXPECT_EQ(values.size(), at == 19 ? 4u : 16u) << "digit " << at;
    }
}
