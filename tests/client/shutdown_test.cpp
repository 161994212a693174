// Shutdown: a graceful shutdown lets the calls in flight finish and refuses new ones, the end
// of its grace ends the rest with shutting_down, the destructor completes every call it
// finds, and several shutdowns at once from several threads all complete, once each. Each
// test waits until the server has read its calls before it shuts down, so that the calls are
// in flight (not still queued or connecting) whatever the machine's speed.
#include "call_tracker.hpp"
#include "client_fixture.hpp"

#include <boost/asio/use_future.hpp>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
using namespace catalyst;
using namespace catalyst::test;
using namespace std::chrono_literals;
using boost::system::error_code;

namespace {

using shutdown = client_test;

TEST_F(shutdown, graceful_shutdown_lets_in_flight_requests_finish) {
    sandbox_params sp;
    sp.faults.latency.every_nth = 1;
    sp.faults.latency_min = 200ms;
    start(sp);
    auto p = params();
    p.threads = 1;
    client c(p);
    std::vector<std::future<session>> fs;
    for (int i = 0; i < 5; ++i)
        fs.push_back(c.async_create_session(valid_request("g" + std::to_string(i) + "@example.com"),
                                            net::use_future));
    ASSERT_TRUE(eventually([&] { return sb_->stats().requests >= 5; }, 20s))
        << "the sandbox read " << sb_->stats().requests << " of 5 requests";
    auto down = c.async_shutdown(5s, net::use_future);
    for (auto& f : fs) EXPECT_EQ(f.get().token.rfind("ps_", 0), 0u);
    down.get();
    EXPECT_EQ(error_of(c, valid_request()), errc::shutting_down);
    const auto m = c.metrics();
    EXPECT_EQ(m.connections_opened, m.connections_closed);
}

TEST_F(shutdown, shutdown_grace_expiry_cancels_in_flight) {
    sandbox_params sp;
    sp.faults.latency.every_nth = 1;
    sp.faults.latency_min = 2000ms;
    start(sp);
    auto p = params();
    p.threads = 1;
    p.max_connections = 2;
    client c(p);
    std::vector<std::future<session>> fs;
    for (int i = 0; i < 4; ++i)
        fs.push_back(c.async_create_session(valid_request("h" + std::to_string(i) + "@example.com"),
                                            net::use_future));
    // Two on the wire (the pool's two connections), two in the queue behind them.
    ASSERT_TRUE(eventually([&] { return sb_->stats().requests >= 2; }, 20s))
        << "the sandbox read " << sb_->stats().requests << " of 2 requests";
    c.async_shutdown(100ms, net::use_future).get();
    for (auto& f : fs) {
        try {
            f.get();
            ADD_FAILURE() << "completed despite the shutdown";
        } catch (const boost::system::system_error& e) {
            EXPECT_EQ(e.code(), errc::shutting_down);
        }
    }
}

TEST_F(shutdown, destructor_with_requests_in_flight_completes_them) {
    sandbox_params sp;
    sp.faults.latency.every_nth = 1;
    sp.faults.latency_min = 2000ms;
    start(sp);
    std::atomic<int> completed{0};
    {
        auto p = params();
        p.threads = 2;
        client c(p);
        for (int i = 0; i < 6; ++i)
            c.async_create_session(valid_request("d" + std::to_string(i) + "@example.com"),
                                   [&](error_code ec, session) {
                                       EXPECT_EQ(ec, errc::shutting_down);
                                       ++completed;
                                   });
        ASSERT_TRUE(eventually([&] { return sb_->stats().requests >= 6; }, 20s))
            << "the sandbox read " << sb_->stats().requests << " of 6 requests";
    }
    EXPECT_EQ(completed.load(), 6);
}

// One shutdown (the control) and several at once from several threads, with calls in flight.
class concurrent_shutdown : public ::testing::TestWithParam<std::size_t> {};

TEST_P(concurrent_shutdown, concurrent_shutdowns_all_complete_exactly_once) {
    hostile_options so;
    so.on_request = [](const hostile_request&) { return act(hostile_action::stall_after_request); };
    hostile_server server(so);
    auto p = params_for(server);
    p.max_connections = 4;
    constexpr std::size_t calls_n = 4;
    const std::size_t shutdowns = GetParam();
    auto tracker = std::make_shared<call_tracker>(calls_n);
    auto& calls = *tracker;
    auto done = std::make_shared<std::array<std::atomic<int>, 8>>();  // handlers keep it alive
    {
        client c(p);
        for (std::size_t i = 0; i < calls_n; ++i) {
            request_options o;
            o.deadline = 30s;
            calls.start(c, i, o);
        }
        ASSERT_TRUE(eventually([&] { return server.requests() == calls_n; }))
            << server.requests() << " requests seen";
        std::atomic<bool> go{false};
        std::vector<std::thread> threads;
        for (std::size_t i = 0; i < shutdowns; ++i) {
            threads.emplace_back([&, i] {
                while (!go.load()) std::this_thread::yield();
                c.async_shutdown(200ms, [done, i](error_code) { ++(*done)[i]; });
            });
        }
        go = true;
        for (auto& t : threads) t.join();
        EXPECT_TRUE(eventually(
            [&] {
                for (std::size_t i = 0; i < shutdowns; ++i)
                    if ((*done)[i].load() == 0) return false;
                return true;
            },
            5s))
            << "some shutdown handlers never ran";
        EXPECT_EQ(calls.wait(steady::now() + 2s), calls_n);
    }
    for (std::size_t i = 0; i < shutdowns; ++i)
        EXPECT_EQ((*done)[i].load(), 1) << "shutdown " << i << " of " << shutdowns;
    for (const auto& r : calls.snapshot()) {
        EXPECT_EQ(r.completions, 1);
        EXPECT_EQ(r.ec, errc::shutting_down) << r.ec.message();
    }
}

INSTANTIATE_TEST_SUITE_P(callers, concurrent_shutdown,
                         ::testing::Values(std::size_t{1}, std::size_t{4}),
                         [](const auto& info) { return std::to_string(info.param) + "_at_once"; });

}  // namespace
