#include "tls/tls_stream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <climits>
#include <new>
#include <utility>
#include <sys/socket.h>

namespace catalyst::detail {

namespace net = boost::asio;
using boost::system::error_code;

// The BIO between OpenSSL and the socket. It reads the descriptor from the socket object at
// every call rather than keeping a copy: whoever closes the socket (a watchdog, a reset
// fault) leaves OpenSSL with EBADF, never with a descriptor number since reused by another
// connection.
template <class Executor>
struct basic_tls_stream<Executor>::bio_access {
    static basic_tls_stream* owner(BIO* b) noexcept { return static_cast<basic_tls_stream*>(BIO_get_data(b)); }

    // The socket's descriptor for one call, or -1 with EBADF noted (the socket was closed).
    static int descriptor(BIO* b) noexcept {
        BIO_clear_retry_flags(b);
        const int fd = owner(b)->socket_.native_handle();
        if (fd < 0) owner(b)->last_errno_ = EBADF;
        return fd;
    }

    // After a failed send or recv: "would block" becomes OpenSSL's retry, anything else the
    // errno behind its SSL_ERROR_SYSCALL.
    static int failed(BIO* b, bool reading) noexcept {
        auto* s = owner(b);
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (reading) BIO_set_retry_read(b);
            else BIO_set_retry_write(b);
            s->blocked_ = true;
        } else {
            s->last_errno_ = errno;
        }
        return -1;
    }

    static int write(BIO* b, const char* data, int len) noexcept {
        const int fd = descriptor(b);
        if (fd < 0) return -1;
        ssize_t n;
        do n = ::send(fd, data, static_cast<std::size_t>(len), MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        return n >= 0 ? static_cast<int>(n) : failed(b, false);
    }

    static int read(BIO* b, char* data, int len) noexcept {
        auto* s = owner(b);
        if (s->fed_) {
            BIO_clear_retry_flags(b);
            const std::size_t have = s->intake_end_ - s->intake_begin_;
            if (have > 0) {
                const std::size_t n = std::min(have, static_cast<std::size_t>(len));
                std::memcpy(data, s->intake_.data() + s->intake_begin_, n);
                // Not moved back to the front here: the caller's receive may be pending into
                // the room after intake_end_ (intake() does it, before the next receive).
                s->intake_begin_ += n;
                return static_cast<int>(n);
            }
            if (s->eof_) return 0;
            if (s->fed_errno_ != 0) {
                s->last_errno_ = s->fed_errno_;
                return -1;
            }
            // Nothing handed over yet: the caller's receive brings more.
            BIO_set_retry_read(b);
            s->blocked_ = true;
            return -1;
        }
        const int fd = descriptor(b);
        if (fd < 0) return -1;
        ssize_t n;
        do n = ::recv(fd, data, static_cast<std::size_t>(len), 0);
        while (n < 0 && errno == EINTR);
        if (n == 0) owner(b)->eof_ = true;
        return n >= 0 ? static_cast<int>(n) : failed(b, true);
    }

    static long ctrl(BIO* b, int cmd, long, void*) noexcept {
        switch (cmd) {
        case BIO_CTRL_FLUSH: return 1;  // nothing is buffered here
        case BIO_CTRL_EOF: return owner(b)->eof_ ? 1 : 0;  // tells a truncation from a retry
        default: return 0;
        }
    }

    static BIO_METHOD* method() {
        static BIO_METHOD* const m = [] {
            BIO_METHOD* bm = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "catalyst socket");
            if (!bm || !BIO_meth_set_write(bm, &write) || !BIO_meth_set_read(bm, &read) || !BIO_meth_set_ctrl(bm, &ctrl))
                throw std::bad_alloc();
            return bm;
        }();
        return m;
    }
};

template <class Executor>
basic_tls_stream<Executor>::basic_tls_stream(const Executor& ex, SSL_CTX* ctx) : socket_(ex) {
    ssl_ = SSL_new(ctx);
    if (!ssl_) throw std::bad_alloc();
    attach();
}

template <class Executor>
basic_tls_stream<Executor>::basic_tls_stream(socket_type&& sock, SSL_CTX* ctx) : socket_(std::move(sock)) {
    ssl_ = SSL_new(ctx);
    if (!ssl_) throw std::bad_alloc();
    attach();
}

