// Stale keep-alive connections: a server that closes idle connections (with or without
// announcing its keep-alive timeout) costs no call an error, an idle connection closed by the
// server is closed on the client's side at once, and a record without data on an idle
// connection (a TLS 1.3 session ticket) is no reason to drop it. No idempotency key is sent
// where a resend could hide a request written to a closed connection.
#include "client_fixture.hpp"
#include "support/sanitizers.hpp"

#include <boost/asio/use_future.hpp>

#include <gtest/gtest.h>

#include <array>
#include <future>
#include <string>
#include <thread>

namespace net = boost::asio;
using namespace catalyst;
using namespace catalyst::test;
using namespace std::chrono_literals;

namespace {

class stale_connection_idle_close : public ::testing::TestWithParam<bool> {};

// The server closes a connection idle for 1 s (no Connection: close); calls 1.5 s apart over
// a kept-alive pool must not fail for requests the server never saw.
TEST_P(stale_connection_idle_close, a_server_closing_idle_connections_costs_no_call) {
    hostile_options so;
    so.idle_close = 1s;
    if (GetParam()) so.keep_alive_header = "timeout=1";
    hostile_server server(so);
    auto p = params_for(server);
    p.idempotency = idempotency_policy::disabled;
    p.max_connections = 4;
    constexpr int calls = 3;
    std::array<diagnostics, calls> diags;  // declared first: they outlive the calls
    client c(p);
    for (int i = 0; i < calls; ++i) {
        // Time must pass, longer than the server's idle timeout: that is the situation tested.
        if (i > 0) std::this_thread::sleep_for(1500ms);
        diagnostics& d = diags[i];
        request_options o;
        o.deadline = 5s;
        auto f = c.async_create_session(valid_request("idle" + std::to_string(i) + "@example.com"),
                                        o, d, net::use_future);
        ASSERT_EQ(f.wait_for(10s), std::future_status::ready) << "call " << i << " never completed";
        try {
            f.get();
        } catch (const boost::system::system_error& e) {
            ADD_FAILURE() << "call " << i << ": " << e.code().message() << " (" << d.to_string()
                          << ")";
        }
    }
    EXPECT_EQ(server.requests(), static_cast<std::size_t>(calls));
}

INSTANTIATE_TEST_SUITE_P(keep_alive_header, stale_connection_idle_close, ::testing::Bool(),
                         [](const auto& info) {
                             return info.param ? std::string("announced") : std::string("silent");
                         });

// A TLS 1.3 server may send a session ticket at any time, also to an idle connection: the
// idle watch sees the socket readable, but a record without data is no reason to drop the
// connection (and open a new one, with a handshake, for the next call).
TEST(stale_connection, a_session_ticket_on_an_idle_connection_keeps_it) {
    hostile_options so;
    so.ticket_after_answer = 150ms;  // after the idle watch started (50 ms)
    hostile_server server(so);
    auto p = params_for(server);
    p.max_connections = 1;
    client c(p);
    for (int i = 0; i < 3; ++i) {
        // Idle time, not an event: the ticket comes 150 ms after the answer, and the
        // connection must still be idle when it arrives, for the idle watch to be what reads it.
        if (i > 0) std::this_thread::sleep_for(400ms);
        request_options o;
        o.deadline = 5s;
        auto f = c.async_create_session(
            valid_request("ticket" + std::to_string(i) + "@example.com"), o, net::use_future);
        ASSERT_EQ(f.wait_for(10s), std::future_status::ready) << "call " << i << " never completed";
        EXPECT_NO_THROW(f.get()) << "call " << i;
    }
    EXPECT_EQ(server.requests(), 3u);
    EXPECT_EQ(server.connections_accepted(), 1u)
        << "an idle connection was dropped for a session ticket";
}

// An idle connection is watched: the server's FIN is seen while the connection waits, and it
// is closed at once (counted, its descriptor released), not only when a call would reuse it
// or at idle_timeout (30 s here). Then the next call opens a new one and succeeds.
TEST(stale_connection, an_idle_connection_closed_by_the_server_is_closed_at_once) {
    hostile_options so;
    so.idle_close = 300ms;
    hostile_server server(so);
    auto p = params_for(server);
    p.idempotency = idempotency_policy::disabled;
    p.max_connections = 1;
    p.idle_timeout = 30s;
    std::array<diagnostics, 2> diags;  // declared first: they outlive the calls
    client c(p);
    auto call = [&](int i) {
        request_options o;
        o.deadline = 5s;
        auto f =
            c.async_create_session(valid_request("watched" + std::to_string(i) + "@example.com"), o,
                                   diags[i], net::use_future);
        if (f.wait_for(10s) != std::future_status::ready) return std::string("never completed");
        try {
            f.get();
        } catch (const boost::system::system_error& e) {
            return e.code().message() + " (" + diags[i].to_string() + ")";
        }
        return std::string();
    };
    ASSERT_EQ(call(0), "");
    ASSERT_EQ(c.metrics().connections_opened, 1u);
    // The server closes after 300 ms idle; the client must notice well before any reuse.
    const bool closed = eventually(
        [&] {
            const auto m = c.metrics();
            return m.connections_closed == m.connections_opened && m.open_connections == 0;
        },
        under_sanitizer ? 1800ms : 800ms);
    const auto m = c.metrics();
    EXPECT_TRUE(closed) << "the idle connection was not closed after the server's FIN: opened "
                        << m.connections_opened << ", closed " << m.connections_closed << ", open "
                        << m.open_connections;
    EXPECT_EQ(call(1), "");
    EXPECT_EQ(c.metrics().connections_opened, 2u);
    EXPECT_EQ(c.metrics().failures_by_errc[static_cast<std::size_t>(errc::outcome_unknown)], 0u);
    EXPECT_EQ(server.requests(), 2u);
}

}  // namespace
