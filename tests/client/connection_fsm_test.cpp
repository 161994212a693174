// The connection state machine without sockets: the test plays the driver, feeding I/O
// results, answer bytes and times, and reads the actions. Covers opening (every failure),
// one exchange, the bytes left after an answer, the checks before a reuse (and their wait for
// the pending receive), how the pending receive starts after a short one, every deadline,
// aborts at every I/O step, and the idle phase.
#include "client/connection_fsm.hpp"
#include "support/fake_clock.hpp"

#include <boost/asio/error.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <string>

using namespace catalyst;
using namespace catalyst::detail;
using namespace std::chrono_literals;
namespace net = boost::asio;
using boost::system::error_code;
using time_point = std::chrono::steady_clock::time_point;
using act = connection_fsm::act;
using state = connection_fsm::state;

namespace {

using catalyst::test::t0;

std::string answer(unsigned status = 201, std::string_view token = "ps_one",
                   std::string_view extra_headers = {}) {
    const std::string body =
        std::string("{\"session_token\":\"") + std::string(token) +
        "\",\"status\":\"PENDING\",\"payment_url\":\"https://pay.example.test/x\"}";
    return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\n" +
           std::string(extra_headers) + "Content-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
}

struct connection_state_machine : ::testing::Test {
    client_params p;
    origin o;
    std::unique_ptr<connection_fsm> fsm;
    call_facts call;

    void SetUp() override {
        o.host = "api.example.test";
        o.host_header = "api.example.test";
        o.path = "/api/v1/payment-sessions/";
        p.connect_timeout = 1s;
        p.tls_handshake_timeout = 1s;
        p.attempt_timeout = 2s;
        p.idle_timeout = 30s;
        call.deadline = t0 + 10s;
        call.key_makes_retry_safe = true;
        fsm = std::make_unique<connection_fsm>(p, o);
    }

    // Feeds `bytes` as one read: copies them into the state machine's buffer.
    connection_fsm::action read(std::string_view bytes, time_point now = t0,
                                bool tls_pending = false) {
        EXPECT_GE(fsm->read_room(), bytes.size());
        std::memcpy(fsm->read_buffer(), bytes.data(), bytes.size());
        return fsm->on_read({}, bytes.size(), tls_pending, now);
    }

    // Opens (one address known) up to the write of the first request.
    void open() {
        ASSERT_EQ(fsm->start(call, 1, t0).what, act::connect);
        ASSERT_EQ(fsm->on_connected({}, "127.0.0.1", t0).what, act::handshake);
        ASSERT_EQ(fsm->on_handshake({}, false, {}, t0).what, act::write);
    }

    // One whole exchange on an open connection, up to the report.
    void exchange(time_point now = t0) {
        const auto r = fsm->on_written({}, 100, now);
        ASSERT_EQ(r.what, act::read);
        ASSERT_TRUE(r.wait_first);
        ASSERT_EQ(read(answer(), now).what, act::report);
        ASSERT_EQ(fsm->report().result, attempt_result::response);
    }

    // The driver's pending receive as the driver runs it: started once the handshake is done
    // and after each completion that brought bytes.
    static constexpr std::size_t room = 4096;
    connection_fsm::receive_start receive() { return fsm->on_receive_started(room); }
    connection_fsm::action received(std::size_t n, time_point now = t0) {
        return fsm->on_received(connection_fsm::receive_end::data, n, now);
    }

    // Opens, and reads one whole answer through the pending receive, whose last completion
    // was short (an answer is far smaller than its room); the receive is started again while
    // the answer is reported, as the driver does, and the connection goes idle.
    void exchange_through_the_receive(time_point now = t0) {
        open();
        ASSERT_EQ(receive(), connection_fsm::receive_start::wait);  // after the handshake
        ASSERT_EQ(fsm->on_written({}, 100, now).what, act::read);
        const std::string a = answer();
        ASSERT_EQ(received(a.size(), now).what, act::none);
        ASSERT_EQ(read(a, now).what, act::report);
        ASSERT_EQ(receive(), connection_fsm::receive_start::wait);
        ASSERT_EQ(fsm->on_reported(now).what, act::take_next);
        ASSERT_EQ(fsm->go_idle(now).what, act::idle);
        ASSERT_TRUE(fsm->receiving());
    }