template <class Executor>
void basic_tls_stream<Executor>::attach() {
    BIO* bio = BIO_new(bio_access::method());
    if (!bio) {
        SSL_free(ssl_);
        throw std::bad_alloc();
    }
    BIO_set_data(bio, this);
    BIO_set_init(bio, 1);
    SSL_set_bio(ssl_, bio, bio);
    // Partial writes: a record that the socket took is never encrypted twice, and the buffer
    // may be another object when the write is retried.
    SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    // Records buffers stay between requests (released only for idle spells, release_buffers):
    // releasing them whenever empty costs allocations on every request.
    SSL_clear_mode(ssl_, SSL_MODE_RELEASE_BUFFERS);
    // Without auto-retry SSL_read returns after each record that carries no data (a session
    // ticket, a key update): a peer that streams such records cannot keep one call busy
    // forever, and the loop below yields between them.
    SSL_clear_mode(ssl_, SSL_MODE_AUTO_RETRY);
    // Read ahead: one recv() takes whatever has arrived, a whole answer in one system call
    // instead of a header read and a body read per record.
    SSL_set_read_ahead(ssl_, 1);
    SSL_set_options(ssl_, SSL_OP_NO_RENEGOTIATION);
}

template <class Executor>
basic_tls_stream<Executor>::~basic_tls_stream() {
    SSL_free(ssl_);  // frees the BIO too
}

template <class Executor>
bool basic_tls_stream<Executor>::has_buffered() const noexcept {
    return SSL_has_pending(ssl_) == 1 || intake_end_ > intake_begin_;
}

// The intake starts at 4 KB (an answer and a ticket or two) and grows to hold a whole record
// and more (an answer larger than a record arrives in several).
constexpr std::size_t intake_initial = 4096;
constexpr std::size_t intake_max = 64 * 1024;
constexpr std::size_t intake_min_room = 1024;

template <class Executor>
void basic_tls_stream<Executor>::feed_reads() {
    if (fed_) return;
    intake_.resize(intake_initial);
    fed_ = true;
}

template <class Executor>
std::pair<char*, std::size_t> basic_tls_stream<Executor>::intake() noexcept {
    // No receive is pending now (the caller starts one with what this returns): an emptied
    // intake starts at the front again.
    if (intake_begin_ == intake_end_) intake_begin_ = intake_end_ = 0;
    if (intake_.size() - intake_end_ < intake_min_room) {
        // Move what is left to the front, then grow if that is not enough.
        if (intake_begin_ > 0) {
            std::memmove(intake_.data(), intake_.data() + intake_begin_, intake_end_ - intake_begin_);
            intake_end_ -= intake_begin_;
            intake_begin_ = 0;
        }
        if (intake_.size() - intake_end_ < intake_min_room && intake_.size() < intake_max) {
            try {
                intake_.resize(std::min(intake_max, intake_.size() * 2));
            } catch (...) {
            }
        }
    }
    return {intake_.data() + intake_end_, intake_.size() - intake_end_};
}

template <class Executor>
void basic_tls_stream<Executor>::took(std::size_t n) noexcept {
    intake_end_ += std::min(n, intake_.size() - intake_end_);
}

template <class Executor>
void basic_tls_stream<Executor>::took_end(bool eof, int sys_errno) noexcept {
    if (eof) eof_ = true;
    else fed_errno_ = sys_errno != 0 ? sys_errno : ECONNRESET;
}

template <class Executor>
bool basic_tls_stream<Executor>::peer_spoke_in_records() noexcept {
    // An SSL_peek processes records up to the first one with data. Without auto-retry each
    // call stops after a record without data, so a few calls cover the tickets a server
    // sends; one that sends more is not worth keeping.
    for (int records = 0; records < 8; ++records) {
        begin_call();
        char byte;
        std::size_t n = 0;
        if (SSL_peek_ex(ssl_, &byte, 1, &n) == 1) return true;
        error_code ec;
        const tls_next next = after_failure(0, ec);
        if (next == tls_next::done) return true;
        if (next != tls_next::yield) return false;  // nothing more has arrived
    }
    return true;
}

