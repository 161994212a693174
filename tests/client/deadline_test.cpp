// Deadlines: the per-attempt timeout, the call's overall deadline and the TLS handshake
// timeout each end a call that the server leaves waiting, and so does the deadline of a call
// that a stale connection sent back to the queue. Against a server that stalls or trickles
// at any stage (TLS handshake, after the request, mid-head, mid-body, one byte at a time),
// with pools of 1 and 64 connections, every call completes by its deadline plus `slack()`
// (call_tracker.hpp), and the server's ledger shows no request read after its call's
// deadline (plus the same slack).
#include "call_tracker.hpp"
#include "client_fixture.hpp"
#include "silent_listener.hpp"

#include <boost/asio/use_future.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <thread>

namespace net = boost::asio;
using namespace catalyst;
using namespace catalyst::test;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {

using deadline = client_test;

TEST_F(deadline, attempt_and_overall_timeouts) {
    sandbox_params sp;
    sp.faults.latency.every_nth = 1;
    sp.faults.latency_min = 1500ms;
    start(sp);
    auto p = params();
    p.attempt_timeout = 100ms;
    p.retry.max_attempts = 2;
    client c(p);
    diagnostics d;
    EXPECT_EQ(error_of(c, valid_request(), request_options{}, d), errc::timeout);
    EXPECT_EQ(d.attempts, 2u);
    EXPECT_EQ(d.history.at(0).reason, retry_reason::attempt_timeout);

    request_options o;
    o.deadline = 250ms;
    auto p2 = params();
    p2.attempt_timeout = 10s;
    client c2(p2);
    diagnostics d2;
    EXPECT_EQ(error_of(c2, valid_request(), o, d2), errc::timeout);
    EXPECT_EQ(d2.attempts, 1u);
    const auto m = c2.metrics();
    EXPECT_EQ(m.connections_opened, m.connections_closed);  // the timed-out connection was closed
}

TEST_F(deadline, tls_handshake_timeout_against_a_silent_server) {
    start();  // only for the fixture; the target is a listener that never speaks
    silent_listener server;
    auto p = params();
    p.base_url = server.base_url();
    p.tls_handshake_timeout = 100ms;
    p.retry.max_attempts = 2;
    client c(p);
    diagnostics d;
    auto f = c.async_create_session(valid_request(), request_options{}, d, net::use_future);
    EXPECT_THROW(f.get(), boost::system::system_error);
    EXPECT_EQ(d.attempts, 2u);
    EXPECT_NE(d.detail.find("timed out"), std::string::npos) << d.detail;
}

// A call resent after a stale keep-alive connection, then held back by pacing, keeps its
// deadline: it completes by it, and is not written after it. The resend goes back to the
// queue, where pacing holds it until the next token (up to a second later, far past the
// deadline): the call's deadline must still be armed there.
TEST_F(deadline, a_resent_call_keeps_its_deadline) {
    hostile_options so;
    so.idle_close = 200ms;  // the connection is closed (FIN) long before the second call
    hostile_server server(so);
    auto p = params_for(server);
    p.max_connections = 1;
    p.rate.rate_per_second = 1;  // one token a second
    p.rate.burst = 1;
    auto tracker = std::make_shared<call_tracker>(2);
    auto& calls = *tracker;
    client c(p);
    request_options first;
    first.deadline = 5s;
    first.idempotency_key = "first";
    calls.start(c, 0, first);
    ASSERT_TRUE(eventually([&] { return calls.snapshot()[0].completions == 1; }));
    EXPECT_FALSE(calls.snapshot()[0].ec) << calls.snapshot()[0].ec.message();
    // Time must pass here, not an event: the server closes the idle connection after 200 ms,
    // and pacing has a token again a second after the first call took one.
    std::this_thread::sleep_for(1200ms);
    ASSERT_EQ(server.connections_open(), 0u) << "the server has not closed the idle connection";

    request_options second;
    second.deadline = 400ms;
    second.idempotency_key = "second";
    calls.start(c, 1, second);
    calls.wait(steady::now() + second.deadline + slack() + 3s);
    const auto r = calls.snapshot()[1];
    ASSERT_EQ(r.completions, 1) << "the call never completed";
    EXPECT_LE(ms(r.done - r.start), ms(second.deadline + slack())) << r.ec.message();
    std::size_t seen = 0;
    for (const auto& e : server.ledger()) {
        if (e.idempotency_key != "second") continue;
        ++seen;
        EXPECT_LE(ms(e.read_at - r.start), ms(second.deadline + slack()))
            << "written after the call's deadline";
    }
    std::printf(
        "[ resend ] second call: %s after %lld ms; the server read it %zu times, accepted %zu "
        "connections\n",
        r.ec ? r.ec.message().c_str() : "success", ms(r.done - r.start), seen,
        server.connections_accepted());
}

// --- whatever stage the server stalls at -----------------------------------------------------

struct stall_case {
    const char* name;
    hostile_action action;  // stall_handshake: at accept; otherwise after the request was read
    std::size_t pool;
};

void PrintTo(const stall_case& c, std::ostream* os) {
    *os << c.name << ", pool " << c.pool;
}

class deadline_under_stall : public ::testing::TestWithParam<stall_case> {};

TEST_P(deadline_under_stall, every_call_ends_by_its_deadline_and_nothing_is_written_after_it) {
    const auto& param = GetParam();
    hostile_options so;
    if (param.action == hostile_action::stall_handshake) {
        so.on_connect = [](std::size_t) { return hostile_action::stall_handshake; };
    } else {
        so.on_request = [a = param.action](const hostile_request&) { return act(a); };
    }
    so.trickle_interval =
        20ms;  // 64 connections: ~3 200 one-byte TLS records a second, not a CPU hog
    hostile_server server(so);

    auto p = params_for(server);
    p.max_connections = param.pool;
    p.attempt_timeout = 300ms;
    p.retry.max_attempts = 4;  // retries (with a key) happen inside the deadline
    const milliseconds call_deadline = 1500ms;
    const std::size_t n = param.pool == 1 ? (quick() ? 20 : 50) : (quick() ? 64 : 200);

    auto tracker = std::make_shared<call_tracker>(n);
    auto& calls = *tracker;
    {
        client c(p);
        const auto first = steady::now();
        for (std::size_t i = 0; i < n; ++i) {
            request_options o;
            o.deadline = call_deadline;
            o.idempotency_key = "stall-" + std::to_string(i);
            calls.start(c, i, o);
        }
        const std::size_t done = calls.wait(first + call_deadline + slack() + 5s);
        EXPECT_EQ(done, n) << done << " of " << n
                           << " calls completed within deadline + slack + 5 s";

        const auto snap = calls.snapshot();
        long long worst = 0;
        std::map<std::string, std::size_t> by_key;
        std::map<std::string, std::size_t> codes;
        for (std::size_t i = 0; i < n; ++i) {
            const auto& r = snap[i];
            by_key[r.key] = i;
            if (r.completions == 0) continue;
            worst = std::max(worst, ms(r.done - r.start));
            EXPECT_EQ(r.completions, 1) << "call " << i;
            codes[r.ec.message()]++;
            // Nothing answered: a timeout, or (once sent) a call whose outcome is unknown; a
            // stalled handshake may also end as a TLS or connect failure.
            const bool expected = r.ec == errc::timeout || r.ec == errc::outcome_unknown ||
                                  (param.action == hostile_action::stall_handshake &&
                                   (r.ec == errc::tls_failed || r.ec == errc::connect_failed));
            EXPECT_TRUE(expected) << "call " << i << ": " << r.ec.message();
        }
        std::string summary;
        for (const auto& [k, v] : codes) summary += k + ": " + std::to_string(v) + "; ";
        EXPECT_LE(worst, ms(call_deadline + slack()))
            << "slowest completion " << worst << " ms; " << summary;

        // The server read every request before the call's deadline (plus the slack: the
        // server notes the time it finished reading, a little after the client wrote).
        std::size_t late = 0;
        long long latest = -1'000'000;
        for (const auto& e : server.ledger()) {
            auto it = by_key.find(e.idempotency_key);
            ASSERT_NE(it, by_key.end()) << "request with an unknown key " << e.idempotency_key;
            const auto& r = snap[it->second];
            latest = std::max(latest, ms(e.read_at - r.deadline));
            if (e.read_at > r.deadline + slack()) ++late;
        }
        EXPECT_EQ(late, 0u)
            << late << " requests reached the server after their call's deadline + slack (latest "
            << latest << " ms after)";
        std::printf(
            "[ stall ] %s pool %zu: %zu/%zu done, slowest %lld ms (deadline %lld), %zu requests "
            "seen, %s\n",
            param.name, param.pool, done, n, worst, static_cast<long long>(call_deadline.count()),
            server.requests(), summary.c_str());
    }
}

INSTANTIATE_TEST_SUITE_P(
    stages, deadline_under_stall,
    ::testing::Values(stall_case{"handshake", hostile_action::stall_handshake, 1},
                      stall_case{"handshake", hostile_action::stall_handshake, 64},
                      stall_case{"after_request", hostile_action::stall_after_request, 1},
                      stall_case{"after_request", hostile_action::stall_after_request, 64},
                      stall_case{"partial_head", hostile_action::stall_partial_head, 1},
                      stall_case{"partial_head", hostile_action::stall_partial_head, 64},
                      stall_case{"in_body", hostile_action::stall_in_body, 1},
                      stall_case{"in_body", hostile_action::stall_in_body, 64},
                      stall_case{"trickle", hostile_action::trickle, 1},
                      stall_case{"trickle", hostile_action::trickle, 64}),
    [](const auto& info) {
        return std::string(info.param.name) + "_pool" + std::to_string(info.param.pool);
    });

}  // namespace
