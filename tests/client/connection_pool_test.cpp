// The connection pool: thousands of calls through a few connections, connections reopened
// (with TLS session resumption) when the server closes them, a full queue refused at once,
// and a cold start that opens at most max_opening_connections at a time.
#include "call_tracker.hpp"
#include "client_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <thread>

using namespace catalyst;
using namespace catalyst::test;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {

using connection_pool = client_test;

TEST_F(connection_pool, thousands_of_sessions_through_a_small_pool) {
    start();
    auto p = params();
    p.max_connections = 8;
    p.threads = 1;
    client c(p);
    auto out = run_many(c, 5000);
    std::set<std::string> tokens;
    for (const auto& o : out) {
        ASSERT_FALSE(o.ec) << o.ec.message() << " " << o.d.to_string();
        tokens.insert(o.s.token);
    }
    EXPECT_EQ(tokens.size(), 5000u);
    const auto st = sb_->stats();
    EXPECT_EQ(st.created, 5000u);
    EXPECT_LE(st.connections, 8u);
    const auto m = c.metrics();
    EXPECT_EQ(m.requests, 5000u);
    EXPECT_EQ(m.successes, 5000u);
    EXPECT_LE(m.connections_opened, 8u);
    EXPECT_EQ(m.latency_count, 5000u);
    EXPECT_EQ(m.in_flight, 0u);
}

TEST_F(connection_pool, tls_sessions_are_resumed_when_reconnecting) {
    sandbox_params sp;
    sp.faults.connection_close.every_nth = 1;
    start(sp);
    auto p = params();
    p.max_connections = 1;
    p.threads = 1;
    client c(p);
    auto out = run_many(c, 6);
    for (const auto& o : out) EXPECT_FALSE(o.ec) << o.ec.message();
    const auto m = c.metrics();
    EXPECT_EQ(m.connections_opened, 6u);
    EXPECT_GE(m.tls_handshakes_full, 1u);
    EXPECT_GE(m.tls_handshakes_resumed, 4u);
}

/// 64 calls at once on a cold client of eight connections (one thread); all succeed, each
/// connection opened once. Its metrics.
metrics_snapshot cold_start(client_params p) {
    p.max_connections = 8;
    p.threads = 1;
    client c(p);
    auto out = run_many(c, 64);
    EXPECT_EQ(count(out, {}), 64u);
    const auto m = c.metrics();
    EXPECT_EQ(m.connections_opened, 8u);
    return m;
}

// A cold start: the first connection opens alone, and the others wait for the session ticket
// it learns and offer it, instead of eight full handshakes at once. Whether a server takes one
// ticket more than once is its own choice (RFC 8446 asks clients to use each once; the sandbox
// took it seven times of seven on a quiet machine, once of seven in some runs beside three busy
// loops): at least one of the seven resumes; opened all at once, none could.
TEST_F(connection_pool, a_cold_start_resumes_the_first_connections_ticket_on_the_others) {
    start();
    const auto m = cold_start(params());
    EXPECT_EQ(m.tls_handshakes_full + m.tls_handshakes_resumed, 8u);
    EXPECT_GE(m.tls_handshakes_resumed, 1u) << "the other connections did not wait for the first one's ticket";
}

// A server that gives no tickets: the others wait for the first connection's handshake and
// its answer (which says none is coming), then open with full handshakes; none hangs.
TEST(connection_pool_tickets, a_server_without_tickets_holds_the_others_up_only_until_the_first_answer) {
    hostile_options o;
    o.handshake_tickets = false;
    hostile_server server(o);
    const auto m = cold_start(params_for(server));
    EXPECT_EQ(m.tls_handshakes_full, 8u);
    EXPECT_EQ(m.tls_handshakes_resumed, 0u);
}

// A first handshake that stalls (a bad backend) holds the others up for the ticket wait
// (200 ms), not for the handshake's timeout (5 s): the calls beside the one it holds succeed
// within their 800 ms.
TEST(connection_pool_tickets, a_stalled_first_handshake_holds_the_others_up_only_briefly) {
    hostile_options o;
    o.on_connect = [](std::size_t i) { return i == 0 ? hostile_action::stall_handshake : hostile_action::answer; };
    hostile_server server(o);
    auto p = params_for(server);
    p.max_connections = 4;
    p.threads = 1;
    client c(p);
    constexpr std::size_t n = 8;
    auto calls = std::make_shared<call_tracker>(n);
    const auto first = steady::now();
    for (std::size_t i = 0; i < n; ++i) {
        request_options opts;
        opts.deadline = 800ms;
        calls->start(c, i, opts);
    }
    ASSERT_EQ(calls->wait(first + 800ms + slack() + 2s), n);
    std::size_t ok = 0;
    for (const auto& r : calls->snapshot()) ok += r.ec ? 0 : 1;
    EXPECT_GE(ok, n - 1) << "the calls waited for the stalled handshake";
}

// Without session resumption nothing waits for a ticket: every connection opens at once.
TEST_F(connection_pool, without_session_resumption_every_connection_handshakes_in_full) {
    start();
    auto p = params();
    p.tls.session_resumption = false;
    const auto m = cold_start(p);
    EXPECT_EQ(m.tls_handshakes_full, 8u);
}

TEST_F(connection_pool, server_closing_after_every_third_response) {
    sandbox_params sp;
    sp.faults.connection_close.every_nth = 3;
    start(sp);
    auto p = params();
    p.max_connections = 4;
    p.threads = 1;
    client c(p);
    auto out = run_many(c, 300);
    EXPECT_EQ(count(out, {}), 300u);
    EXPECT_EQ(sb_->stats().created, 300u);
    EXPECT_GE(c.metrics().connections_opened, 100u);
}

TEST_F(connection_pool, full_queue_fails_fast) {
    sandbox_params sp;
    sp.faults.latency.every_nth = 1;
    sp.faults.latency_min = 300ms;
    start(sp);
    auto p = params();
    p.max_connections = 1;
    p.queue_limit = 2;
    p.threads = 1;
    client c(p);
    auto out = run_many(c, 8);
    EXPECT_EQ(count(out, errc::queue_full), 5u);  // 1 in flight, 2 waiting, 5 refused
    EXPECT_EQ(count(out, {}), 3u);
    EXPECT_EQ(c.metrics().failures_by_errc[static_cast<int>(errc::queue_full)], 5u);
}

// A cold start opens connections in turns: at most max_opening_connections handshakes at once
// (each holds some 40 KB of buffers while it lasts), the other calls wait in the queue and
// still end by their deadline.
TEST_F(connection_pool, at_most_max_opening_connections_are_opened_at_once) {
    for (const std::size_t cap : {std::size_t{4}, std::size_t{64}}) {
        hostile_options so;
        so.on_connect = [](std::size_t) {
            return hostile_action::stall_handshake;
        };  // every handshake stalls
        hostile_server server(so);
        auto p = params_for(server);
        p.max_connections = 64;
        p.max_opening_connections = cap;
        constexpr std::size_t n = 20;
        const milliseconds deadline = 800ms;
        auto calls = std::make_shared<call_tracker>(n);
        client c(p);
        const auto first = steady::now();
        for (std::size_t i = 0; i < n; ++i) {
            request_options o;
            o.deadline = deadline;
            calls->start(c, i, o);
        }
        const std::size_t expected = std::min(cap, n);
        EXPECT_TRUE(eventually([&] { return server.connections_accepted() >= expected; }, 2000ms))
            << "cap " << cap << ": " << server.connections_accepted() << " connections accepted";
        // Checking that nothing more happens takes time: for 200 ms, while every handshake
        // stalls, no other connection may be opened.
        std::this_thread::sleep_for(200ms);
        if (steady::now() < first + deadline) {
            EXPECT_EQ(server.connections_accepted(), expected) << "cap " << cap;
        }
        EXPECT_EQ(calls->wait(first + deadline + slack() + 2s), n) << "cap " << cap;
        for (const auto& r : calls->snapshot()) {
            EXPECT_LE(ms(r.done - r.start), ms(deadline + slack()))
                << "cap " << cap << ": " << r.ec.message();
        }
    }
}

}  // namespace
