// TLS on a TCP socket, with OpenSSL reading and writing the socket itself.
//
// Asio's ssl::stream puts a BIO pair and two 17 KB buffers between OpenSSL and the socket:
// every byte is copied once more each way, a read that OpenSSL could satisfy costs a
// "want read" round trip through the composed operation first, and a cancel() reaches only
// the inner socket operation pending at that moment. Here OpenSSL's BIO is the socket (a
// small BIO of ours: send() with MSG_NOSIGNAL, so a closed peer is an EPIPE, never a
// SIGPIPE that kills the embedding process), and Asio is used only to wait for readiness.
// Every operation is a plain loop "try the SSL call; on want-read/want-write wait for the
// socket": a cancel or a socket shutdown ends the wait, and there is no hidden inner
// operation left to run unbounded.
//
// Used by the client's connections and by the sandbox; compiled once (tls_stream.cpp) for
// the two executor types they use.
#pragma once

#include <catalyst/export.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <utility>
#include <vector>

using SSL = struct ssl_st;
using SSL_CTX = struct ssl_ctx_st;
using BIO = struct bio_st;

namespace catalyst::detail {

enum class tls_role { client, server };

/// What a read or a write did: `bytes` moved before `ec` (if any) ended it.
struct tls_io_result {
    boost::system::error_code ec;
    std::size_t bytes = 0;
};

/// What an attempt that never waits needs before the next one.
enum class tls_next {
    done,        ///< bytes moved, or `ec`
    wait_read,   ///< the socket would block: wait until it is readable
    wait_write,  ///< the socket would block: wait until it is writable
    yield,       ///< a record without data was processed: try again after other handlers ran
};

struct tls_step {
    boost::system::error_code ec;
    std::size_t bytes = 0;
    tls_next next = tls_next::done;
};

/// The error of an SSL call that failed with SSL_ERROR_SSL: `err` is the first entry of
/// OpenSSL's error queue (0 when it was empty), `eof` whether recv() returned 0 during the
/// call, `sys_errno` the socket error behind it (0 = none). `ssl::error::stream_truncated`
/// for OpenSSL's unexpected EOF (that reason in OpenSSL's SSL library only: another library's
/// reasons reuse the number) or an empty queue without a socket error; the socket error for
/// an empty queue; else the entry, in Asio's SSL category.
boost::system::error_code ssl_failure_code(unsigned long err, bool eof, int sys_errno) noexcept;

template <class Executor>
class CATALYST_DECL basic_tls_stream {
public:
    using executor_type = Executor;
    using socket_type = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;
    template <class T>
    using task = boost::asio::awaitable<T, Executor>;

    /// A stream whose socket is not open yet (the client connects it later).
    basic_tls_stream(const Executor& ex, SSL_CTX* ctx);
    /// A stream on an accepted socket.
    basic_tls_stream(socket_type&& sock, SSL_CTX* ctx);
    ~basic_tls_stream();
    basic_tls_stream(const basic_tls_stream&) = delete;
    basic_tls_stream& operator=(const basic_tls_stream&) = delete;

    socket_type& socket() noexcept { return socket_; }
    executor_type get_executor() noexcept { return socket_.get_executor(); }
    /// For settings made before the handshake (SNI, verified name, session to resume).
    SSL* native_handle() const noexcept { return ssl_; }

    /// The handshake, in the given role (a loop of `try_handshake` and its waits). Errors:
    /// Asio's SSL category for a TLS failure (certificate refused, protocol), the system
    /// category for the socket.
    task<boost::system::error_code> handshake(tls_role role);
    /// Up to `size` decrypted bytes; at least one unless `ec`. `net::error::eof` after the
    /// peer's close_notify; `ssl::error::stream_truncated` when the TCP stream ended without
    /// one. `wait_first`: the caller knows nothing can have arrived yet (it has just written
    /// a request, or an answer): the stream waits for the socket before its first attempt
    /// rather than after a recv() that fails (unless OpenSSL holds bytes already).
    task<tls_io_result> read_some(char* data, std::size_t size, bool wait_first = false);
    /// All of `size` bytes (records of up to 16 KB), unless `ec`.
    task<tls_io_result> write(const char* data, std::size_t size);

    // The same without a coroutine, for a caller's hot path: one attempt that never waits
    // (an answer already readable, a request the socket takes at once cost no coroutine
    // frame); the caller waits as `next` says, or falls back on the operations above.
    /// One read attempt.
    tls_step try_read(char* data, std::size_t size) noexcept;
    /// Writes until all of `size` is written, an error, or the socket would block.
    tls_step try_write(const char* data, std::size_t size) noexcept;
    /// One handshake step (one SSL_do_handshake). The first call puts the SSL object in the
    /// role's state (later calls keep it, whatever role they name) and the socket in
    /// non-blocking mode. `next`: done (success, or `ec`), or what to wait for before the
    /// next call.
    tls_step try_handshake(tls_role role) noexcept;
    /// Sends close_notify and waits for the peer's. The caller bounds the wait (a timer
    /// that closes the socket).
    task<boost::system::error_code> shutdown();

