// One pooled connection: a single coroutine that connects, handshakes, then serves requests
// from its shard one at a time over HTTP/1.1 keep-alive.
#include "client/client_impl.hpp"
#include "client/io_outcome.hpp"
#include "client/tls_identity.hpp"
#include "tls/tls_stream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <charconv>
#include <cstdio>

namespace catalyst::detail {

namespace net = boost::asio;
using net::ip::tcp;
using boost::system::error_code;

namespace {
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
constexpr std::size_t header_limit = 16 * 1024;
constexpr std::size_t initial_read_buffer = 4096;
constexpr long small_record = 4096;

using std::chrono::milliseconds;

bool is_eof_like(const error_code& ec) {
    return ec == net::error::eof || ec == net::ssl::error::stream_truncated || ec == net::error::connection_reset ||
           ec == net::error::broken_pipe || ec == net::error::connection_aborted;
}
}  // namespace

class connection : public std::enable_shared_from_this<connection> {
public:
    connection(std::shared_ptr<client_impl> impl, shard& s)
        : impl_(std::move(impl)),
          shard_(s),
          params_(impl_->params()),
          stream_(s.get_executor(), impl_->tls().native_handle()),
          resolver_(s.get_executor()),
          watchdog_(s.get_executor()),
          wake_(s.get_executor()),
          observed_(impl_->params().observer != nullptr) {
        rbuf_.resize(initial_read_buffer);
    }

    net::awaitable<void> run(request_op* op);
    /// Unregisters from the shard, closes the socket, and hands back a call it still holds.
    /// Runs once, whatever ended the coroutine (its end, or an exception).
    void finish_connection(const char* why) noexcept;

    void assign(request_op* op) {
        pending_ = op;
        wake_.cancel();
    }
    void close_idle() {
        close_requested_ = true;
        wake_.cancel();
    }
    void abort(errc why) {
        abort_ = why;
        cancel_io();
    }
    bool busy() const { return current_ != nullptr || pending_ != nullptr; }
    /// Tells the shard, once, that this connection is no longer being opened.
    void opened() {
        if (std::exchange(opening_, false)) shard_.connection_opened();
    }
    /// Marks the first op as this connection's before its coroutine has started, so that a
    /// shutdown in between aborts it instead of taking the connection for an idle one.
    void start_with(request_op* op) { current_ = op; }

private:
    net::awaitable<bool> establish(request_op* op, attempt_report& rep);
    void report(request_op* op, attempt_report& rep, bool reused);
    /// The one rule of every I/O step: it must end by the sooner of `step_limit` and the call's
    /// overall deadline. Arms the watchdog for it; false when that time has already passed
    /// (or the exchange was aborted): the step must not start.
    bool begin_step(request_op* op, steady::time_point step_limit);
    /// The step's deadline has passed (the watchdog fired, or the clock says so).
    bool expired() const { return timed_out_ || steady::now() >= deadline_; }
    void end_steps() { deadline_ = steady::time_point::max(); }
    void arm_watchdog(steady::time_point at);
    /// The facts of the step that ended the attempt, for `classify`.
    io_event facts_of(io_step step, const request_op* op, bool reused) const {
        io_event e;
        e.step = step;
        e.aborted = abort_.has_value();
        e.deadline_passed = expired();
        e.overall_passed = steady::now() >= op->deadline;
        e.reused = reused;
        e.key_makes_retry_safe = op->ambiguous_retry_ok;
        return e;
    }
    void fail_step(attempt_report& rep, const io_event& e) const {
        rep.result = classify(e);
        if (e.aborted) rep.forced = *abort_;
    }
    /// Did the server close (FIN, reset, a close_notify, data nobody asked for) while we
    /// were idle? A TLS 1.3 session ticket is not news. Such a connection is dropped before
    /// a request is written.
    bool peer_closed() noexcept;
    /// While idle, a readiness wait on the TCP socket (not an SSL read: the TLS state is
    /// never touched) sees a FIN, a reset or unsolicited bytes at once. Its handler only sets
    /// `peer_stirred_` and wakes the coroutine, which alone decides what to do.
    void watch_idle();
    /// Cancels the idle watch and awaits its handler: nothing else uses the socket, and the
    /// coroutine does not end, while it is outstanding.
    net::awaitable<void> unwatch_idle();
    void cancel_io() {
        error_code ignored;
        auto& sock = stream_.socket();
        stream_.cancel();
        // A cancel() reaches only the readiness wait pending at this moment: when the wait
        // had already completed, the stream's next read or wait starts after it. A shutdown
        // makes that one and any later one fail at once. Only while an exchange is under
        // way: its connection is discarded afterwards (the stream's state is unknown),
        // whereas an idle connection handed a call must stay usable.
        if (tcp_open_ && current_) sock.shutdown(tcp::socket::shutdown_both, ignored);
        resolver_.cancel();
    }
    void close_socket() {
        // OpenSSL marks the session of a connection freed without a shutdown as not
        // resumable, and that session object is the one we keep for the next connection.
        // A quiet shutdown records the shutdown without writing anything.
        if (tcp_open_) stream_.quiet_shutdown();
        error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.socket().close(ignored);
    }

