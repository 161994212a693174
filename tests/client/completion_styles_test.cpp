// Completion styles against the in-process sandbox: a callback on the caller's io_context
// (never called inline), a future with the client's own threads (an error as an exception),
// a coroutine and a deferred operation, and a handler bound to another executor.
#include "client_fixture.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <gtest/gtest.h>

#include <exception>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
using namespace catalyst;
using namespace catalyst::test;
using namespace std::chrono_literals;
using boost::system::error_code;

namespace {

using completion_styles = client_test;

TEST_F(completion_styles, callback_on_the_callers_io_context) {
    start();
    net::io_context ioc;
    client c(ioc, params());
    error_code got;
    session s;
    bool called = false;
    c.async_create_session(valid_request(), [&](error_code ec, session r) {
        called = true;
        got = ec;
        s = std::move(r);
        c.async_shutdown(0ms, [](error_code) {});
    });
    EXPECT_FALSE(called);  // never inline
    ioc.run_for(20s);
    ASSERT_TRUE(called);
    ASSERT_FALSE(got) << got.message();
    EXPECT_EQ(s.token.rfind("ps_", 0), 0u);
    EXPECT_EQ(s.status, session_status::pending);
    EXPECT_FALSE(s.payment_url.empty());
    EXPECT_FALSE(s.replayed);
    EXPECT_EQ(sb_->stats().created, 1u);
}

TEST_F(completion_styles, future_with_owned_threads) {
    start();
    auto p = params();
    p.threads = 2;
    client c(p);
    std::vector<std::future<session>> fs;
    for (int i = 0; i < 10; ++i)
        fs.push_back(c.async_create_session(valid_request("f" + std::to_string(i) + "@example.com"),
                                            net::use_future));
    std::set<std::string> tokens;
    for (auto& f : fs) tokens.insert(f.get().token);
    EXPECT_EQ(tokens.size(), 10u);
    EXPECT_EQ(sb_->stats().created, 10u);
}

TEST_F(completion_styles, future_carries_the_error_as_an_exception) {
    start();
    client c(params());
    auto bad = valid_request("not-an-email");
    auto f = c.async_create_session(bad, net::use_future);
    try {
        f.get();
        FAIL() << "no exception";
    } catch (const boost::system::system_error& e) {
        EXPECT_EQ(e.code(), errc::validation_failed);
    }
}

TEST_F(completion_styles, coroutine_and_deferred) {
    start();
    net::io_context ioc;
    client c(ioc, params());
    session a, b;
    error_code failure;
    net::co_spawn(
        ioc,
        [&]() -> net::awaitable<void> {
            // Named requests, not temporaries: GCC 12 mishandles temporaries that live across
            // a co_await in one full-expression.
            const auto r1 = valid_request("co1@example.com");
            a = co_await c.async_create_session(r1, net::use_awaitable);
            const auto r2 = valid_request("co2@example.com");
            auto op = c.async_create_session(r2, net::deferred);
            b = co_await std::move(op)(net::use_awaitable);
            const auto r3 = valid_request("bad");
            auto [ec, s] = co_await c.async_create_session(r3, net::as_tuple(net::use_awaitable));
            failure = ec;
            co_await c.async_shutdown(0ms, net::use_awaitable);
        },
        [](std::exception_ptr e) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& x) {
                    ADD_FAILURE() << x.what();
                }
            }
        });
    ioc.run_for(20s);
    EXPECT_EQ(a.token.rfind("ps_", 0), 0u);
    EXPECT_EQ(b.token.rfind("ps_", 0), 0u);
    EXPECT_NE(a.token, b.token);
    EXPECT_EQ(failure, errc::validation_failed);
}

TEST_F(completion_styles, handler_runs_on_a_bound_executor) {
    start();
    net::io_context other;  // declared first: it must outlive the client's threads
    client c(params());
    std::thread::id ran_on;
    c.async_create_session(valid_request(), net::bind_executor(other, [&](error_code ec, session) {
                               EXPECT_FALSE(ec) << ec.message();
                               ran_on = std::this_thread::get_id();
                           }));
    // No work guard: the pending operation itself keeps `other` busy until it completes.
    other.run_for(20s);
    EXPECT_EQ(ran_on, std::this_thread::get_id());
}

}  // namespace
