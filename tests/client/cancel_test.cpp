// A cancelled call completes `cancelled` and never reaches the wire after its cancel, whatever
// the connection it was handed to turns out to be. On the caller's io_context the order of
// handlers is the order they were posted: the call's submission, then its cancel; between the
// two the call is handed to an idle connection that the server has written to while it was
// idle (an unsolicited answer: the connection must not be used), so the call comes back to the
// queue. A cancel that the requeue forgot would let it go out on a fresh connection.
#include "client_fixture.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

using namespace catalyst;
using namespace catalyst::test;
using namespace std::chrono_literals;
using boost::system::error_code;
namespace net = boost::asio;

namespace {

TEST(cancel, a_cancel_during_the_hand_over_to_a_connection_that_turns_out_unusable_holds) {
    hostile_options o;
    o.extra_delay = 2ms;
    hostile_server server(o);
    server.set_on_request([](const hostile_request& r) {
        hostile_reply reply;
        // The first answer is followed, 2 ms later, by one nobody asked for.
        reply.action = r.seq == 0 ? hostile_action::answer_then_late_extra : hostile_action::answer;
        return reply;
    });
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
    const auto limit = std::chrono::steady_clock::now() + 10s;
    while (server.extras_sent() < 1 && std::chrono::steady_clock::now() < limit) std::this_thread::sleep_for(1ms);
    ASSERT_EQ(server.extras_sent(), 1u);
    std::this_thread::sleep_for(20ms);  // the idle spell the check at reuse looks for

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
    // Give a request that went out anyway the time to arrive, then look.
    c.async_shutdown(0ms, [](error_code) {});
    ioc.run_for(200ms);
    EXPECT_EQ(server.requests(), requests_before) << "the cancelled call was sent";
}

}  // namespace