    std::shared_ptr<client_impl> impl_;
    shard& shard_;
    const client_params& params_;
    tls_stream stream_;
    tcp::resolver resolver_;
    net::steady_timer watchdog_;
    net::steady_timer wake_;
    std::string wbuf_;
    std::vector<char> rbuf_;
    std::size_t rlen_ = 0;
    http_response resp_;
    response_progress progress_;
    connection_facts facts_;
    request_op* pending_ = nullptr;
    request_op* current_ = nullptr;
    bool close_requested_ = false;
    std::optional<errc> abort_;
    bool timed_out_ = false;
    bool tcp_open_ = false;
    bool session_saved_ = false;
    bool finished_ = false;
    bool opening_ = true;  ///< counted in the shard's connections being opened
    bool idle_watch_ = false;    ///< the idle readiness wait is outstanding
    bool peer_stirred_ = false;  ///< it completed: the socket became readable while idle
    steady::time_point deadline_ = steady::time_point::max();
    steady::time_point watchdog_at_ = steady::time_point::max();
    bool watchdog_armed_ = false;
    std::uint64_t watchdog_gen_ = 0;
    steady::time_point wake_at_ = steady::time_point::max();
    // For the observer: what establishing this connection took, and how.
    const bool observed_;
    bool tls_resumed_ = false;
    std::chrono::microseconds connect_time_{0}, tls_time_{0};
    std::string_view tls_cipher_;  ///< OpenSSL's static name of the negotiated suite (issue 13)
};

/// How long a connection stays idle before its socket is watched for the server's close.
constexpr std::chrono::milliseconds idle_watch_delay{50};

// The deadline of the current step is enforced by one timer per connection that is re-armed
// only when a step needs an earlier expiry than the one already set: most requests then cost
// no timer operation at all (and no timerfd_settime system call). The timer cannot be lost:
// when it fires at or after the deadline it sets `timed_out_`, which stays set until the next
// step begins, and every step checks it (begin_step, and before each read) before starting:
// a completion already queued when the timer fired is not followed by an unbounded read.
bool connection::begin_step(request_op* op, steady::time_point step_limit) {
    deadline_ = step_deadline(step_limit, op->deadline);
    timed_out_ = false;
    if (abort_ || steady::now() >= deadline_) {
        timed_out_ = !abort_;
        return false;
    }
    if (!watchdog_armed_ || deadline_ < watchdog_at_) arm_watchdog(deadline_);
    return true;
}

void connection::arm_watchdog(steady::time_point at) {
    watchdog_armed_ = true;
    watchdog_at_ = at;
    watchdog_.expires_at(at);
    watchdog_.async_wait([self = shared_from_this(), gen = ++watchdog_gen_](const error_code& ec) {
        if (gen != self->watchdog_gen_) return;
        self->watchdog_armed_ = false;
        if (ec || self->deadline_ == steady::time_point::max()) return;
        if (steady::now() >= self->deadline_) {
            self->timed_out_ = true;
            self->cancel_io();
        } else {
            self->arm_watchdog(self->deadline_);
        }
    });
}

bool connection::peer_closed() noexcept { return stream_.peer_spoke_while_idle(); }

void connection::watch_idle() {
    peer_stirred_ = false;
    idle_watch_ = true;
    // An idle spell: OpenSSL's record buffers (some 34 KB) go back to the heap meanwhile.
    stream_.release_buffers();
    stream_.socket().async_wait(tcp::socket::wait_read, [self = shared_from_this()](const error_code& ec) {
        self->idle_watch_ = false;
        // Readable (or an error on the socket: a reset); only our own cancel is not news.
        if (ec != net::error::operation_aborted) self->peer_stirred_ = true;
        self->wake_.cancel();
    });
}

net::awaitable<void> connection::unwatch_idle() {
    error_code ignored;
    stream_.socket().cancel(ignored);
    // Its completion (operation_aborted, or readiness already queued) cancels wake_.
    wake_at_ = steady::time_point::max();
    wake_.expires_at(wake_at_);
    while (idle_watch_) co_await wake_.async_wait(use_tuple);
}

net::awaitable<bool> connection::establish(request_op* op, attempt_report& rep) {
    const auto& o = impl_->target();
    const auto began = steady::now();
    // Who the server must prove to be, first: a name OpenSSL cannot take to check reaches
    // neither DNS nor the wire.
    SSL* ssl = stream_.native_handle();
    if (auto why = apply_peer_identity(ssl, o, params_.tls); !why.empty()) {
        auto e = facts_of(io_step::handshake, op, false);
        e.tls_refused = verification_refused(X509_V_OK, true, !params_.tls.insecure_skip_verify);
        fail_step(rep, e);
        rep.error = "TLS peer identity not set: " + why;
        co_return false;
    }
    std::vector<tcp::endpoint> endpoints;
    if (o.host_is_ip) {
        error_code ec;
        auto addr = net::ip::make_address(o.host, ec);
        endpoints.emplace_back(addr, static_cast<unsigned short>(std::stoi(o.port)));
    } else {
        auto now = steady::now();
        endpoints = shard_.cached_endpoints(now);
        if (endpoints.empty()) {
            if (!begin_step(op, now + params_.connect_timeout)) {
                fail_step(rep, facts_of(io_step::resolve, op, false));
                rep.error = "DNS lookup of " + o.host + " not started: " + (abort_ ? "cancelled" : "deadline passed");
                co_return false;
            }
            auto [ec, results] = co_await resolver_.async_resolve(o.host, o.port, use_tuple);
            if (ec || abort_ || expired()) {
                fail_step(rep, facts_of(io_step::resolve, op, false));
                rep.error = "DNS lookup of " + o.host + " failed: " +
                            (abort_ ? "cancelled" : expired() ? "timed out" : ec.message());
                co_return false;
            }
            for (const auto& r : results) endpoints.push_back(r.endpoint());
            if (params_.dns_cache_ttl.count() > 0) shard_.cache_endpoints(endpoints, now);
        }
    }

    auto& sock = stream_.socket();
    std::string last_error = "no address";
    bool connected = false;
    for (const auto& ep : endpoints) {
        if (!begin_step(op, steady::now() + params_.connect_timeout)) {
            fail_step(rep, facts_of(io_step::connect, op, false));
            rep.error = "connect to " + o.host_header + " not started: " + (abort_ ? "cancelled" : "deadline passed");
            co_return false;
        }
        error_code ec;
        if (sock.is_open()) sock.close(ec);
        sock.open(ep.protocol(), ec);
        if (ec) {
            last_error = ec.message();
            continue;
        }
        auto [cec] = co_await sock.async_connect(ep, use_tuple);
        if (!cec && !abort_ && !timed_out_) {
            connected = true;
            break;
        }
        last_error = ep.address().to_string() + ": " + (timed_out_ ? std::string("connect timed out") : cec.message());
        if (abort_ || steady::now() >= op->deadline) {
            fail_step(rep, facts_of(io_step::connect, op, false));
            rep.error = last_error;
            co_return false;
        }
    }
    if (!connected) {
        rep.result = attempt_result::connect_failed;
        rep.error = "connect to " + o.host_header + " failed: " + last_error;
        co_return false;
    }
    tcp_open_ = true;
    facts_.opened = steady::now();
    connect_time_ = std::chrono::duration_cast<std::chrono::microseconds>(facts_.opened - began);
    shard_.stats().connections_opened.fetch_add(1, std::memory_order_relaxed);
    error_code ignored;
    sock.set_option(tcp::no_delay(true), ignored);

    if (params_.tls.insecure_skip_verify) {
        if (impl_->logs(log_level::warning)) {
            impl_->log(log_level::warning, "TLS peer verification is OFF (tls.insecure_skip_verify)");
        } else {
            // Switching verification off must never be silent, not even without a logger.
            std::fputs("catalyst: warning: TLS peer verification is OFF (tls.insecure_skip_verify)\n", stderr);
        }
    }
    // Records of up to 4 KB each way (a request and an answer are well under 1 KB): OpenSSL
    // sizes its record buffers by the largest record, 17 KB each by default, which made them
    // most of a connection's memory. The answer's side is the server's to grant (the
    // max_fragment_length extension); one that ignores it leaves that buffer at 17 KB.
    SSL_set_max_send_fragment(ssl, small_record);
    SSL_set_tlsext_max_fragment_length(ssl, TLSEXT_max_fragment_length_4096);
    if (params_.tls.session_resumption && shard_.tls_session()) SSL_set_session(ssl, shard_.tls_session());

    if (!begin_step(op, steady::now() + params_.tls_handshake_timeout)) {
        fail_step(rep, facts_of(io_step::handshake, op, false));
        rep.error = abort_ ? "TLS handshake not started: cancelled" : "TLS handshake not started: deadline passed";
        co_return false;
    }
    const auto hec = co_await stream_.handshake(tls_role::client);
    tls_time_ = std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - facts_.opened);
    if (hec || abort_ || timed_out_) {
        auto e = facts_of(io_step::handshake, op, false);
        const long v = SSL_get_verify_result(ssl);
        e.tls_refused = verification_refused(v, false, !params_.tls.insecure_skip_verify);
        fail_step(rep, e);
        if (abort_) rep.error = "TLS handshake interrupted";
        else if (timed_out_) rep.error = "TLS handshake timed out";
        else if (e.tls_refused) rep.error = std::string("certificate verification failed: ") + X509_verify_cert_error_string(v);
        else rep.error = "TLS handshake failed: " + hec.message();
        co_return false;
    }
    end_steps();
    const bool resumed = SSL_session_reused(ssl) == 1;
    tls_resumed_ = resumed;
    tls_cipher_ = SSL_get_cipher_name(ssl);  // for the observer (issue 13)
    (resumed ? shard_.stats().tls_resumed : shard_.stats().tls_full).fetch_add(1, std::memory_order_relaxed);
    if (impl_->logs(log_level::debug))
        impl_->log(log_level::debug, "connected to " + o.host_header + (resumed ? " (TLS session resumed)" : " (full TLS handshake)"));
    co_return true;
}

