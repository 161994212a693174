#include "client/connection_fsm.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>

#include <algorithm>

namespace catalyst::detail {

namespace net = boost::asio;
using boost::system::error_code;
using std::chrono::milliseconds;

namespace {
constexpr std::size_t header_limit = 16 * 1024;
constexpr std::size_t initial_read_buffer = 4096;

bool is_eof_like(const error_code& ec) {
    return ec == net::error::eof || ec == net::ssl::error::stream_truncated ||
           ec == net::error::connection_reset || ec == net::error::broken_pipe ||
           ec == net::error::connection_aborted;
}
}  // namespace

std::string_view state_name(connection_fsm::state s) noexcept {
    using st = connection_fsm::state;
    switch (s) {
        case st::resolving:
            return "resolving";
        case st::connecting:
            return "connecting";
        case st::handshaking:
            return "handshaking";
        case st::writing:
            return "writing";
        case st::reading:
            return "reading";
        case st::reporting:
            return "reporting";
        case st::idle:
            return "idle";
        case st::settling:
            return "settling";
        case st::closed:
            return "closed";
    }
    return "?";
}

connection_fsm::connection_fsm(const client_params& p, const origin& o) : p_(p), origin_(o) {
    rbuf_.resize(initial_read_buffer);
}

bool connection_fsm::begin_step(time_point now, milliseconds limit) {
    deadline_ = step_deadline(now + limit, call_.deadline);
    timed_out_ = false;
    if (abort_ || now >= deadline_) {
        timed_out_ = !abort_;
        return false;
    }
    return true;
}

io_event connection_fsm::facts_of(io_step step, time_point now) const {
    io_event e;
    e.step = step;
    e.aborted = abort_.has_value();
    e.deadline_passed = expired(now);
    e.overall_passed = now >= call_.deadline;
    e.reused = reused_;
    e.key_makes_retry_safe = call_.key_makes_retry_safe;
    e.answer_bytes = rlen_;
    return e;
}

connection_fsm::action connection_fsm::fail_step(io_step step, time_point now, std::string error,
                                                 bool eof_like, bool refused) {
    auto e = facts_of(step, now);
    e.eof_like = eof_like;
    e.tls_refused = refused;
    // A step that never started leaves the stream as it was; any other failure leaves it in
    // an unknown state.
    if (step != io_step::before_send) facts_.broken = true;
    return finish_attempt(classify(e), std::move(error));
}

connection_fsm::action connection_fsm::finish_attempt(attempt_result r, std::string error) {
    report_.result = r;
    report_.error = std::move(error);
    report_.bytes_received = rlen_;
    state_ = state::reporting;
    return {act::report};
}

connection_fsm::action connection_fsm::closed() {
    state_ = state::closed;
    has_call_ = false;
    long_idle_ = false;
    deadline_ = time_point::max();
    return {act::close};
}

// --- opening --------------------------------------------------------------------------------

connection_fsm::action connection_fsm::start(const call_facts& c, std::size_t endpoints,
                                             time_point now) {
    call_ = c;
    has_call_ = true;
    reused_ = false;
    endpoints_ = endpoints;
    next_endpoint_ = 0;
    last_connect_error_.clear();
    if (endpoints == 0) {
        state_ = state::resolving;
        if (!begin_step(now, p_.connect_timeout))
            return fail_step(io_step::resolve, now,
                             "DNS lookup of " + origin_.host +
                                 " not started: " + (abort_ ? "cancelled" : "deadline passed"));
        return {act::resolve};
    }
    state_ = state::connecting;
    return connect_next(now);
}

connection_fsm::action connection_fsm::on_resolved(error_code ec, std::size_t endpoints,
                                                   time_point now) {
    if (state_ != state::resolving) return {};
    if (ec || abort_ || expired(now))
        return fail_step(io_step::resolve, now,
                         "DNS lookup of " + origin_.host + " failed: " +
                             (abort_         ? "cancelled"
                              : expired(now) ? "timed out"
                                             : ec.message()));
    state_ = state::connecting;
    endpoints_ = endpoints;
    next_endpoint_ = 0;
    return connect_next(now);
}

connection_fsm::action connection_fsm::connect_next(time_point now) {
    if (next_endpoint_ >= endpoints_) {
        facts_.broken = true;
        return finish_attempt(
            attempt_result::connect_failed,
            "connect to " + origin_.host_header + " failed: " +
                (last_connect_error_.empty() ? std::string("no address") : last_connect_error_));
    }
    if (!begin_step(now, p_.connect_timeout))
        return fail_step(io_step::connect, now,
                         "connect to " + origin_.host_header +
                             " not started: " + (abort_ ? "cancelled" : "deadline passed"));
    action a{act::connect};
    a.endpoint = next_endpoint_++;
    return a;
}

connection_fsm::action connection_fsm::on_connected(error_code ec, std::string_view where,
                                                    time_point now) {
    if (state_ != state::connecting) return {};
    if (!ec && !abort_ && !timed_out_) {
        facts_.opened = now;
        state_ = state::handshaking;
        if (!begin_step(now, p_.tls_handshake_timeout))
            return fail_step(io_step::handshake, now,
                             abort_ ? "TLS handshake not started: cancelled"
                                    : "TLS handshake not started: deadline passed");
        return {act::handshake};
    }
    last_connect_error_ =
        std::string(where) + ": " + (timed_out_ ? std::string("connect timed out") : ec.message());
    if (abort_ || now >= call_.deadline)
        return fail_step(io_step::connect, now, last_connect_error_);
    return connect_next(now);
}

connection_fsm::action connection_fsm::on_handshake(error_code ec, bool refused,
                                                    std::string_view why, time_point now) {
    if (state_ != state::handshaking) return {};
    if (!ec && !refused && !abort_ && !timed_out_) return begin_exchange(now);
    std::string text;
    if (abort_)
        text = "TLS handshake interrupted";
    else if (timed_out_)
        text = "TLS handshake timed out";
    else if (!why.empty())
        text = std::string(why);
    else
        text = "TLS handshake failed: " + ec.message();
    return fail_step(io_step::handshake, now, std::move(text), false,
                     refused && !abort_ && !timed_out_);
}

// --- one exchange -------------------------------------------------------------------------

connection_fsm::action connection_fsm::begin_exchange(time_point now) {
    state_ = state::writing;
    unsolicited_ = false;
    rlen_ = 0;
    progress_ = response_progress{};
    report_ = attempt_report{};
    // Nothing goes on the wire after the call's deadline, nor once aborted.
    if (!begin_step(now, p_.attempt_timeout))
        return fail_step(io_step::before_send, now,
                         abort_ ? "cancelled before sending" : "deadline passed before sending");
    return {act::write};
}

connection_fsm::action connection_fsm::on_write_refused(time_point) {
    if (state_ != state::writing) return {};
    return finish_attempt(attempt_result::cancelled, "cancelled before sending");
}

connection_fsm::action connection_fsm::on_written(error_code ec, std::size_t bytes,
                                                  time_point now) {
    if (state_ != state::writing) return {};
    report_.bytes_sent = bytes;
    if (ec || abort_ || timed_out_)
        return fail_step(io_step::write, now,
                         "write failed: " + (abort_       ? std::string("cancelled")
                                             : timed_out_ ? std::string("timed out")
                                                          : ec.message()),
                         is_eof_like(ec));
    state_ = state::reading;
    auto a = next_read(now);
    a.wait_first = a.what == act::read;
    return a;
}

connection_fsm::action connection_fsm::next_read(time_point now) {
    // A cancellation or a deadline that landed while the last read's completion was already
    // queued is seen here: no read starts after either.
    if (abort_ || expired(now))
        return fail_step(io_step::read, now,
                         abort_ ? "cancelled while waiting for the answer" : "attempt timed out");
    const std::size_t max_total = header_limit + p_.max_response_body + 1024;
    if (rbuf_.size() - rlen_ < 1024 && rbuf_.size() < max_total)
        rbuf_.resize(std::min(max_total, rbuf_.size() * 2));
    if (rlen_ == rbuf_.size()) {
        facts_.broken = true;
        return finish_attempt(attempt_result::protocol_error,
                              "response larger than max_response_body");
    }
    return {act::read};
}

connection_fsm::action connection_fsm::on_read(error_code ec, std::size_t bytes, bool tls_pending,
                                               time_point now) {
    if (state_ != state::reading) return {};
    if (ec)
        return fail_step(io_step::read, now,
                         (rlen_ == 0 ? "no answer: " : "answer cut short: ") +
                             (abort_       ? std::string("cancelled")
                              : timed_out_ ? std::string("attempt timed out")
                                           : ec.message()),
                         is_eof_like(ec));
    rlen_ += std::min(bytes, rbuf_.size() - rlen_);
    const auto st =
        parse_response(rbuf_.data(), rlen_, p_.max_response_body, header_limit, resp_, progress_);
    if (st == parse_status::need_more) return next_read(now);
    if (st == parse_status::error) {
        facts_.broken = true;
        std::string text =
            std::string("malformed answer: ") + (resp_.error ? resp_.error : "unknown");
        if (resp_.status) text += " (HTTP " + std::to_string(resp_.status) + ")";
        return finish_attempt(attempt_result::protocol_error, std::move(text));
    }
    ++facts_.requests_served;
    facts_.last_used = now;
    facts_.server_said_close = resp_.connection_close;
    facts_.server_idle_limit =
        resp_.keep_alive.empty() ? milliseconds(0) : parse_keep_alive_timeout(resp_.keep_alive);
    // Bytes after the answer were written by nobody we asked: the next read on this
    // connection would take them for the next call's answer.
    unsolicited_ = resp_.consumed < rlen_ || tls_pending;
    // An abort or the watchdog that came once the answer was complete has shut the stream
    // down: the answer stands, the connection does not.
    if (unsolicited_ || abort_ || timed_out_) facts_.broken = true;
    report_.response = &resp_;
    return finish_attempt(attempt_result::response, {});
}

connection_fsm::action connection_fsm::on_reported(time_point now) {
    if (state_ != state::reporting) return {};
    report_.response = nullptr;
    report_.error.clear();
    deadline_ = time_point::max();
    abort_.reset();
    timed_out_ = false;
    has_call_ = false;
    rlen_ = 0;
    if (close_after_ || !close_reason(facts_, p_, now).empty()) return closed();
    state_ = state::idle;  // not yet waiting: the shard is asked for the next call first
    return {act::take_next};
}

// --- between exchanges ----------------------------------------------------------------------

connection_fsm::action connection_fsm::assign(const call_facts& c, time_point now) {
    if (state_ != state::idle) return {};
    call_ = c;
    has_call_ = true;
    reused_ = true;
    long_idle_ = false;
    // Too old, idle too long, or the server asked to close: the call goes back unsent.
    if (!close_reason(facts_, p_, now).empty()) {
        has_call_ = false;
        state_ = state::closed;
        return {act::give_back};
    }
    // Whatever the server wrote since the last answer was asked by nobody (or is its close):
    // looked at before a request is written, never read as this call's answer.
    const bool ask_socket = now - facts_.last_used >= reuse_peek_after;
    if (receiving_ && (ask_socket || receive_at_once_)) {
        state_ = state::settling;
        check_asks_socket_ = ask_socket;
        return {act::cancel_receive};
    }
    return check_peer(ask_socket);
}

connection_fsm::action connection_fsm::check_peer(bool ask_socket) {
    state_ = state::idle;
    check_asks_socket_ = ask_socket;
    action a{act::check_peer};
    a.ask_socket = ask_socket;
    return a;
}

connection_fsm::action connection_fsm::give_back() {
    has_call_ = false;
    state_ = state::closed;
    return {act::give_back};
}

connection_fsm::action connection_fsm::on_peer_checked(bool spoke, time_point now) {
    if (state_ != state::idle || !has_call_) return {};
    if (spoke) {
        unsolicited_ = true;
        return give_back();
    }
    // The peek found the socket empty and not ended: an end comes with an epoll signal.
    if (check_asks_socket_) drained_ = false;
    return begin_exchange(now);
}

// --- the driver's pending receive -----------------------------------------------------------

connection_fsm::receive_start connection_fsm::on_receive_started(std::size_t room) noexcept {
    receiving_ = true;
    receive_room_ = room;
    if (drained_ && state_ != state::reporting) {
        drained_ = false;
        receive_at_once_ = true;
        return receive_start::ask_first;
    }
    // The reactor tries a receive as it starts unless the last one emptied the socket.
    receive_at_once_ = !drained_;
    return receive_start::wait;
}

connection_fsm::action connection_fsm::on_received(receive_end how, std::size_t bytes,
                                                   time_point now) {
    receiving_ = false;
    // TCP returns fewer bytes than asked only when it emptied the socket.
    if (how != receive_end::aborted) drained_ = how == receive_end::data && bytes < receive_room_;
    if (state_ != state::settling) return {};
    // Nothing is pending any more: what the receive took is in the stream, the rest in the
    // socket.
    if (how == receive_end::ended) facts_.broken = true;
    if (abort_) return begin_exchange(now);  // reported unsent: cancelled
    if (how == receive_end::ended) return give_back();
    return check_peer(check_asks_socket_);
}

connection_fsm::action connection_fsm::idle_action(time_point now) const {
    const auto closing_at = idle_deadline(facts_, p_);
    action a{act::idle};
    a.until = long_idle_ ? closing_at : std::min(closing_at, facts_.last_used + idle_release_delay);
    (void)now;
    return a;
}

connection_fsm::action connection_fsm::go_idle(time_point now) {
    if (state_ != state::idle || has_call_) return {};
    long_idle_ = false;
    return idle_action(now);
}

connection_fsm::action connection_fsm::on_wake(time_point now) {
    if (state_ != state::idle || has_call_) return {};
    if (now >= idle_deadline(facts_, p_)) return closed();
    if (!long_idle_ && now >= facts_.last_used + idle_release_delay) {
        long_idle_ = true;
        auto a = idle_action(now);
        a.release = true;
        return a;
    }
    return idle_action(now);
}

connection_fsm::action connection_fsm::on_peer(bool spoke, time_point now) {
    if (state_ != state::idle || has_call_) return {};
    if (spoke) return closed();
    // A TLS session ticket or a key update: still usable.
    return idle_action(now);
}

// --- at any time ----------------------------------------------------------------------------

connection_fsm::action connection_fsm::close_requested() {
    if (state_ == state::closed) return {};
    if (state_ == state::idle && !has_call_) return closed();
    close_after_ = true;
    return {};
}

bool connection_fsm::in_io_step() const noexcept {
    switch (state_) {
        case state::resolving:
        case state::connecting:
        case state::handshaking:
        case state::writing:
        case state::reading:
            return true;
        default:
            return false;
    }
}

connection_fsm::action connection_fsm::abort(errc why) {
    if (abort_) return {};
    if (state_ == state::settling) {
        // The receive's completion is on its way; the call then ends unsent.
        abort_ = why;
        return {};
    }
    if (!in_io_step()) return {};
    abort_ = why;
    return {act::cancel_io};
}

connection_fsm::action connection_fsm::on_watchdog(time_point now) {
    if (deadline_ == time_point::max() || now < deadline_ || timed_out_ || !in_io_step()) return {};
    timed_out_ = true;
    return {act::cancel_io};
}

void connection_fsm::fail() noexcept {
    state_ = state::closed;
    has_call_ = false;
    deadline_ = time_point::max();
}

}  // namespace catalyst::detail
