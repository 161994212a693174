// event_time: the time of the event a handler of the client's handles. Inside a scope every
// read gives the scope's time; outside, the clock's. A call's own times must not come from an
// event that a user callback made old: a completion handler that takes long and then starts a
// call gives that call a fresh start.
#include "client/event_time.hpp"

#include "client_fixture.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

using namespace catalyst;
using namespace catalyst::test;
using namespace std::chrono_literals;
using boost::system::error_code;
using catalyst::detail::event_time;

namespace {

TEST(event_time, a_scope_holds_its_time_and_the_outermost_one_counts) {
    const auto outside = event_time::now();
    std::this_thread::sleep_for(2ms);
    EXPECT_GE(event_time::now() - outside, 2ms);  // no scope: the clock
    {
        const event_time::scope outer;
        const auto t = event_time::now();
        std::this_thread::sleep_for(2ms);
        EXPECT_EQ(event_time::now(), t);
        {
            const event_time::scope inner;  // nested: the outer scope's time
            EXPECT_EQ(event_time::now(), t);
        }
        const auto given = t - 1h;
        {
            const event_time::scope nested_given(given);  // nested: still the outer one's
            EXPECT_EQ(event_time::now(), t);
        }
        EXPECT_EQ(event_time::now(), t);
    }
    const auto given = std::chrono::steady_clock::now() - 1h;
    {
        const event_time::scope at(given);
        EXPECT_EQ(event_time::now(), given);
    }
    EXPECT_GT(event_time::now(), given + 59min);  // the clock again once the scope is gone
}

// A completion handler that works 150 ms and then starts the next call (the chained calls the
// client hands to its shard at once): the second call's elapsed time is its own, not the
// handler's 150 ms.
TEST(event_time, a_call_started_by_a_slow_handler_starts_when_it_is_started) {
    hostile_server server;
    auto p = params_for(server);
    p.threads = 1;
    client c(p);
    diagnostics second_diag;
    std::promise<error_code> second_done;
    c.async_create_session(valid_request("first@example.com"), request_options{}, [&](error_code ec, session) {
        EXPECT_FALSE(ec) << ec.message();
        std::this_thread::sleep_for(150ms);
        c.async_create_session(valid_request("second@example.com"), request_options{}, second_diag,
                               [&](error_code ec2, session) { second_done.set_value(ec2); });
    });
    auto f = second_done.get_future();
    ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
    EXPECT_FALSE(f.get());
    EXPECT_LT(second_diag.elapsed, 150ms) << second_diag.elapsed.count() << " ms";
}

}  // namespace