    /// Ends the operation under way (handshake, read_some, write, shutdown) with
    /// `operation_aborted`: its readiness wait at once, and in any case at its next wait or
    /// yield (between records without data no socket operation is pending, and a wait whose
    /// completion is already queued can no longer be cancelled: a cancel() of the socket
    /// alone would be lost then). Like Asio's cancel(): later operations are not affected
    /// (each clears the request when it begins).
    void cancel() noexcept;
    // --- Fed reads (the client's connections, after the handshake) ---
    // OpenSSL no longer reads the socket itself: the caller keeps one receive pending on the
    // socket (an Asio receive: started without a system call, where each readiness wait costs
    // an epoll_ctl), hands over what arrives (`took`), and reads decrypt from there. On an idle
    // connection the same pending receive is the watch for the server's close or for bytes
    // nobody asked for.
    /// From now on reads take their bytes from what the caller hands over.
    void feed_reads();
    /// Where the caller's next receive may write: the free room of the intake (empty when it
    /// is full: receive again once reads have taken some). Only while no receive is pending:
    /// it may move what the intake holds.
    std::pair<char*, std::size_t> intake() noexcept;
    /// `n` bytes arrived in the room `intake()` gave.
    void took(std::size_t n) noexcept;
    /// The receive ended: the peer closed (`eof`), or the socket failed with `sys_errno`.
    void took_end(bool eof, int sys_errno) noexcept;
    /// Reads are fed (`feed_reads`).
    bool fed() const noexcept { return fed_; }
    /// Fed, the receive has ended (the peer closed, or the socket failed): reads say so.
    bool fed_ended() const noexcept { return fed_ && (eof_ || fed_errno_ != 0); }

    /// Bytes OpenSSL holds (decrypted or not), or, fed, bytes handed over it has not taken:
    /// what the socket will not signal again.
    bool has_buffered() const noexcept;
    /// For an idle connection: did the peer send anything that ends it (data nobody asked
    /// for, a close_notify, a FIN, a reset)? Records without data (TLS 1.3 session tickets,
    /// key updates) are processed and do not count. Never waits. Fed, it looks at what was
    /// handed over, and at the socket (one peek) only when `ask_socket`.
    bool peer_spoke_while_idle(bool ask_socket = true) noexcept;
    /// Returns OpenSSL's record buffers to the heap while the connection is idle (they are
    /// allocated again on the next use: only for an idle spell, not between busy requests).
    void release_buffers() noexcept;
    /// Marks the session as shut down without writing anything: OpenSSL keeps a session
    /// that ended without a shutdown out of the resumption cache. Leaves this thread's
    /// OpenSSL error queue empty (a shutdown in the middle of a handshake queues an error).
    void quiet_shutdown() noexcept;

private:
    struct bio_access;
    void attach();
    /// Did the records OpenSSL can read now (buffered, or from the socket when not fed) carry
    /// data, a close or an error? Records without data are taken in.
    bool peer_spoke_in_records() noexcept;
    /// Clears what the last call left (OpenSSL's error queue, the BIO's findings).
    void begin_call() noexcept;
    /// What a failed SSL call needs next: an error in `ec` (done), a wait, or a yield.
    tls_next after_failure(int ret, boost::system::error_code& ec) noexcept;
    /// An awaitable operation begins: a cancel() from before it does not concern it.
    void begin_operation() noexcept { cancelled_ = false; }
    /// Waits as `next` says; `operation_aborted` when the wait was cancelled or cancel()
    /// came during the operation.
    task<boost::system::error_code> wait(tls_next next);

    socket_type socket_;
    SSL* ssl_ = nullptr;
    int last_errno_ = 0;  ///< the socket error behind an SSL_ERROR_SYSCALL
    bool eof_ = false;    ///< recv() returned 0
    bool blocked_ = false;  ///< the socket said "would block" during the last call
    bool cancelled_ = false;  ///< cancel() came during the current operation
    bool handshake_begun_ = false;  ///< try_handshake set the role and non-blocking mode
    bool fed_ = false;              ///< reads take from `intake_` (feed_reads)
    std::vector<char> intake_;      ///< fed bytes: [intake_begin_, intake_end_) not taken yet
    std::size_t intake_begin_ = 0, intake_end_ = 0;
    int fed_errno_ = 0;             ///< the fed receive ended with this socket error
};

using tls_stream = basic_tls_stream<boost::asio::any_io_executor>;
using io_context_tls_stream = basic_tls_stream<boost::asio::io_context::executor_type>;

extern template class basic_tls_stream<boost::asio::any_io_executor>;
extern template class basic_tls_stream<boost::asio::io_context::executor_type>;

}  // namespace catalyst::detail
