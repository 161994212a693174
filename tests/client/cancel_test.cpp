// Cancellation: a cancelled call completes `cancelled` once and never reaches the wire after
// its cancel, whatever the completion token (cancel_after with a callback, a coroutine,
// deferred, a future), wherever the call is (queued, on the wire, being handed to a
// connection, right after the call), from whichever thread; `total` cancellation is honoured
// only while nothing was sent. A cancelled exchange closes its connection, and the pool goes
// on serving.
#include "client_fixture.hpp"
#include "silent_listener.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <thread>
#include <vector>

using namespace catalyst;
using namespace catalyst::test;
using namespace std::chrono_literals;
using boost::system::error_code;
namespace net = boost::asio;

namespace {

using cancel = client_test;

TEST_F(cancel, cancel_after_with_every_token_kind) {
    sandbox_params sp;
    sp.faults.latency.every_nth = 1;
    sp.faults.latency_min = 2000ms;
    start(sp);
    auto p = params();
    p.idempotency = idempotency_policy::disabled;
    net::io_context ioc;
    client c(ioc, p);
    std::atomic<int> cancelled{0};
    // callback
    c.async_create_session(valid_request("c1@example.com"),
                           catalyst::cancel_after(50ms, [&](error_code ec, session) {
                               EXPECT_EQ(ec, errc::cancelled);
                               ++cancelled;
                           }));
    // coroutine, and deferred through cancel_after
    net::co_spawn(
        ioc,
        [&]() -> net::awaitable<void> {
            const auto r2 = valid_request("c2@example.com");
            auto [ec, s] = co_await c.async_create_session(
                r2, catalyst::cancel_after(50ms, net::as_tuple(net::use_awaitable)));
            EXPECT_EQ(ec, errc::cancelled);
            ++cancelled;
            const auto r3 = valid_request("c3@example.com");
            auto op = c.async_create_session(r3, catalyst::cancel_after(50ms, net::deferred));
            auto [ec2, s2] = co_await std::move(op)(net::as_tuple(net::use_awaitable));
            EXPECT_EQ(ec2, errc::cancelled);
            ++cancelled;
        },
        net::detached);
    auto work = net::make_work_guard(ioc);
    std::thread t([&] { ioc.run_for(20s); });
    // future
    auto f = c.async_create_session(valid_request("c4@example.com"),
                                    catalyst::cancel_after(50ms, net::use_future));
    try {
        f.get();
        ADD_FAILURE() << "not cancelled";
    } catch (const boost::system::system_error& e) {
        EXPECT_EQ(e.code(), errc::cancelled);
        ++cancelled;
    }
    EXPECT_TRUE(eventually([&] { return cancelled.load() >= 4; }, 4s));
    EXPECT_EQ(cancelled.load(), 4);
    std::promise<void> down;
    c.async_shutdown(0ms, [&](error_code) { down.set_value(); });
    EXPECT_EQ(down.get_future().wait_for(20s), std::future_status::ready);
    work.reset();
    t.join();
    // Each cancelled exchange closed its connection: nothing in flight is left behind.
    const auto m = c.metrics();
    EXPECT_EQ(m.in_flight, 0u);
    EXPECT_EQ(m.failures_by_errc[static_cast<int>(errc::cancelled)], 4u);
    EXPECT_EQ(m.connections_opened, m.connections_closed);
}

TEST_F(cancel, cancel_after_that_does_not_fire) {
    start();
    client c(params());
    auto s =
        c.async_create_session(valid_request(), catalyst::cancel_after(10s, net::use_future)).get();
    EXPECT_EQ(s.token.rfind("ps_", 0), 0u);
}

TEST_F(cancel, cancellation_mid_flight_and_while_queued) {
    sandbox_params sp;
    sp.faults.latency.every_nth = 1;
    sp.faults.latency_min = 800ms;
    start(sp);
    auto p = params();
    p.max_connections = 1;
    net::io_context ioc;
    client c(ioc, p);
    net::cancellation_signal in_flight, queued;
    error_code e1, e2;
    int done = 0;
    c.async_create_session(
        valid_request("a@example.com"),
        net::bind_cancellation_slot(in_flight.slot(), [&](error_code ec, session) {
            e1 = ec;
            ++done;
        }));
    c.async_create_session(valid_request("b@example.com"),
                           net::bind_cancellation_slot(queued.slot(), [&](error_code ec, session) {
                               e2 = ec;
                               ++done;
                           }));
    net::steady_timer t1(ioc, 50ms), t2(ioc, 150ms);
    t1.async_wait([&](error_code) { queued.emit(net::cancellation_type::terminal); });
    t2.async_wait([&](error_code) { in_flight.emit(net::cancellation_type::terminal); });
    // A third request goes through the pool after both cancellations.
    error_code e3 = errc::timeout;
    net::steady_timer t3(ioc, 300ms);
    t3.async_wait([&](error_code) {
        sb_->set_faults({});
        c.async_create_session(valid_request("c@example.com"), [&](error_code ec, session) {
            e3 = ec;
            ++done;
            c.async_shutdown(0ms, [](error_code) {});
        });
    });
    ioc.run_for(20s);
    EXPECT_EQ(done, 3);
    EXPECT_EQ(e1, errc::cancelled);
    EXPECT_EQ(e2, errc::cancelled);
    EXPECT_FALSE(e3) << e3.message();
    const auto m = c.metrics();
    EXPECT_EQ(m.connections_opened, 2u);  // the cancelled exchange's connection was closed
    EXPECT_EQ(m.connections_closed, 2u);
}

TEST_F(cancel, total_cancellation_is_refused_once_sent) {
    sandbox_params sp;
    sp.faults.latency.every_nth = 1;
    sp.faults.latency_min = 300ms;
    start(sp);
    net::io_context ioc;
    client c(ioc, params());
    net::cancellation_signal sig;
    error_code got = errc::timeout;
    c.async_create_session(valid_request(),
                           net::bind_cancellation_slot(sig.slot(), [&](error_code ec, session) {
                               got = ec;
                               c.async_shutdown(0ms, [](error_code) {});
                           }));
    // Emitted once the sandbox has the request (`total` is honoured while connecting: a fixed
    // delay would race the connection under a slow sanitizer).
    net::steady_timer t(ioc);
    std::function<void()> when_sent = [&] {
        t.expires_after(5ms);
        t.async_wait([&](error_code) {
            if (sb_->stats().requests == 0) return when_sent();
            sig.emit(net::cancellation_type::total);
        });
    };
    when_sent();
    ioc.run_for(20s);
    EXPECT_FALSE(got) << got.message();
}

// `total` while the connection is still being opened (nothing sent): the call is cancelled at
// once instead of waiting for the handshake to time out.
TEST_F(cancel, total_cancellation_is_honoured_while_connecting) {
    start();  // only for the fixture; the target is a listener that never speaks TLS
    silent_listener server;
    auto p = params();
    p.base_url = server.base_url();
    p.tls_handshake_timeout = 10s;
    net::io_context ioc;
    client c(ioc, p);
    net::cancellation_signal sig;
    error_code got;
    bool done = false;
    diagnostics d;
    const auto start_at = std::chrono::steady_clock::now();
    c.async_create_session(valid_request(), request_options{}, d,
                           net::bind_cancellation_slot(sig.slot(), [&](error_code ec, session) {
                               got = ec;
                               done = true;
                           }));
    net::steady_timer t(ioc, 200ms);
    t.async_wait([&](error_code) { sig.emit(net::cancellation_type::total); });
    for (int i = 0; i < 400 && !done; ++i) ioc.run_for(25ms);
    EXPECT_TRUE(done);
    EXPECT_EQ(got, errc::cancelled) << d.to_string();
    EXPECT_LT(std::chrono::steady_clock::now() - start_at, 5s);
}

TEST_F(cancel, cancellation_emitted_right_after_the_call_is_honoured) {
    start();
    net::io_context ioc;
    client c(ioc, params());
    net::cancellation_signal sig;
    error_code got;
    int calls = 0;
    net::post(ioc, [&] {
        c.async_create_session(valid_request(),
                               net::bind_cancellation_slot(sig.slot(), [&](error_code ec, session) {
                                   got = ec;
                                   ++calls;
                                   c.async_shutdown(0ms, [](error_code) {});
                               }));
        sig.emit(net::cancellation_type::terminal);
    });
    ioc.run_for(20s);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(got, errc::cancelled);
    EXPECT_EQ(sb_->stats().requests, 0u);
}

TEST_F(cancel, calls_and_cancellations_from_many_threads) {
    sandbox_params sp;
    sp.threads = 2;
    start(sp);
    auto p = params();
    p.threads = 2;
    p.max_connections = 8;
    client c(p);
    constexpr int per_thread = 150;
    constexpr int n_threads = 4;
    std::vector<std::atomic<int>> completions(per_thread * n_threads);
    std::atomic<int> ok{0}, cancelled{0}, other{0}, left{per_thread * n_threads};
    std::promise<void> all;
    std::shared_future<void> all_done = all.get_future().share();
    std::vector<std::thread> callers;
    for (int t = 0; t < n_threads; ++t) {
        callers.emplace_back([&, t] {
            std::vector<std::unique_ptr<net::cancellation_signal>> signals;
            for (int i = 0; i < per_thread; ++i) {
                const int id = t * per_thread + i;
                auto req = valid_request("mt" + std::to_string(id) + "@example.com");
                auto handler = [&, id](error_code ec, session) {
                    completions[id].fetch_add(1);
                    (!ec ? ok : ec == errc::cancelled ? cancelled : other).fetch_add(1);
                    if (left.fetch_sub(1) == 1) all.set_value();
                };
                if (i % 3 == 0) {
                    signals.push_back(std::make_unique<net::cancellation_signal>());
                    c.async_create_session(
                        req, net::bind_cancellation_slot(signals.back()->slot(), handler));
                    signals.back()->emit(
                        net::cancellation_type::terminal);  // from this foreign thread
                } else {
                    c.async_create_session(req, handler);
                }
            }
            // The signals must outlive their operations.
            all_done.wait_for(60s);
        });
    }
    for (auto& th : callers) th.join();
    ASSERT_EQ(left.load(), 0);
    for (auto& n : completions) EXPECT_EQ(n.load(), 1);
    EXPECT_EQ(other.load(), 0);
    EXPECT_EQ(cancelled.load(), per_thread * n_threads / 3);  // every cancelled call, none else
    // A call cancelled mid-flight may still have created its session; nothing else did.
    const auto created = sb_->stats().created;
    EXPECT_GE(created, static_cast<std::uint64_t>(ok.load()));
    EXPECT_LE(created, static_cast<std::uint64_t>(ok.load() + cancelled.load()));
}

// A call cancelled while it is being handed to a connection that turns out unusable. On the
// caller's io_context the order of handlers is the order they were posted: the call's
// submission, then its cancel; between the two the call is handed to an idle connection that
// the server has written to while it was idle (an unsolicited answer: the connection must not
// be used), so the call comes back to the queue. A cancel that the requeue forgot would let
// it go out on a fresh connection.
TEST_F(cancel, a_cancel_during_the_hand_over_to_a_connection_that_turns_out_unusable_holds) {
    hostile_options o;
    o.extra_delay = 2ms;
    hostile_server server(o);
    extra_answer_after_the_first(server);  // 2 ms after the first answer
    net::io_context ioc;
    auto p = params_for(server);
    p.max_connections = 4;
    client c(ioc, p);

    // One call: a connection is opened, used, and left idle.
    bool first = false;
    c.async_create_session(valid_request("first@example.com"), [&](error_code ec, session) {
        EXPECT_FALSE(ec) << ec.message();
        first = true;
    });
    while (!first && ioc.run_one_for(10s)) {
    }
    ASSERT_TRUE(first);
    // The server writes to the idle connection while nothing runs on the client's side.
    ASSERT_TRUE(eventually([&] { return server.extras_sent() >= 1; }, 10s));
    ASSERT_EQ(server.extras_sent(), 1u);
    // Time must pass: at reuse the connection peeks at its socket only after an idle spell of
    // a millisecond or more (connection_fsm.hpp, reuse_peek_after).
    std::this_thread::sleep_for(20ms);

    // The call, then at once its cancel: both posted, in this order.
    net::cancellation_signal signal;
    error_code got;
    bool done = false;
    c.async_create_session(valid_request("second@example.com"),
                           net::bind_cancellation_slot(signal.slot(), [&](error_code ec, session) {
                               got = ec;
                               done = true;
                           }));
    signal.emit(net::cancellation_type::terminal);
    const auto requests_before = server.requests();
    const auto run_limit = std::chrono::steady_clock::now() + 10s;
    while (!done && std::chrono::steady_clock::now() < run_limit) ioc.run_one_for(100ms);
    ASSERT_TRUE(done);
    EXPECT_EQ(got, errc::cancelled) << got.message();
    // A request that went out anyway would reach the server within these 200 ms of running
    // the client's handlers (loopback); none may.
    c.async_shutdown(0ms, [](error_code) {});
    ioc.run_for(200ms);
    EXPECT_EQ(server.requests(), requests_before) << "the cancelled call was sent";
}

}  // namespace
