// The client's front, where nothing reaches a server: the one base-URL rule, the one
// header-value rule, invalid configurations refused at construction naming the field, invalid
// requests refused before the wire naming each field, the default handler executor, and
// exceptions that carry the diagnostics.
#include "client_fixture.hpp"

#include <catalyst/config.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <future>
#include <set>
#include <string>
#include <thread>

namespace net = boost::asio;
using namespace catalyst;
using namespace catalyst::test;
using namespace std::chrono_literals;

namespace {
using front_rules = client_test;

client_params offline_params() {
    client_params p;
    p.base_url = "https://127.0.0.1:9/api/v1";
    p.api_key = "rk_test_123";
    return p;
}
}  // namespace

// check() and the client agree: plain http is refused by both, so that a configuration that
// passed check() is never refused later by the client.
TEST_F(front_rules, one_base_url_rule) {
    auto p = offline_params();
    p.base_url = "http://127.0.0.1:9/api/v1";
    try {
        check(p);
        ADD_FAILURE() << "check() accepted plain http";
    } catch (const config_error& e) {
        EXPECT_EQ(e.key(), "base_url");
    }
    p.base_url = "https://127.0.0.1:9/api/v1";
    EXPECT_NO_THROW(check(p));
}

// A TAB is a legal header-value character: what check() accepts, the client accepts; in
// tls.server_name (not a header: SNI) it is refused by check(), like a space.
TEST_F(front_rules, one_header_value_rule) {
    auto p = offline_params();
    p.user_agent = "agent\t1.0";
    EXPECT_NO_THROW(check(p));
    net::io_context ioc;
    EXPECT_NO_THROW(client(ioc, p));
    auto q = offline_params();
    q.tls.server_name = "api\t.example";
    EXPECT_THROW(check(q), config_error);
    auto r = offline_params();
    r.user_agent = "agent\r\nX-Evil: 1";
    EXPECT_THROW(check(r), config_error);
    EXPECT_THROW(client(ioc, r), config_error);
}

// With client(executor), handlers default to the caller's executor, not the internal strand.
TEST_F(front_rules, handlers_default_to_the_callers_executor) {
    net::io_context ioc;
    client c(ioc.get_executor(), offline_params());
    EXPECT_EQ(c.get_executor(), client::executor_type(ioc.get_executor()));
}

TEST_F(front_rules, with_diagnostics_throws_error_with_diagnostics) {
    net::io_context ioc;
    auto guard = net::make_work_guard(ioc);
    std::thread t([&] { ioc.run(); });
    {
        client c(ioc, offline_params());
        auto bad = valid_request("not an email");
        std::future<session> f = c.async_create_session(bad, with_diagnostics(net::use_future));
        ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
        try {
            f.get();
            ADD_FAILURE() << "no exception";
        } catch (const error_with_diagnostics& e) {
            EXPECT_EQ(e.code(), errc::validation_failed);
            ASSERT_FALSE(e.get_diagnostics().fields.empty());
            EXPECT_EQ(e.get_diagnostics().fields.front().field, "lead.email");
        }
        // The caller's own diagnostics object is the one filled, and still thrown with.
        diagnostics mine;
        request_options opts;
        auto g = c.async_create_session(bad, opts, mine, with_diagnostics(net::use_future));
        ASSERT_EQ(g.wait_for(10s), std::future_status::ready);
        EXPECT_THROW(g.get(), error_with_diagnostics);
        EXPECT_FALSE(mine.fields.empty());
        // Plain use_future keeps its system_error.
        auto h = c.async_create_session(bad, net::use_future);
        ASSERT_EQ(h.wait_for(10s), std::future_status::ready);
        EXPECT_THROW(h.get(), boost::system::system_error);
    }
    guard.reset();
    t.join();
}

TEST_F(front_rules, bad_configuration_is_refused_naming_the_field) {
    start();
    for (const char* url : {"not a url", "http://127.0.0.1/api/v1", "https:///api/v1"}) {
        auto p = params();
        p.base_url = url;
        try {
            client c(p);
            ADD_FAILURE() << url;
        } catch (const config_error& e) {
            EXPECT_EQ(e.key(), "base_url") << url;
        }
    }
    auto p = params();
    p.api_key = "rk_abc\r\nX-Evil: 1";
    EXPECT_THROW(client c(p), config_error);
    auto q = params();
    q.tls.ca_pem = "not a certificate";
    EXPECT_THROW(client c(q), config_error);
}

TEST_F(front_rules, invalid_requests_never_reach_the_wire) {
    start();
    client c(params());
    auto r = valid_request("nope");
    r.lead.country = "XX";
    diagnostics d;
    auto f = c.async_create_session(r, request_options{}, d, net::use_future);
    EXPECT_THROW(f.get(), boost::system::system_error);
    EXPECT_EQ(d.attempts, 0u);
    std::set<std::string> fields;
    for (const auto& e : d.fields) fields.insert(e.field);
    EXPECT_TRUE(fields.count("lead.email"));
    EXPECT_TRUE(fields.count("lead.country"));
    request_options bad_key;
    bad_key.idempotency_key = "has space";
    diagnostics d2;
    auto f2 = c.async_create_session(valid_request(), bad_key, d2, net::use_future);
    EXPECT_THROW(f2.get(), boost::system::system_error);
    ASSERT_EQ(d2.fields.size(), 1u);
    EXPECT_EQ(d2.fields[0].field, "idempotency_key");
    EXPECT_EQ(sb_->stats().requests, 0u);
}
