// No handler of the client runs on a destroyed shard: a client destroyed while its timers are
// due (the pacing timer, the shutdown grace, queue deadlines) — their completions may already be
// queued with success, and must find nothing to touch. Run under ASan in CI, where a handler
// that reached freed memory is a report; here the counts are checked too.
#include "client_fixture.hpp"

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

// A server that answers nothing: calls stay on the wire or in the queue.
hostile_reply stall(const hostile_request&) {
    hostile_reply r;
    r.action = hostile_action::stall_after_request;
    return r;
}

TEST(client_lifetime, destroyed_while_its_timers_are_due) {
    hostile_server server;
    server.set_on_request(stall);
    for (int round = 0; round < 20; ++round) {
        net::io_context ctx;
        std::size_t completed = 0;
        {
            auto p = params_for(server);
            p.max_connections = 1;
            p.rate.rate_per_second = 1000;  // the queued calls wait for the pacing timer
            p.rate.burst = 1;
            client c(ctx, p);
            const auto req = valid_request();
            for (int i = 0; i < 30; ++i) {
                request_options o;
                o.deadline = std::chrono::milliseconds(1 + i % 5);  // queue deadlines due too
                c.async_create_session(req, o, [&](error_code, session) { ++completed; });
            }
            if (round % 2 == 1) c.async_shutdown(1ms, [](error_code) {});
            ctx.run_for(2ms);
            // Time must pass, not an event: 6 ms on, every timer of the client (the pacing
            // timer, the 1 ms grace, the 1-5 ms deadlines) is due, and none of its handlers has
            // run (nothing runs `ctx` meanwhile).
            std::this_thread::sleep_for(6ms);
        }  // ~client: the hard stop is posted, the shards go once it has run
        ctx.restart();
        ctx.run_for(5s);
        EXPECT_EQ(completed, 30u) << "round " << round;
    }
}

}  // namespace