void connection::report(request_op* op, attempt_report& rep, bool reused) {
    current_ = nullptr;
    if (observed_) {
        rep.tls_cipher = tls_cipher_;  // (issue 13)
        rep.bytes_received = rlen_;
        if (reused) {
            rep.connection = connection_use::reused;
        } else if (tcp_open_) {
            rep.connection = tls_resumed_ ? connection_use::new_resumed : connection_use::new_connection;
            rep.connect = connect_time_;
            rep.tls_handshake = tls_time_;
        }
    }
    end_steps();
    shard_.attempt_done(op, rep, reused);
    abort_.reset();
}

net::awaitable<void> connection::run(request_op* op) {
    auto self = shared_from_this();
    current_ = op;
    attempt_report rep;
    bool ok = co_await establish(op, rep);
    opened();
    if (!ok) {
        facts_.broken = true;
        report(op, rep, false);
    } else {
        bool reused = false;
        for (;;) {
            rep = attempt_report{};
            // The exchange, inline rather than a coroutine of its own: one frame allocation
            // less per request.
            do {
                // Nothing goes on the wire after the call's deadline (nor once aborted).
                if (!begin_step(op, steady::now() + params_.attempt_timeout)) {
                    fail_step(rep, facts_of(io_step::before_send, op, reused));
                    rep.error = abort_ ? "cancelled before sending" : "deadline passed before sending";
                    break;
                }
                // The request, head and body, in one buffer: one TLS record, one send.
                wbuf_.clear();
                wbuf_ += impl_->head_prefix();
                if (!op->key.empty()) {
                    wbuf_ += "Idempotency-Key: ";
                    wbuf_ += op->key;
                    wbuf_ += "\r\n";
                }
                wbuf_ += op->extra_headers;
                char num[24];
                auto [end, ec0] = std::to_chars(num, num + sizeof num, op->body.size());
                (void)ec0;
                wbuf_ += "Content-Length: ";
                wbuf_.append(num, end);
                wbuf_ += "\r\n\r\n";
                wbuf_ += op->body;

                op->sent = true;
                const auto write_at = observed_ ? steady::now() : steady::time_point{};
                // A request the socket takes at once (the usual case) costs no coroutine frame.
                const auto ws = stream_.try_write(wbuf_.data(), wbuf_.size());
                error_code wec = ws.ec;
                std::size_t written = ws.bytes;
                if (ws.next != tls_next::done) {
                    const auto rest = co_await stream_.write(wbuf_.data() + written, wbuf_.size() - written);
                    wec = rest.ec;
                    written += rest.bytes;
                }
                rep.bytes_sent = written;
                if (wec || abort_ || timed_out_) {
                    auto e = facts_of(io_step::write, op, reused);
                    e.eof_like = is_eof_like(wec);
                    fail_step(rep, e);
                    rep.error = "write failed: " + (abort_ ? std::string("cancelled") : timed_out_ ? std::string("timed out") : wec.message());
                    break;
                }
                const std::size_t max_total = header_limit + params_.max_response_body + 1024;
                progress_ = response_progress{};
                for (;;) {
                    // A cancellation or a deadline that landed while the last step's completion
                    // was already queued (cancel_io() could not reach it) is seen here: no
                    // read starts after either.
                    if (abort_ || expired()) {
                        auto e = facts_of(io_step::read, op, reused);
                        e.answer_bytes = rlen_;
                        fail_step(rep, e);
                        rep.error = abort_ ? "cancelled while waiting for the answer" : "attempt timed out";
                        break;
                    }
                    if (rbuf_.size() - rlen_ < 1024 && rbuf_.size() < max_total) rbuf_.resize(std::min(max_total, rbuf_.size() * 2));
                    if (rlen_ == rbuf_.size()) {
                        rep.result = attempt_result::protocol_error;
                        rep.error = "response larger than max_response_body";
                        break;
                    }
                    char* const into = rbuf_.data() + rlen_;
                    const std::size_t room = rbuf_.size() - rlen_;
                    tls_io_result got;
                    if (rlen_ == 0 && !stream_.has_buffered()) {
                        // Right after the write nothing can have arrived yet: wait for the
                        // socket first (one recv for the answer, not a failed one before it).
                        auto [wait_ec] = co_await stream_.socket().async_wait(tcp::socket::wait_read, use_tuple);
                        got.ec = wait_ec;
                    }
                    if (!got.ec) {
                        const auto s = stream_.try_read(into, room);
                        if (s.next == tls_next::done) got = tls_io_result{s.ec, s.bytes};
                        else got = co_await stream_.read_some(into, room);
                    }
                    auto [rec, n] = got;
                    if (rec) {
                        auto e = facts_of(io_step::read, op, reused);
                        e.answer_bytes = rlen_;
                        e.eof_like = is_eof_like(rec);
                        fail_step(rep, e);
                        rep.error = (rlen_ == 0 ? "no answer: " : "answer cut short: ") +
                                    (abort_ ? std::string("cancelled") : timed_out_ ? std::string("attempt timed out") : rec.message());
                        break;
                    }
                    if (observed_ && rlen_ == 0 && n > 0)
                        rep.time_to_first_byte = std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - write_at);
                    rlen_ += n;
                    auto st = parse_response(rbuf_.data(), rlen_, params_.max_response_body, header_limit, resp_, progress_);
                    if (st == parse_status::need_more) continue;
                    if (st == parse_status::error) {
                        rep.result = attempt_result::protocol_error;
                        rep.error = std::string("malformed answer: ") + resp_.error;
                        if (resp_.status) rep.error += " (HTTP " + std::to_string(resp_.status) + ")";
                        break;
                    }
                    rep.result = attempt_result::response;
                    rep.response = &resp_;
                    break;
                }
            } while (false);
            end_steps();
            const auto now = steady::now();
            std::size_t consumed = 0;
            if (rep.result == attempt_result::response) {
                ++facts_.requests_served;
                facts_.last_used = now;
                facts_.server_said_close = resp_.connection_close;
                facts_.server_idle_limit = resp_.keep_alive.empty() ? milliseconds(0) : parse_keep_alive_timeout(resp_.keep_alive);
                consumed = resp_.consumed;
                // Keep the TLS session for the next connection once it is resumable (with
                // TLS 1.3 the ticket arrives after the handshake, so look after a response).
                if (!session_saved_ && params_.tls.session_resumption) {
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
            } else {
                facts_.broken = true;
            }
            // An abort or the watchdog that came once the answer was complete has shut the
            // socket down (cancel_io): the answer stands, the connection does not.
            if (abort_ || timed_out_) facts_.broken = true;
            report(op, rep, reused);  // reads resp_ (in rbuf_) synchronously
            op = nullptr;
            if (!facts_.broken) {
                if (consumed < rlen_) facts_.broken = true;  // bytes nobody asked for: desynchronised
                rlen_ = 0;
            }
            if (close_requested_ || !close_reason(facts_, params_, now).empty()) break;
            reused = true;

            bool close = false;
            bool waited = false;
            op = shard_.next_request(this, close);
            // Idle: wait to be handed a request, for the idle deadline, or for the server to
            // close (or send what nobody asked for). The socket is watched only after a short
            // idle spell: in a busy pool a connection gets its next call within microseconds,
            // and a wait started and cancelled per request (two epoll_ctl calls and a handler)
            // cost 1.6x the CPU per request at 256 connections. A close in that first spell is
            // caught by the peek below.
            bool watching = false;
            while (!op && !close) {
                waited = true;
                const auto idle_at = idle_deadline(facts_, params_);
                const auto wake_at = watching ? idle_at : std::min(idle_at, facts_.last_used + idle_watch_delay);
                if (wake_at_ != wake_at) {
                    wake_at_ = wake_at;
                    wake_.expires_at(wake_at);
                }
                auto [wec] = co_await wake_.async_wait(use_tuple);
                if (pending_) {
                    op = pending_;
                    pending_ = nullptr;
                } else if (close_requested_ || (peer_stirred_ && peer_closed())) {
                    shard_.remove_idle(this);
                    close = true;
                } else if (peer_stirred_) {
                    watch_idle();  // a session ticket or a key update: still usable
                } else if (!wec && steady::now() >= idle_deadline(facts_, params_)) {
                    shard_.remove_idle(this);
                    close = true;
                } else if (!wec && !watching) {
                    watch_idle();
                    watching = true;
                }
            }
            if (idle_watch_) co_await unwatch_idle();
            if (close) break;
            current_ = op;
            // Too old, idle too long, or closed by the server while idle: give the request
            // back (nothing was sent) and close.
            // The idle watch normally sees a close first; the peek (one SSL_peek) is a
            // second line of defence, only after a real idle period: a close that could have
            // arrived in less than a millisecond is a race no check can win (and a stale
            // connection with a key is resent).
            const auto reuse_at = steady::now();
            if (!close_reason(facts_, params_, reuse_at).empty() || peer_stirred_ ||
                (waited && reuse_at - facts_.last_used >= std::chrono::milliseconds(1) && peer_closed())) {
                current_ = nullptr;
                shard_.requeue_front(op);
                op = nullptr;
                break;
            }
        }
    }
    finish_connection(nullptr);
}