    // Handed a call after an idle spell with the receive pending: the check cancels it.
    void settle(time_point now) {
        ASSERT_EQ(fsm->assign(call, now).what, act::cancel_receive);
        ASSERT_EQ(fsm->current(), state::settling);
    }
};

// --- opening -----------------------------------------------------------------------------------

TEST_F(connection_state_machine, opens_and_sends) {
    open();
    EXPECT_EQ(fsm->current(), state::writing);
    EXPECT_EQ(fsm->deadline(), t0 + 2s);  // the attempt timeout
    EXPECT_FALSE(fsm->reused());
    exchange();
    EXPECT_EQ(fsm->report().response->status, 201u);
    EXPECT_EQ(fsm->on_reported(t0).what, act::take_next);
}

TEST_F(connection_state_machine, resolves_first_when_no_address_is_known) {
    ASSERT_EQ(fsm->start(call, 0, t0).what, act::resolve);
    EXPECT_EQ(fsm->deadline(), t0 + 1s);
    const auto a = fsm->on_resolved({}, 2, t0);
    EXPECT_EQ(a.what, act::connect);
    EXPECT_EQ(a.endpoint, 0u);
}

TEST_F(connection_state_machine, a_failed_lookup_is_a_connect_failure) {
    fsm->start(call, 0, t0);
    ASSERT_EQ(fsm->on_resolved(net::error::host_not_found, 0, t0).what, act::report);
    EXPECT_EQ(fsm->report().result, attempt_result::connect_failed);
    EXPECT_NE(fsm->report().error.find("DNS lookup of api.example.test failed"), std::string::npos);
    EXPECT_EQ(fsm->on_reported(t0).what, act::close);
}

TEST_F(connection_state_machine, tries_each_address_then_fails) {
    ASSERT_EQ(fsm->start(call, 2, t0).what, act::connect);
    const auto b = fsm->on_connected(net::error::connection_refused, "10.0.0.1", t0);
    ASSERT_EQ(b.what, act::connect);
    EXPECT_EQ(b.endpoint, 1u);
    ASSERT_EQ(fsm->on_connected(net::error::connection_refused, "10.0.0.2", t0).what, act::report);
    EXPECT_EQ(fsm->report().result, attempt_result::connect_failed);
    EXPECT_NE(fsm->report().error.find("10.0.0.2"), std::string::npos);
    EXPECT_EQ(fsm->on_reported(t0).what, act::close);
}

TEST_F(connection_state_machine, nothing_starts_after_the_calls_deadline) {
    call.deadline = t0;
    ASSERT_EQ(fsm->start(call, 1, t0).what, act::report);
    EXPECT_EQ(fsm->report().result, attempt_result::overall_timeout);
}

TEST_F(connection_state_machine, a_connect_timeout_tries_the_next_address) {
    ASSERT_EQ(fsm->start(call, 2, t0).what, act::connect);
    ASSERT_EQ(fsm->on_watchdog(t0 + 500ms).what, act::none);  // early: nothing
    ASSERT_EQ(fsm->on_watchdog(t0 + 1s).what, act::cancel_io);
    const auto a = fsm->on_connected(net::error::operation_aborted, "10.0.0.1", t0 + 1s);
    EXPECT_EQ(a.what, act::connect);
    EXPECT_FALSE(fsm->interrupted());  // a new step
    EXPECT_EQ(fsm->deadline(), t0 + 2s);
}

TEST_F(connection_state_machine, a_certificate_refusal_is_final_a_transport_failure_is_not) {
    fsm->start(call, 1, t0);
    fsm->on_connected({}, "127.0.0.1", t0);
    ASSERT_EQ(fsm->on_handshake(net::error::connection_reset, true,
                                "certificate verification failed: x", t0)
                  .what,
              act::report);
    EXPECT_EQ(fsm->report().result, attempt_result::tls_rejected);
    EXPECT_EQ(fsm->report().error, "certificate verification failed: x");

    fsm = std::make_unique<connection_fsm>(p, o);
    fsm->start(call, 1, t0);
    fsm->on_connected({}, "127.0.0.1", t0);
    fsm->on_handshake(net::error::connection_reset, false, {}, t0);
    EXPECT_EQ(fsm->report().result, attempt_result::tls_handshake_failed);

    // The peer identity could not be set (no handshake ran): refused, with its reason.
    fsm = std::make_unique<connection_fsm>(p, o);
    fsm->start(call, 1, t0);
    fsm->on_connected({}, "127.0.0.1", t0);
    ASSERT_EQ(fsm->on_handshake({}, true, "TLS peer identity not set: empty name", t0).what,
              act::report);
    EXPECT_EQ(fsm->report().result, attempt_result::tls_rejected);
    EXPECT_EQ(fsm->report().error, "TLS peer identity not set: empty name");
}

TEST_F(connection_state_machine, an_abort_during_the_handshake_reports_cancelled) {
    fsm->start(call, 1, t0);
    fsm->on_connected({}, "127.0.0.1", t0);
    ASSERT_EQ(fsm->abort(errc::cancelled).what, act::cancel_io);
    EXPECT_EQ(fsm->abort(errc::cancelled).what, act::none);  // once
    // Even a handshake that completed meanwhile: the exchange does not start.
    ASSERT_EQ(fsm->on_handshake({}, false, {}, t0).what, act::report);
    EXPECT_EQ(fsm->report().result, attempt_result::cancelled);
    EXPECT_EQ(fsm->on_reported(t0).what, act::close);
}

// --- the answer and the bytes after it -----------------------------------------------------------

TEST_F(connection_state_machine, an_answer_in_pieces_is_read_to_its_end) {
    open();
    fsm->on_written({}, 100, t0);
    const std::string all = answer();
    const auto a = read(all.substr(0, 20));
    EXPECT_EQ(a.what, act::read);
    EXPECT_FALSE(a.wait_first);
    EXPECT_EQ(read(all.substr(20)).what, act::report);
    EXPECT_EQ(fsm->report().response->body.find("ps_one") != std::string_view::npos, true);
    EXPECT_EQ(fsm->report().bytes_received, all.size());
}

// An unsolicited extra answer in the same read: the first answer stands, the connection is
// never reused (the extra would be read as the next call's answer).
TEST_F(connection_state_machine, bytes_after_the_answer_close_the_connection) {
    open();
    fsm->on_written({}, 100, t0);
    ASSERT_EQ(read(answer(201, "ps_mine") + answer(201, "ps_unsolicited")).what, act::report);
    EXPECT_NE(fsm->report().response->body.find("ps_mine"), std::string_view::npos);
    EXPECT_TRUE(fsm->saw_unsolicited());
    EXPECT_TRUE(fsm->facts().broken);
    EXPECT_EQ(fsm->on_reported(t0).what, act::close);
}

// The same when the extra bytes are still inside the TLS layer (a second record read ahead).
TEST_F(connection_state_machine, bytes_held_by_the_tls_layer_close_the_connection) {
    open();
    fsm->on_written({}, 100, t0);
    ASSERT_EQ(read(answer(), t0, /*tls_pending=*/true).what, act::report);
    EXPECT_EQ(fsm->report().result, attempt_result::response);
    EXPECT_TRUE(fsm->saw_unsolicited());
    EXPECT_EQ(fsm->on_reported(t0).what, act::close);
}

// Whatever the server wrote while the connection was idle is looked at before a request is
// written: the call goes back unsent.
TEST_F(connection_state_machine, a_peer_that_spoke_while_idle_gets_no_request) {
    open();
    exchange();
    ASSERT_EQ(fsm->on_reported(t0).what, act::take_next);
    ASSERT_EQ(fsm->go_idle(t0).what, act::idle);
    ASSERT_EQ(fsm->assign(call, t0 + 5ms).what, act::check_peer);
    EXPECT_EQ(fsm->on_peer_checked(true, t0 + 5ms).what, act::give_back);
    EXPECT_EQ(fsm->current(), state::closed);
    EXPECT_FALSE(fsm->has_call());
}

TEST_F(connection_state_machine, a_quiet_peer_gets_the_next_request) {
    open();
    exchange();
    fsm->on_reported(t0);
    ASSERT_EQ(fsm->assign(call, t0).what, act::check_peer);  // handed at once: checked too
    const auto a = fsm->on_peer_checked(false, t0);
    EXPECT_EQ(a.what, act::write);
    EXPECT_TRUE(fsm->reused());
}

TEST_F(connection_state_machine, a_malformed_answer_breaks_the_connection) {
    open();
    fsm->on_written({}, 100, t0);
    ASSERT_EQ(
        read("HTTP/1.1 201 Created\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef").what,
        act::report);
    EXPECT_EQ(fsm->report().result, attempt_result::protocol_error);
    EXPECT_EQ(fsm->on_reported(t0).what, act::close);
}

TEST_F(connection_state_machine, an_answer_larger_than_the_limit_is_a_protocol_error) {
    p.max_response_body = 16;
    fsm = std::make_unique<connection_fsm>(p, o);
    open();
    fsm->on_written({}, 100, t0);
    std::string head = "HTTP/1.1 201 Created\r\nContent-Length: 100000\r\n\r\n";
    auto a = read(head);
    // The parser refuses the announced length, or the buffer fills: either way an error.
    while (a.what == act::read)
        a = read(std::string(std::min<std::size_t>(fsm->read_room(), 4096), 'x'));
    ASSERT_EQ(a.what, act::report);
    EXPECT_EQ(fsm->report().result, attempt_result::protocol_error);
}

TEST_F(connection_state_machine, the_servers_close_ends_the_connection_after_the_answer) {
    open();
    fsm->on_written({}, 100, t0);
    read(answer(201, "ps_x", "Connection: close\r\n"));
    EXPECT_EQ(fsm->on_reported(t0).what, act::close);
}

// --- the pending receive: a short one may have hidden the peer's end ---------------------------

using receive_start = connection_fsm::receive_start;
using receive_end = connection_fsm::receive_end;

// A short receive emptied the socket, and may have taken the peer's FIN along: epoll signals
// that end no more, so a receive that waits for a signal would wait for ever. While idle (a
// session ticket came, the connection stays) the next receive asks the socket first, and
// after the idle spell the check at reuse asks it too.
TEST_F(connection_state_machine, a_short_read_then_an_idle_spell_asks_the_socket) {
    exchange_through_the_receive();
    // A ticket: a short receive, nothing the caller reads.
    ASSERT_EQ(received(200, t0 + 10ms).what, act::none);
    ASSERT_EQ(fsm->on_peer(false, t0 + 10ms).what, act::idle);
    EXPECT_EQ(receive(), receive_start::ask_first);
    // Reused after the idle spell: the socket is asked once the receive is settled.
    settle(t0 + 20ms);
    const auto a = fsm->on_received(receive_end::aborted, 0, t0 + 20ms);
    ASSERT_EQ(a.what, act::check_peer);
    EXPECT_TRUE(a.ask_socket);
}

// The same while more of an answer is awaited.
TEST_F(connection_state_machine, a_short_read_of_part_of_an_answer_asks_the_socket_next) {
    open();
    receive();
    fsm->on_written({}, 100, t0);
    const std::string a = answer();
    received(30);
    ASSERT_EQ(read(a.substr(0, 30)).what, act::read);
    EXPECT_EQ(receive(), receive_start::ask_first);
}

// Right after a complete answer the receive waits (no system call per request): the check at
// reuse, or the next exchange's read, finds an end.
TEST_F(connection_state_machine, a_short_read_right_after_a_complete_answer_does_not_ask) {
    exchange_through_the_receive();  // asserts `wait` while the answer is reported
    // Reused at once: the pending receive stays, the check peeks at nothing.
    const auto a = fsm->assign(call, t0);
    ASSERT_EQ(a.what, act::check_peer);
    EXPECT_FALSE(a.ask_socket);
    EXPECT_TRUE(fsm->receiving());
    EXPECT_EQ(fsm->on_peer_checked(false, t0).what, act::write);
}

// A receive that filled its room left bytes in the socket: epoll has signalled them, and will
// signal what comes after.
TEST_F(connection_state_machine, a_full_read_does_not_ask) {
    open();
    receive();
    fsm->on_written({}, 100, t0);
    received(room);
    ASSERT_EQ(read(answer().substr(0, 30)).what, act::read);
    EXPECT_EQ(receive(), receive_start::wait);
}

// An end of stream or an error is no short read: nothing is left to ask.
TEST_F(connection_state_machine, an_ended_receive_does_not_ask) {
    open();
    receive();
    fsm->on_written({}, 100, t0);
    received(30);
    read(answer().substr(0, 30));
    receive();  // asks (the test above)
    fsm->on_received(receive_end::ended, 0, t0);
    EXPECT_EQ(receive(), receive_start::wait);
}

// --- the check at reuse waits for the pending receive --------------------------------------------

// The event loop may have performed the pending receive in the same turn that hands the
// connection a call: its bytes are out of the socket, its completion is queued behind the
// hand-over. The check waits for that completion before it peeks, and meanwhile the call is
// neither lost nor sent twice.
TEST_F(connection_state_machine, the_check_at_reuse_waits_for_the_pending_receive) {
    exchange_through_the_receive();
    settle(t0 + 5ms);
    EXPECT_TRUE(fsm->has_call());
    // Nothing goes on before the completion: no check, no write, no second call, no close.
    EXPECT_EQ(fsm->on_peer_checked(false, t0 + 5ms).what, act::none);
    EXPECT_EQ(fsm->assign(call, t0 + 5ms).what, act::none);
    EXPECT_EQ(fsm->on_peer(true, t0 + 5ms).what, act::none);
    EXPECT_EQ(fsm->on_wake(t0 + 5ms).what, act::none);
    EXPECT_EQ(fsm->on_watchdog(t0 + 1h).what, act::none);
    EXPECT_EQ(fsm->close_requested().what, act::none);  // after the exchange
    EXPECT_EQ(fsm->current(), state::settling);
    // The completion: the receive was performed (a ticket) or cancelled; then the socket.
    const auto a = received(200, t0 + 5ms);
    ASSERT_EQ(a.what, act::check_peer);
    EXPECT_TRUE(a.ask_socket);
    EXPECT_FALSE(fsm->receiving());
    ASSERT_EQ(fsm->on_peer_checked(false, t0 + 5ms).what, act::write);
    // Written once: inputs that come late change nothing.
    EXPECT_EQ(fsm->on_peer_checked(false, t0 + 5ms).what, act::none);
    EXPECT_EQ(fsm->on_received(receive_end::aborted, 0, t0 + 5ms).what, act::none);
    EXPECT_EQ(fsm->current(), state::writing);
    // The peek found the socket empty: the exchange's receive waits.
    EXPECT_EQ(receive(), receive_start::wait);
    EXPECT_EQ(fsm->on_written({}, 100, t0 + 5ms).what, act::read);
    // The exchange closes the connection, as asked while settling.
    received(answer().size(), t0 + 5ms);
    ASSERT_EQ(read(answer(), t0 + 5ms).what, act::report);
    EXPECT_EQ(fsm->on_reported(t0 + 5ms).what, act::close);
}

// After a receive that filled its room the reactor performs the next one as it starts, and
// queues its completion: bytes written right behind the answer are then out of the socket and
// not yet in the stream. Reused at once, the check waits for that receive too (and does not
// peek: the idle spell is too short for anything else to have come).
TEST_F(connection_state_machine, the_check_at_reuse_settles_a_receive_performed_as_it_started) {
    open();
    receive();
    fsm->on_written({}, 100, t0);
    received(room);
    ASSERT_EQ(read(answer()).what, act::report);
    ASSERT_EQ(receive(), receive_start::wait);  // performed at once by the reactor
    ASSERT_EQ(fsm->on_reported(t0).what, act::take_next);
    ASSERT_EQ(fsm->assign(call, t0).what, act::cancel_receive);
    const auto a = received(300);
    ASSERT_EQ(a.what, act::check_peer);
    EXPECT_FALSE(a.ask_socket);
}

// With no receive pending there is nothing to wait for; handed a call at once, nothing to peek.
TEST_F(connection_state_machine,
       the_check_at_reuse_settles_only_a_pending_receive_after_an_idle_spell) {
    exchange_through_the_receive();
    auto a = fsm->assign(call, t0 + reuse_peek_after - 1us);
    ASSERT_EQ(a.what, act::check_peer);
    EXPECT_FALSE(a.ask_socket);

    fsm = std::make_unique<connection_fsm>(p, o);
    open();
    exchange();
    fsm->on_reported(t0);
    fsm->go_idle(t0);
    ASSERT_FALSE(fsm->receiving());
    a = fsm->assign(call, t0 + reuse_peek_after);
    ASSERT_EQ(a.what, act::check_peer);
    EXPECT_TRUE(a.ask_socket);
}

// A terminal cancel while the check waits: the call is reported cancelled, unsent, and the
// connection (untouched) stays.
TEST_F(connection_state_machine, a_cancel_while_settling_ends_the_call_unsent) {
    exchange_through_the_receive();
    settle(t0 + 5ms);
    EXPECT_EQ(fsm->abort(errc::cancelled).what, act::none);  // the completion is on its way
    EXPECT_EQ(fsm->abort(errc::cancelled).what, act::none);
    ASSERT_EQ(fsm->on_received(receive_end::aborted, 0, t0 + 5ms).what, act::report);
    EXPECT_EQ(fsm->report().result, attempt_result::cancelled);
    EXPECT_EQ(fsm->report().bytes_sent, 0u);
    EXPECT_EQ(fsm->on_reported(t0 + 5ms).what, act::take_next);
    // The next call is checked afresh (nothing pending now: no settling).
    const auto a = fsm->assign(call, t0 + 10ms);
    ASSERT_EQ(a.what, act::check_peer);
    EXPECT_TRUE(a.ask_socket);
}

// The same when the receive brought the server's close: the call is cancelled, the connection
// goes.
TEST_F(connection_state_machine, a_cancel_while_settling_on_a_closed_connection_ends_both) {
    exchange_through_the_receive();
    settle(t0 + 5ms);
    fsm->abort(errc::shutting_down);
    ASSERT_EQ(fsm->on_received(receive_end::ended, 0, t0 + 5ms).what, act::report);
    EXPECT_EQ(fsm->report().result, attempt_result::cancelled);
    EXPECT_EQ(fsm->on_reported(t0 + 5ms).what, act::close);
}

// The server closed the idle connection (a FIN): found by the peek, or brought by the settled
// receive. The call goes back unsent, not failed: no report, the connection closes.
TEST_F(connection_state_machine, a_fin_found_at_reuse_gives_the_call_back) {
    exchange_through_the_receive();
    settle(t0 + 5ms);
    ASSERT_EQ(fsm->on_received(receive_end::aborted, 0, t0 + 5ms).what, act::check_peer);
    EXPECT_EQ(fsm->on_peer_checked(true, t0 + 5ms).what, act::give_back);
    EXPECT_EQ(fsm->current(), state::closed);
    EXPECT_FALSE(fsm->has_call());
    EXPECT_EQ(fsm->close_requested().what, act::none);

    fsm = std::make_unique<connection_fsm>(p, o);
    exchange_through_the_receive();
    settle(t0 + 5ms);
    EXPECT_EQ(fsm->on_received(receive_end::ended, 0, t0 + 5ms).what, act::give_back);
    EXPECT_EQ(fsm->current(), state::closed);
    EXPECT_FALSE(fsm->has_call());
}

// --- failures after sending ---------------------------------------------------------------

TEST_F(connection_state_machine,
       eof_before_any_byte_on_a_reused_connection_is_stale_only_with_a_key) {
    for (bool key : {true, false}) {
        fsm = std::make_unique<connection_fsm>(p, o);
        call.key_makes_retry_safe = key;
        open();
        exchange();
        fsm->on_reported(t0);
        fsm->assign(call, t0);
        fsm->on_peer_checked(false, t0);
        fsm->on_written({}, 100, t0);
        ASSERT_EQ(fsm->on_read(net::error::eof, 0, false, t0).what, act::report);
        EXPECT_EQ(fsm->report().result,
                  key ? attempt_result::stale_connection : attempt_result::ambiguous)
            << key;
        EXPECT_EQ(fsm->on_reported(t0).what, act::close);
    }
}

TEST_F(connection_state_machine, eof_in_the_middle_of_the_answer_is_an_answer_cut_short) {
    open();
    fsm->on_written({}, 100, t0);
    read(answer().substr(0, 30));
    ASSERT_EQ(fsm->on_read(net::error::eof, 0, false, t0).what, act::report);
    EXPECT_EQ(fsm->report().result, attempt_result::answer_cut_short);
}

TEST_F(connection_state_machine, the_attempt_deadline_interrupts_the_read) {
    open();
    fsm->on_written({}, 100, t0);
    EXPECT_EQ(fsm->on_watchdog(t0 + 1s).what, act::none);
    ASSERT_EQ(fsm->on_watchdog(t0 + 2s).what, act::cancel_io);
    EXPECT_TRUE(fsm->interrupted());
    EXPECT_EQ(fsm->on_watchdog(t0 + 3s).what, act::none);  // once
    ASSERT_EQ(fsm->on_read(net::error::operation_aborted, 0, false, t0 + 2s).what, act::report);
    EXPECT_EQ(fsm->report().result, attempt_result::attempt_timeout);
    EXPECT_EQ(fsm->on_reported(t0 + 2s).what, act::close);
}

// The watchdog fired while the last read's completion was already queued: the bytes are
// taken, but no further read starts.
TEST_F(connection_state_machine, no_read_starts_after_the_deadline_even_without_the_watchdog) {
    open();
    fsm->on_written({}, 100, t0);
    ASSERT_EQ(read(answer().substr(0, 30), t0 + 2s).what, act::report);
    EXPECT_EQ(fsm->report().result, attempt_result::attempt_timeout);
}

TEST_F(connection_state_machine, the_overall_deadline_caps_every_step) {
    call.deadline = t0 + 500ms;
    open();
    EXPECT_EQ(fsm->deadline(), t0 + 500ms);
}

TEST_F(connection_state_machine, an_abort_while_reading_reports_cancelled) {
    open();
    fsm->on_written({}, 100, t0);
    ASSERT_EQ(fsm->abort(errc::cancelled).what, act::cancel_io);
    ASSERT_EQ(fsm->on_read(net::error::operation_aborted, 0, false, t0).what, act::report);
    EXPECT_EQ(fsm->report().result, attempt_result::cancelled);
    EXPECT_EQ(fsm->on_reported(t0).what, act::close);
}

TEST_F(connection_state_machine,
       an_answer_complete_before_the_abort_stands_but_the_connection_goes) {
    open();
    fsm->on_written({}, 100, t0);
    fsm->abort(errc::cancelled);
    ASSERT_EQ(read(answer()).what, act::report);
    EXPECT_EQ(fsm->report().result, attempt_result::response);
    EXPECT_EQ(fsm->on_reported(t0).what, act::close);
}

TEST_F(connection_state_machine, an_abort_while_writing_reports_the_write) {
    open();
    ASSERT_EQ(fsm->abort(errc::shutting_down).what, act::cancel_io);
    ASSERT_EQ(fsm->on_written(net::error::operation_aborted, 10, t0).what, act::report);
    EXPECT_EQ(fsm->report().result, attempt_result::cancelled);
    EXPECT_EQ(fsm->report().bytes_sent, 10u);
}

TEST_F(connection_state_machine, a_write_the_call_refuses_keeps_the_connection) {
    open();
    ASSERT_EQ(fsm->on_write_refused(t0).what, act::report);
    EXPECT_EQ(fsm->report().result, attempt_result::cancelled);
    EXPECT_EQ(fsm->on_reported(t0).what, act::take_next);  // nothing touched the stream
}

TEST_F(connection_state_machine,
       a_reused_connection_past_the_calls_deadline_sends_nothing_and_stays) {
    open();
    exchange();
    fsm->on_reported(t0);
    call.deadline = t0;
    fsm->assign(call, t0);
    ASSERT_EQ(fsm->on_peer_checked(false, t0).what, act::report);
    EXPECT_EQ(fsm->report().result, attempt_result::overall_timeout);
    EXPECT_EQ(fsm->on_reported(t0).what, act::take_next);
}

// --- idle
// ------------------------------------------------------------------------------------------

TEST_F(connection_state_machine,
       idle_releases_buffers_after_a_short_spell_and_closes_at_the_idle_timeout) {
    open();
    exchange(t0);
    fsm->on_reported(t0);
    auto a = fsm->go_idle(t0);
    ASSERT_EQ(a.what, act::idle);
    EXPECT_FALSE(a.release);
    EXPECT_EQ(a.until, t0 + idle_release_delay);
    a = fsm->on_wake(t0 + idle_release_delay);
    ASSERT_EQ(a.what, act::idle);
    EXPECT_TRUE(a.release);
    EXPECT_EQ(a.until, t0 + 30s);
    // A session ticket: still usable.
    a = fsm->on_peer(false, t0 + 1s);
    EXPECT_EQ(a.what, act::idle);
    EXPECT_EQ(a.until, t0 + 30s);
    EXPECT_EQ(fsm->on_wake(t0 + 30s).what, act::close);
}

TEST_F(connection_state_machine, a_peer_closing_an_idle_connection_closes_it) {
    open();
    exchange();
    fsm->on_reported(t0);
    fsm->go_idle(t0);
    // At once (no idle spell needed): the driver's watch is always there.
    EXPECT_EQ(fsm->on_peer(true, t0 + 1ms).what, act::close);
}

TEST_F(connection_state_machine, the_servers_keep_alive_limit_bounds_the_idle_time) {
    open();
    fsm->on_written({}, 100, t0);
    read(answer(201, "ps_x", "Keep-Alive: timeout=2\r\n"));
    fsm->on_reported(t0);
    fsm->go_idle(t0);
    const auto a = fsm->on_wake(t0 + idle_release_delay);
    EXPECT_EQ(a.until, t0 + 1s);  // 2 s less the margin
    EXPECT_EQ(fsm->on_wake(t0 + 1s).what, act::close);
}

TEST_F(connection_state_machine, a_connection_too_old_gives_the_call_back) {
    p.max_connection_age = 1s;
    fsm = std::make_unique<connection_fsm>(p, o);
    open();
    exchange();
    fsm->on_reported(t0);
    fsm->go_idle(t0);
    EXPECT_EQ(fsm->assign(call, t0 + 1s).what, act::give_back);
}

TEST_F(connection_state_machine, a_close_request_waits_for_the_exchange) {
    open();
    EXPECT_EQ(fsm->close_requested().what, act::none);
    exchange();
    EXPECT_EQ(fsm->on_reported(t0).what, act::close);
}

TEST_F(connection_state_machine, a_close_request_closes_an_idle_connection_at_once) {
    open();
    exchange();
    fsm->on_reported(t0);
    fsm->go_idle(t0);
    EXPECT_EQ(fsm->close_requested().what, act::close);
    // A connection asked to close takes no call.
    EXPECT_EQ(fsm->assign(call, t0).what, act::none);
    EXPECT_EQ(fsm->close_requested().what, act::none);
}

TEST_F(connection_state_machine, stale_inputs_are_ignored) {
    open();
    EXPECT_EQ(fsm->on_resolved({}, 1, t0).what, act::none);
    EXPECT_EQ(fsm->on_connected({}, "x", t0).what, act::none);
    EXPECT_EQ(fsm->on_read({}, 0, false, t0).what, act::none);
    EXPECT_EQ(fsm->on_wake(t0).what, act::none);
    EXPECT_EQ(fsm->on_peer(true, t0).what, act::none);
    EXPECT_EQ(fsm->current(), state::writing);
}

}  // namespace
