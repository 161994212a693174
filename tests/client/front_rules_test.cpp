// The client's front without a server: the one base-URL rule, the one header-value rule,
// the default handler executor, and exceptions that carry the diagnostics.
#include "client_fixture.hpp"

#include <catalyst/config.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <future>
#include <thread>

namespace net = boost::asio;
using namespace catalyst;
using namespace std::chrono_literals;

namespace {
client_params offline_params() {
    client_params p;
    p.base_url = "https://127.0.0.1:9/api/v1";
    p.api_key = "rk_test_123";
    return p;
}
}  // namespace

// check() and the client agree: plain http is refused by both (check() used to accept it and
// the client to refuse it later).
TEST(front_rules, one_base_url_rule) {
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

// A TAB is a legal header-value character: what check() accepts, the client accepts (it used
// to refuse it); in tls.server_name (not a header: SNI) it is refused by check(), like a space.
TEST(front_rules, one_header_value_rule) {
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
TEST(front_rules, handlers_default_to_the_callers_executor) {
    net::io_context ioc;
    client c(ioc.get_executor(), offline_params());
    EXPECT_EQ(c.get_executor(), client::executor_type(ioc.get_executor()));
}

TEST(front_rules, with_diagnostics_throws_error_with_diagnostics) {
    net::io_context ioc;
    auto guard = net::make_work_guard(ioc);
    std::thread t([&] { ioc.run(); });
    {
        client c(ioc, offline_params());
        auto bad = catalyst::test::valid_request("not an email");
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