void connection::finish_connection(const char* why) noexcept {
    if (finished_) return;
    finished_ = true;
    ++watchdog_gen_;
    end_steps();
    try {
        watchdog_.cancel();
        wake_.cancel();
    } catch (...) {
    }
    if (tcp_open_) shard_.stats().connections_closed.fetch_add(1, std::memory_order_relaxed);
    close_socket();
    try {
        opened();
        // Only after an exception: a call this connection still holds is completed (it may
        // have been sent: never retried without a key), a call handed to it goes back.
        if (auto* op = std::exchange(current_, nullptr)) {
            attempt_report rep;
            rep.result = op->sent ? attempt_result::ambiguous : attempt_result::connect_failed;
            rep.error = std::string("connection failed unexpectedly: ") + (why ? why : "unknown error");
            shard_.attempt_done(op, rep, false);
        }
        if (auto* op = std::exchange(pending_, nullptr)) shard_.requeue_front(op);
    } catch (...) {
    }
    shard_.connection_closed(this);
}

void spawn_connection(std::shared_ptr<shard> s, request_op* first) {
    auto impl = s->owner().shared_from_this();
    auto c = std::make_shared<connection>(std::move(impl), *s);
    s->register_connection(c.get());
    first->conn = c.get();
    c->start_with(first);
    net::co_spawn(s->get_executor(), c->run(first), [c, s](std::exception_ptr e) {
        if (!e) return;
        // Whatever ended the coroutine, the connection unregisters itself and no call it
        // held is left without a completion.
        std::string what = "unknown exception";
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            what = ex.what();
        } catch (...) {
        }
        s->owner().log(log_level::error, "connection failed unexpectedly: " + what);
        c->finish_connection(what.c_str());
    });
}

void assign(connection* c, request_op* op) { c->assign(op); }
void close_idle(connection* c) { c->close_idle(); }
void abort_exchange(connection* c, errc why) { c->abort(why); }
bool has_op(const connection* c) { return c->busy(); }

}  // namespace catalyst::detail
