#include "client/connection.hpp"
#include "client/event_time.hpp"

#include "client/call.hpp"
#include "client/client_impl.hpp"
#include "client/drained_receive.hpp"
#include "client/shard.hpp"
#include "client/tls_identity.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <charconv>
#include <cstdio>

#include <sys/socket.h>

namespace catalyst::detail {

namespace net = boost::asio;
using boost::system::error_code;
using net::ip::tcp;

namespace {
constexpr long small_record = 4096;
}

connection::connection(std::shared_ptr<client_impl> impl, shard& s)
    : impl_(std::move(impl)),
      shard_(s),
      params_(impl_->params()),
      fsm_(params_, impl_->target()),
      stream_(s.get_executor(), impl_->tls().native_handle()),
      resolver_(s.get_executor()),
      watchdog_{boost::asio::steady_timer(s.get_executor())},
      wake_{boost::asio::steady_timer(s.get_executor())},
      observed_(params_.observer != nullptr) {}

connection::~connection() {
    // Only when the executor dropped the handlers without running them (its io_context was
    // destroyed): the shard forgets the connection, nothing more can run.
    if (!finished_) shard_.forget(this);
}

call_facts connection::facts_of(const call* c) const noexcept {
    call_facts f;
    f.deadline = c->fsm.deadline();
    f.key_makes_retry_safe = c->fsm.key_makes_retry_safe();
    return f;
}

void connection::opened() noexcept {
    if (std::exchange(opening_, false)) shard_.connection_opened();
}

// --- entry points ---------------------------------------------------------------------------

void connection::start(call* first) {
    call_ = first;
    const auto now = event_time::now();
    began_ = now;
    const auto& o = impl_->target();
    if (o.host_is_ip) {
        error_code ec;
        auto addr = net::ip::make_address(o.host, ec);
        if (!ec) endpoints_.emplace_back(addr, static_cast<unsigned short>(std::stoi(o.port)));
        // An IP host never needs the resolver: a bad literal is a connect failure.
        if (endpoints_.empty()) endpoints_.emplace_back();
    } else {
        endpoints_ = shard_.cached_endpoints(now);
    }
    run(fsm_.start(facts_of(first), endpoints_.size(), now));
}

void connection::assign(call* c) {
    call_ = c;
    run(fsm_.assign(facts_of(c), event_time::now()));
}

void connection::close_idle() {
    run(fsm_.close_requested());
}

void connection::abort(errc why) {
    run(fsm_.abort(why));
}

// --- the driver -------------------------------------------------------------------------------

void connection::run(action a) noexcept {
    try {
        for (;;) {
            if (opening_ && fsm_.opened()) opened();
            if (a.what == act::none) break;
            a = step(a);
        }
        guard();
    } catch (const std::exception& e) {
        fail(e.what());
    } catch (...) {
        fail("unknown exception");
    }
}

connection::action connection::step(const action& a) {
    switch (a.what) {
        case act::none:
            return {};
        case act::resolve:
            return do_resolve();
        case act::connect:
            return do_connect(a.endpoint);
        case act::handshake: {
            SSL* ssl = stream_.native_handle();
            // Who the server must prove to be. A name OpenSSL cannot take to check ends the attempt
            // here, as a refusal (never retried; nothing was sent).
            if (auto why = apply_peer_identity(ssl, impl_->target(), params_.tls); !why.empty())
                return fsm_.on_handshake(
                    error_code{},
                    verification_refused(X509_V_OK, true, !params_.tls.insecure_skip_verify),
                    "TLS peer identity not set: " + why, event_time::now());
            if (params_.tls.insecure_skip_verify) {
                if (impl_->logs(log_level::warning)) {
                    impl_->log(log_level::warning,
                               "TLS peer verification is OFF (tls.insecure_skip_verify)");
                } else {
                    // Switching verification off must never be silent, not even without a logger.
                    std::fputs(
                        "catalyst: warning: TLS peer verification is OFF "
                        "(tls.insecure_skip_verify)\n",
                        stderr);
                }
            }
            // Records of up to 4 KB each way (a request and an answer are well under 1 KB): OpenSSL
            // sizes its record buffers by the largest record, 17 KB each by default. The answer's
            // side is the server's to grant (the max_fragment_length extension).
            SSL_set_max_send_fragment(ssl, small_record);
            SSL_set_tlsext_max_fragment_length(ssl, TLSEXT_max_fragment_length_4096);
            if (params_.tls.session_resumption && shard_.tls_session())
                SSL_set_session(ssl, shard_.tls_session());
            return do_handshake();
        }
        case act::write: {
            const auto now = event_time::now();
            if (!call_->fsm.wire()) return fsm_.on_write_refused(now);
            call_->sent_at = now;
            // The request, head and body, in one buffer: one TLS record, one send.
            wbuf_.clear();
            wbuf_ += impl_->head_prefix();
            if (!call_->key.empty()) {
                wbuf_ += "Idempotency-Key: ";
                wbuf_ += call_->key;
                wbuf_ += "\r\n";
            }
            wbuf_ += call_->extra_headers;
            char num[24];
            auto [end, ec] = std::to_chars(num, num + sizeof num, call_->body.size());
            (void)ec;
            wbuf_ += "Content-Length: ";
            wbuf_.append(num, end);
            wbuf_ += "\r\n\r\n";
            wbuf_ += call_->body;
            written_ = 0;
            if (observed_) write_at_ = now;
            return do_write();
        }
        case act::read:
            return do_read();
        case act::cancel_io:
            cancel_io();
            return {};
        case act::report:
            return do_report();
        case act::take_next:
            return do_take_next();
        case act::idle:
            do_idle(a);
            return {};
        case act::check_peer:
            return fsm_.on_peer_checked(stream_.peer_spoke_while_idle(a.ask_socket), event_time::now());
        case act::cancel_receive: {
            // No system call: a cancel only takes the operation off the reactor's queue. A
            // completion already queued (the receive was performed) is not cancelled: it comes
            // with its bytes.
            error_code ignored;
            stream_.socket().cancel(ignored);
            return {};
        }
        case act::give_back: {
            call* c = std::exchange(call_, nullptr);
            shard_.requeue(c);
            return {act::close};
        }
        case act::close:
            finish();
            return {};
    }
    return {};
}

connection::action connection::do_resolve() {
    const auto& o = impl_->target();
    resolver_.async_resolve(
        o.host, o.port, [self = shared_from_this()](error_code ec, tcp::resolver::results_type r) {
            const event_time::scope event;
            const auto now = event_time::now();
            action next;
            try {
                if (!ec) {
                    self->endpoints_.clear();
                    for (const auto& e : r) self->endpoints_.push_back(e.endpoint());
                    if (self->params_.dns_cache_ttl.count() > 0 && !self->endpoints_.empty())
                        self->shard_.cache_endpoints(self->endpoints_, now);
                }
                next = self->fsm_.on_resolved(ec, self->endpoints_.size(), now);
            } catch (const std::exception& e) {
                return self->fail(e.what());
            }
            self->run(next);
        });
    return {};
}

connection::action connection::do_connect(std::size_t index) {
    const tcp::endpoint ep = endpoints_[index];
    auto& sock = stream_.socket();
    error_code ec;
    if (sock.is_open()) sock.close(ec);
    sock.open(ep.protocol(), ec);
    if (ec) return fsm_.on_connected(ec, ep.address().to_string(), event_time::now());
    sock.async_connect(ep, [self = shared_from_this(), ep](error_code ec) {
        const event_time::scope event;
        const auto now = event_time::now();
        action next;
        try {
            if (!ec && !self->fsm_.interrupted()) {
                self->tcp_open_ = true;
                self->connect_time_ =
                    std::chrono::duration_cast<std::chrono::microseconds>(now - self->began_);
                self->shard_.stats().connections_opened.fetch_add(1, std::memory_order_relaxed);
                error_code ignored;
                self->stream_.socket().set_option(tcp::no_delay(true), ignored);
            }
            next = self->fsm_.on_connected(ec, ec ? ep.address().to_string() : std::string(), now);
        } catch (const std::exception& e) {
            return self->fail(e.what());
        }
        self->run(next);
    });
    return {};
}

connection::action connection::do_handshake() {
    const tls_step s = stream_.try_handshake(tls_role::client);
    if (s.next == tls_next::done) return handshake_result(s.ec);
    wait_socket(s.next, resume_at::handshake);
    return {};
}

connection::action connection::handshake_result(error_code ec) {
    const auto now = event_time::now();
    SSL* ssl = stream_.native_handle();
    tls_time_ = std::chrono::duration_cast<std::chrono::microseconds>(now - began_) - connect_time_;
    const long verify = SSL_get_verify_result(ssl);
    // Only a failed verification is a refusal (never retried); any other failure (an alert,
    // EOF, a reset) is retried like a connect failure.
    const bool refused = ec && !fsm_.interrupted() &&
                         verification_refused(verify, false, !params_.tls.insecure_skip_verify);
    std::string why;
    if (refused)
        why = std::string("certificate verification failed: ") +
              X509_verify_cert_error_string(verify);
    if (!ec && !fsm_.interrupted()) {
        // From now on the pending receive brings what the server writes (connection.hpp).
        stream_.feed_reads();
        arm_receive();
        tls_resumed_ = SSL_session_reused(ssl) == 1;
        tls_cipher_ = SSL_get_cipher_name(ssl);
        (tls_resumed_ ? shard_.stats().tls_resumed : shard_.stats().tls_full)
            .fetch_add(1, std::memory_order_relaxed);
        if (impl_->logs(log_level::debug))
            impl_->log(log_level::debug,
                       "connected to " + impl_->target().host_header +
                           (tls_resumed_ ? " (TLS session resumed)" : " (full TLS handshake)"));
    }
    return fsm_.on_handshake(ec, refused, why, now);
}

connection::action connection::do_write() {
    const tls_step s = stream_.try_write(wbuf_.data() + written_, wbuf_.size() - written_);
    written_ += s.bytes;
    if (s.next == tls_next::done) return fsm_.on_written(s.ec, written_, event_time::now());
    wait_socket(s.next, resume_at::write);
    return {};
}

connection::action connection::do_read() {
    const std::size_t before = fsm_.answer_bytes();
    if (stream_.fed() && !stream_.has_buffered() && !stream_.fed_ended()) {
        // Nothing handed over and nothing inside OpenSSL: an SSL_read would only say so.
        read_waiting_ = true;
        arm_receive();
        return {};
    }
    const tls_step s = stream_.try_read(fsm_.read_buffer(), fsm_.read_room());
    if (s.next == tls_next::wait_read && stream_.fed()) {
        read_waiting_ = true;
        arm_receive();
        return {};
    }
    if (s.next != tls_next::done) {
        // A record without data was read: a session ticket, most often. Kept at once (the
        // shard's other connections may be waiting for it), not after the answer.
        if (s.next == tls_next::yield && !session_saved_) save_tls_session();
        wait_socket(s.next, resume_at::read);
        return {};
    }
    const auto now = event_time::now();
    if (observed_ && before == 0 && s.bytes > 0)
        fsm_.report().time_to_first_byte =
            std::chrono::duration_cast<std::chrono::microseconds>(now - write_at_);
    return fsm_.on_read(s.ec, s.bytes, !s.ec && stream_.has_buffered(), now);
}

void connection::wait_socket(tls_next next, resume_at at) {
    auto k = [self = shared_from_this(), at](error_code ec) { self->on_socket(ec, at); };
    if (next == tls_next::yield) {
        // A record without data was processed (a session ticket): go on after the other
        // handlers, so that a stream of them cannot hold the thread.
        net::post(stream_.get_executor(), [k = std::move(k)]() mutable { k(error_code{}); });
        return;
    }
    stream_.socket().async_wait(
        next == tls_next::wait_read ? tcp::socket::wait_read : tcp::socket::wait_write,
        std::move(k));
}

void connection::on_socket(error_code ec, resume_at at) noexcept {
    const event_time::scope event;
    action next;
    try {
        // An abort or a timeout that came while this completion was queued: the step is over.
        if (!ec && fsm_.interrupted()) ec = net::error::operation_aborted;
        if (ec) {
            next = io_failed(ec, at);
        } else {
            switch (at) {
                case resume_at::handshake:
                    next = do_handshake();
                    break;
                case resume_at::write:
                    next = do_write();
                    break;
                case resume_at::read:
                    next = do_read();
                    break;
            }
        }
    } catch (const std::exception& e) {
        return fail(e.what());
    } catch (...) {
        return fail("unknown exception");
    }
    run(next);
}

connection::action connection::io_failed(error_code ec, resume_at at) {
    const auto now = event_time::now();
    switch (at) {
        case resume_at::handshake:
            return handshake_result(ec);
        case resume_at::write:
            return fsm_.on_written(ec, written_, now);
        case resume_at::read:
            return fsm_.on_read(ec, 0, false, now);
    }
    return {};
}

connection::action connection::do_report() {
    call* c = std::exchange(call_, nullptr);
    auto& rep = fsm_.report();
    if (observed_) {
        rep.tls_cipher = tls_cipher_;
        if (fsm_.reused()) {
            rep.connection = connection_use::reused;
        } else if (tcp_open_) {
            rep.connection =
                tls_resumed_ ? connection_use::new_resumed : connection_use::new_connection;
            rep.connect = connect_time_;
            rep.tls_handshake = tls_time_;
        }
    }
    if (rep.result == attempt_result::response) {
        save_tls_session();
        if (!session_saved_) shard_.answered_without_ticket(this);
    }
    c->conn = nullptr;
    shard_.attempt_done(c, rep);  // reads the answer (in the state machine's buffer) synchronously
    return fsm_.on_reported(event_time::now());
}

connection::action connection::do_take_next() {
    bool close = false;
    call* c = shard_.next_call(this, close);
    const auto now = event_time::now();
    if (c) {
        call_ = c;
        return fsm_.assign(facts_of(c), now);
    }
    if (close) return fsm_.close_requested();
    return fsm_.go_idle(now);
}

void connection::do_idle(const action& a) {
    if (a.until != steady::time_point::max() && (!wake_.armed || a.until < wake_.at))
        arm(wake_, a.until, &connection_fsm::on_wake);
    // The watch for the server's close: usually still pending from the last answer, but a
    // check at reuse that ended its call unsent had cancelled it.
    arm_receive();
    // An idle spell: OpenSSL's record buffers (some 10 KB) go back to the heap meanwhile.
    if (a.release) stream_.release_buffers();
}

void connection::arm_receive() {
    if (fsm_.receiving() || finished_ || !stream_.fed()) return;
    const auto [room, size] = stream_.intake();
    if (size == 0) return;  // full: reads take from it first
    if (fsm_.on_receive_started(size) == connection_fsm::receive_start::ask_first) {
        const int fd = stream_.socket().native_handle();
        ssize_t n;
        do n = ::recv(fd, room, size, MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
            // Delivered as a receive that completed at once (Asio posts those too).
            const error_code ec = n > 0    ? error_code{}
                                  : n == 0 ? error_code(net::error::eof)
                                           : error_code(errno, boost::system::system_category());
            net::post(stream_.get_executor(),
                      [self = shared_from_this(), ec, k = n > 0 ? static_cast<std::size_t>(n) : 0] {
                          self->on_received(ec, k);
                      });
            return;
        }
    }
    // A receive, not a readiness wait (a wait re-arms the descriptor with epoll_ctl every
    // time); one that leaves the reactor knowing when it emptied the socket, so that starting
    // the next one right after an answer tries no recv that would find nothing.
    if (!reactor_) reactor_ = &reactor_of(stream_.get_executor());
    async_receive_drained(*reactor_, stream_.socket(), room, size,
                          [self = shared_from_this()](const error_code& ec, std::size_t n) {
                              // The calls this answer completes run their handlers after it,
                              // here (shard::begin_answer_turn says when).
                              shard& s = self->shard_;
                              const bool turn = s.begin_answer_turn();
                              self->on_received(ec, n);
                              if (turn) s.end_answer_turn();
                          });
}

void connection::on_received(error_code ec, std::size_t n) noexcept {
    const event_time::scope event;  // the answer's time, for all it leads to (event_time.hpp)
    using end = connection_fsm::receive_end;
    const end how = ec == net::error::operation_aborted ? end::aborted
                    : ec                                ? end::ended
                                                        : end::data;
    if (finished_) return;
    action next;
    try {
        if (how == end::data)
            stream_.took(n);
        else if (how == end::ended)
            stream_.took_end(ec == net::error::eof, ec.value());
        // Settling, the check at reuse was waiting for this completion: the state machine
        // goes on with it (check_peer, give_back, or the call's report).
        const bool settling = fsm_.current() == connection_fsm::state::settling;
        next = fsm_.on_received(how, n, event_time::now());
        if (settling) return run(next);
        if (how == end::aborted) {
            // cancel_io(): the exchange under way ends; the connection goes after it.
            if (std::exchange(read_waiting_, false)) next = io_failed(ec, resume_at::read);
            return run(next);
        }
        if (std::exchange(read_waiting_, false)) {
            next = fsm_.interrupted() ? io_failed(net::error::operation_aborted, resume_at::read)
                                      : do_read();
        } else if (fsm_.current() == connection_fsm::state::idle && !fsm_.has_call()) {
            // Idle: a ticket keeps the connection; data nobody asked for, a close, an error end it.
            next = fsm_.on_peer(stream_.peer_spoke_while_idle(false), event_time::now());
        }
        // Otherwise (the request is still being written) the bytes wait for the read.
        if (how == end::data) arm_receive();
    } catch (const std::exception& e) {
        return fail(e.what());
    } catch (...) {
        return fail("unknown exception");
    }
    run(next);
}

// The deadline of the current step is enforced by one timer per connection that is re-armed
// only when a step needs an earlier expiry than the one already set: most requests then cost
// no timer operation at all (and no timerfd_settime system call). The timer cannot be lost:
// it only wakes the state machine, which keeps the deadline and checks it before every step
// and every read.
void connection::guard() {
    const auto d = fsm_.deadline();
    if (d == steady::time_point::max() || fsm_.interrupted() || finished_) return;
    // run() calls guard() again after the watchdog's input: a later deadline re-arms it.
    if (!watchdog_.armed || d < watchdog_.at) arm(watchdog_, d, &connection_fsm::on_watchdog);
}

void connection::arm(fsm_timer& t, steady::time_point at,
                     action (connection_fsm::*input)(steady::time_point)) {
    t.armed = true;
    t.at = at;
    t.timer.expires_at(at);
    // A re-arm cancels the earlier wait, whose completion may already be queued: only the
    // latest wait counts.
    t.timer.async_wait([self = shared_from_this(), &t, gen = ++t.gen, input](const error_code& ec) {
        if (gen != t.gen) return;
        t.armed = false;
        if (ec || self->finished_) return;
        const event_time::scope event;
        self->run((self->fsm_.*input)(event_time::now()));
    });
}

void connection::fsm_timer::stop() noexcept {
    ++gen;
    armed = false;
    try {
        timer.cancel();
    } catch (...) {
    }
}

void connection::cancel_io() noexcept {
    error_code ignored;
    // The pending readiness wait ends with operation_aborted; a completion already queued is
    // caught by on_socket (the state machine says the step was interrupted).
    stream_.cancel();
    resolver_.cancel();
    // After an exchange was interrupted the stream's state is unknown: the connection is
    // discarded, and a shutdown makes any later wait on it fail at once.
    if (tcp_open_) stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

void connection::save_tls_session() {
    // With TLS 1.3 the ticket arrives after the handshake: looked for after an answer, kept
    // for the next connection once resumable.
    if (session_saved_ || !params_.tls.session_resumption) return;
    SSL* ssl = stream_.native_handle();
    if (SSL_SESSION* s = SSL_get1_session(ssl)) {
        if (SSL_SESSION_is_resumable(s)) {
            shard_.store_tls_session(s);
            session_saved_ = true;
        } else {
            SSL_SESSION_free(s);
        }
    }
}

void connection::finish() noexcept {
    if (finished_) return;
    finished_ = true;
    read_waiting_ = false;
    watchdog_.stop();
    wake_.stop();
    error_code ignored;
    if (tcp_open_) shard_.stats().connections_closed.fetch_add(1, std::memory_order_relaxed);
    // OpenSSL keeps a session that ended without a shutdown out of resumption; a quiet
    // shutdown records one without writing anything.
    if (tcp_open_) stream_.quiet_shutdown();
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
    resolver_.cancel();
    opened();
    shard_.connection_closed(this);
}

void connection::fail(const char* what) noexcept {
    try {
        impl_->log(log_level::error, std::string("connection failed unexpectedly: ") + what);
    } catch (...) {
    }
    fsm_.fail();
    // No call is left without a completion: one that may have been sent is never retried
    // without a key, one that was not goes back to the queue.
    if (call* c = std::exchange(call_, nullptr)) {
        try {
            c->conn = nullptr;
            if (c->fsm.phase() == call_phase::on_wire) {
                attempt_report rep;
                rep.result = attempt_result::ambiguous;
                rep.error = std::string("connection failed unexpectedly: ") + what;
                shard_.attempt_done(c, rep);
            } else {
                shard_.requeue(c);
            }
        } catch (...) {
        }
    }
    finish();
}

}  // namespace catalyst::detail