template <class Executor>
bool basic_tls_stream<Executor>::peer_spoke_while_idle(bool ask_socket) noexcept {
    if (fed_) {
        // What was handed over first (tickets are taken in, anything else is news), then the
        // socket, whose bytes the pending receive has not brought yet.
        if (has_buffered() && peer_spoke_in_records()) return true;
        if (eof_ || fed_errno_ != 0) return true;
        if (!ask_socket) return false;
        const int fd = socket_.native_handle();
        if (fd < 0) return true;
        char byte;
        return !(::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
    }
    // Usually nothing has arrived: one peek at the socket says so (cheaper than SSL_peek).
    if (!has_buffered()) {
        const int fd = socket_.native_handle();
        if (fd < 0) return true;
        char byte;
        if (::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
    }
    return peer_spoke_in_records();
}

template <class Executor>
void basic_tls_stream<Executor>::release_buffers() noexcept {
    SSL_free_buffers(ssl_);  // refuses (harmlessly) while a record is partly buffered
}

template <class Executor>
void basic_tls_stream<Executor>::quiet_shutdown() noexcept {
    SSL_set_quiet_shutdown(ssl_, 1);
    // Before or during a handshake SSL_shutdown refuses and queues why: an entry nobody
    // reads, which the next OpenSSL user on this thread would take for its own.
    SSL_shutdown(ssl_);
    ERR_clear_error();
}

template <class Executor>
void basic_tls_stream<Executor>::begin_call() noexcept {
    // SSL_get_error needs an empty error queue. A peek is a few instructions, a clear walks
    // all sixteen slots (3 % of a request's instructions, done before every call).
    if (ERR_peek_error() != 0) ERR_clear_error();
    last_errno_ = 0;
    blocked_ = false;
}

template <class Executor>
tls_next basic_tls_stream<Executor>::after_failure(int ret, error_code& ec) noexcept {
    // When OpenSSL wants to read or write but the socket did not say "would block" (it stopped
    // after a record without data, and more may already be buffered), the caller yields to
    // the executor instead of waiting: other handlers and the timers run, and the next
    // attempt comes at once.
    switch (SSL_get_error(ssl_, ret)) {
    case SSL_ERROR_WANT_READ: return blocked_ ? tls_next::wait_read : tls_next::yield;
    case SSL_ERROR_WANT_WRITE: return blocked_ ? tls_next::wait_write : tls_next::yield;
    case SSL_ERROR_ZERO_RETURN: ec = net::error::eof; break;
    case SSL_ERROR_SYSCALL:
        // No errno: the TCP stream ended without a close_notify.
        if (last_errno_ != 0) ec = error_code(last_errno_, boost::system::system_category());
        else ec = net::ssl::error::stream_truncated;
        break;
    default: ec = ssl_failure_code(ERR_get_error(), eof_, last_errno_); break;
    }
    ERR_clear_error();
    if (!ec) ec = net::ssl::error::stream_truncated;  // an SSL error with nothing queued
    return tls_next::done;
}

error_code ssl_failure_code(unsigned long err, bool eof, int sys_errno) noexcept {
    if ((ERR_GET_LIB(err) == ERR_LIB_SSL && ERR_GET_REASON(err) == SSL_R_UNEXPECTED_EOF_WHILE_READING) || (err == 0 && eof))
        return net::ssl::error::stream_truncated;
    if (err == 0)  // nothing queued: the socket's error, else a stream that ended
        return sys_errno != 0 ? error_code(sys_errno, boost::system::system_category()) : error_code(net::ssl::error::stream_truncated);
    return error_code(static_cast<int>(err), net::error::get_ssl_category());
}

template <class Executor>
void basic_tls_stream<Executor>::cancel() noexcept {
    cancelled_ = true;
    error_code ignored;
    socket_.cancel(ignored);
}

template <class Executor>
auto basic_tls_stream<Executor>::wait(tls_next next) -> task<error_code> {
    if (next == tls_next::yield) {
        co_await net::post(socket_.get_executor(), net::use_awaitable_t<Executor>{});
    } else {
        constexpr auto use = net::as_tuple(net::use_awaitable_t<Executor>{});
        auto [ec] = co_await socket_.async_wait(next == tls_next::wait_read ? socket_type::wait_read : socket_type::wait_write, use);
        if (ec) co_return ec;
    }
    // Seen after any wait, not only a yield: a cancel() that came while the completion of a
    // readiness wait was already queued (on a strand, behind the handler that cancelled)
    // could not stop that wait, and the operation would go on to its next yield.
    if (cancelled_) co_return error_code(net::error::operation_aborted);
    co_return error_code{};
}

template <class Executor>
tls_step basic_tls_stream<Executor>::try_read(char* data, std::size_t size) noexcept {
    tls_step s;
    if (size == 0) return s;
    begin_call();
    if (SSL_read_ex(ssl_, data, std::min<std::size_t>(size, INT_MAX), &s.bytes) == 1) return s;
    s.bytes = 0;
    s.next = after_failure(0, s.ec);
    return s;
}

template <class Executor>
tls_step basic_tls_stream<Executor>::try_write(const char* data, std::size_t size) noexcept {
    tls_step s;
    while (s.bytes < size) {
        begin_call();
        std::size_t n = 0;
        if (SSL_write_ex(ssl_, data + s.bytes, size - s.bytes, &n) == 1) {
            s.bytes += n;
            continue;
        }
        s.next = after_failure(0, s.ec);
        break;
    }
    return s;
}

template <class Executor>
tls_step basic_tls_stream<Executor>::try_handshake(tls_role role) noexcept {
    tls_step s;
    if (!handshake_begun_) {
        socket_.non_blocking(true, s.ec);
        if (s.ec) return s;
        if (role == tls_role::client) SSL_set_connect_state(ssl_);
        else SSL_set_accept_state(ssl_);
        handshake_begun_ = true;
    }
    begin_call();
    const int r = SSL_do_handshake(ssl_);
    if (r != 1) s.next = after_failure(r, s.ec);
    return s;
}

template <class Executor>
auto basic_tls_stream<Executor>::handshake(tls_role role) -> task<error_code> {
    begin_operation();
    for (;;) {
        const tls_step s = try_handshake(role);
        if (s.next == tls_next::done) co_return s.ec;
        if (auto wec = co_await wait(s.next)) co_return wec;
    }
}

template <class Executor>
auto basic_tls_stream<Executor>::read_some(char* data, std::size_t size, bool wait_first) -> task<tls_io_result> {
    begin_operation();
    if (wait_first && !has_buffered()) {
        if (auto wec = co_await wait(tls_next::wait_read)) co_return tls_io_result{wec, 0};
    }
    for (;;) {
        const tls_step s = try_read(data, size);
        if (s.next == tls_next::done) co_return tls_io_result{s.ec, s.bytes};
        if (auto wec = co_await wait(s.next)) co_return tls_io_result{wec, 0};
    }
}

template <class Executor>
auto basic_tls_stream<Executor>::write(const char* data, std::size_t size) -> task<tls_io_result> {
    begin_operation();
    std::size_t done = 0;
    for (;;) {
        const tls_step s = try_write(data + done, size - done);
        done += s.bytes;
        if (s.next == tls_next::done) co_return tls_io_result{s.ec, done};
        if (auto wec = co_await wait(s.next)) co_return tls_io_result{wec, done};
    }
}

template <class Executor>
auto basic_tls_stream<Executor>::shutdown() -> task<error_code> {
    // 1: both close_notify done; 0: ours sent, the peer's not yet read. A peer that keeps
    // sending data instead is read and dropped until the caller's timer closes the socket.
    begin_operation();
    int zeros = 0;
    for (;;) {
        begin_call();
        const int r = SSL_shutdown(ssl_);
        if (r == 1) co_return error_code{};
        error_code ec;
        tls_next next = tls_next::wait_read;  // after two zeros: the close_notify is on its way
        if (r < 0) {
            zeros = 0;
            next = after_failure(r, ec);
            if (next == tls_next::done) co_return ec;
        } else if (++zeros <= 2) {
            // OpenSSL 3 reads the peer's close_notify on the next call, at once: it may be
            // in OpenSSL's buffer already (read ahead with the last data), and then nothing
            // more comes on the socket to wait for. When it is not, that call says "want
            // read" from the socket itself. (At most two zeros in a row: the second when
            // our close_notify was still being sent.)
            continue;
        }
        if (auto wec = co_await wait(next)) co_return wec;
    }
}

template class basic_tls_stream<net::any_io_executor>;
template class basic_tls_stream<net::io_context::executor_type>;

}  // namespace catalyst::detail
