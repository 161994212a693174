#ifndef CATALYST_TESTS_TLS_TLS_TEST_SUPPORT_HPP
#define CATALYST_TESTS_TLS_TLS_TEST_SUPPORT_HPP

// What the TLS stream's tests share: the development certificates and contexts made from
// them, connected TCP pairs on 127.0.0.1, one set of operations over both our stream and
// Asio's ssl::stream (the independent peer), a bounded run of the io_context, and a relay
// that forwards bytes one at a time.

#include "support/socket_state.hpp"
#include "tls/tls_stream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace catalyst::test::tls {

namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using boost::system::error_code;
using detail::tls_role;

using executor_t = net::io_context::executor_type;
template <class T = void>
using task = net::awaitable<T, executor_t>;
using socket_t = net::basic_stream_socket<tcp, executor_t>;
using stream_t = detail::io_context_tls_stream;
using asio_stream_t = ssl::stream<socket_t>;
using timer_t = net::basic_waitable_timer<std::chrono::steady_clock,
                                          net::wait_traits<std::chrono::steady_clock>, executor_t>;
inline constexpr auto use_tuple = net::as_tuple(net::use_awaitable_t<executor_t>{});
inline constexpr net::use_awaitable_t<executor_t> use_await{};

/// A server context with the development certificate; `max_version` caps the protocol
/// (TLS1_2_VERSION), 0 = none.
ssl::context server_context(int max_version = 0);
/// A client context that trusts the development CA and verifies the server.
ssl::context client_context();
/// The development CA that signed the server's certificate.
const std::string& ca_pem();

/// A connected pair on 127.0.0.1 (first: the connecting end), TCP_NODELAY on both.
/// `buffer_size` > 0 sets SO_SNDBUF and SO_RCVBUF of both ends.
std::pair<socket_t, socket_t> tcp_pair(net::io_context& ioc, int buffer_size = 0);
/// Resets the connection: SO_LINGER 0, then close (the peer sees an RST).
void reset(socket_t& s);
// unread, unacknowledged, tcp_state: support/socket_state.hpp.

/// `n` bytes of a sequence that depends on `seed` (content checks see a shifted byte).
std::string pattern(std::size_t n, unsigned seed);

/// Rethrows a coroutine's exception out of io_context::run (the test fails with it).
inline void rethrow(std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
}
template <class F>
void spawn(net::io_context& ioc, F&& f) {
    net::co_spawn(ioc.get_executor(), std::forward<F>(f), rethrow);
}
/// Runs `ioc` until `done()` holds, at most `limit`. False when it did not (a hang, or the
/// io_context ran out of work first).
bool run_until(net::io_context& ioc, const std::function<bool()>& done,
               std::chrono::milliseconds limit = std::chrono::seconds(20));
/// Waits `d` on the coroutine's executor.
task<> sleep_for(std::chrono::steady_clock::duration d);
/// Waits on the coroutine's executor until `done()` holds, looking every millisecond, at most
/// `limit`; whether it held. What the other end of a test does is waited for with this, never
/// with a bare sleep.
task<bool> wait_until(std::function<bool()> done,
                      std::chrono::milliseconds limit = std::chrono::seconds(5));

// One set of operations over both streams (results as error codes).
task<error_code> handshake(stream_t& s, tls_role role);
task<error_code> handshake(asio_stream_t& s, tls_role role);
task<detail::tls_io_result> read_some(stream_t& s, char* data, std::size_t size);
task<detail::tls_io_result> read_some(asio_stream_t& s, char* data, std::size_t size);
task<error_code> write_all(stream_t& s, std::string_view bytes);
task<error_code> write_all(asio_stream_t& s, std::string_view bytes);

/// Reads until `out` holds `n` bytes (appending), pausing `pause` after each read (a slow
/// reader) when it is not zero.
template <class Stream>
task<error_code> read_n(Stream& s, std::string& out, std::size_t n,
                        std::chrono::steady_clock::duration pause = {}) {
    char buf[16 * 1024];
    while (out.size() < n) {
        auto r = co_await read_some(s, buf, std::min(sizeof buf, n - out.size()));
        out.append(buf, r.bytes);
        if (r.ec) co_return r.ec;
        if (pause.count() != 0) co_await sleep_for(pause);
    }
    co_return error_code{};
}

/// Forwards bytes between a client's and a server's TCP ends, one byte per send, and before
/// the next byte waits (a bounded number of yields) until the receiving stream has read the
/// previous one, so every record reaches its reader split at every byte. It stops at the
/// end of either direction (passing the end on) or at stop().
class byte_relay {
  public:
    /// `to_client`/`to_server`: the relay's ends; `client`/`server`: the streams' sockets
    /// (watched for unread bytes).
    byte_relay(socket_t& to_client, socket_t& to_server, socket_t& client, socket_t& server)
        : to_client_(to_client), to_server_(to_server), client_(client), server_(server) {}
    void start(net::io_context& ioc);
    void stop();
    std::size_t bytes() const noexcept { return bytes_; }
    /// Bytes that the receiver read before the next one was sent.
    std::size_t alone() const noexcept { return alone_; }
    int running() const noexcept { return running_; }

  private:
    task<> pump(socket_t& from, socket_t& to, socket_t& reader);
    socket_t& to_client_;
    socket_t& to_server_;
    socket_t& client_;
    socket_t& server_;
    std::size_t bytes_ = 0;
    std::size_t alone_ = 0;
    int running_ = 0;
};

}  // namespace catalyst::test::tls

#endif
