#include "tls_test_support.hpp"

#include "sandbox/certs.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <openssl/ssl.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace catalyst::test::tls {

namespace {
const sandbox_detail::cert_bundle& certs() {
    static const sandbox_detail::cert_bundle c = sandbox_detail::generate_dev_certs();
    return c;
}
}  // namespace

const std::string& ca_pem() {
    return certs().ca_pem;
}

ssl::context server_context(int max_version) {
    ssl::context ctx(ssl::context::tls_server);
    ctx.use_certificate_chain(net::buffer(certs().cert_pem));
    ctx.use_private_key(net::buffer(certs().key_pem), ssl::context::pem);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    if (max_version != 0) SSL_CTX_set_max_proto_version(ctx.native_handle(), max_version);
    return ctx;
}

ssl::context client_context() {
    ssl::context ctx(ssl::context::tls_client);
    ctx.add_certificate_authority(net::buffer(certs().ca_pem));
    ctx.set_verify_mode(ssl::verify_peer);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    return ctx;
}

std::pair<socket_t, socket_t> tcp_pair(net::io_context& ioc, int buffer_size) {
    net::basic_socket_acceptor<tcp, executor_t> acceptor(ioc.get_executor(),
                                                         {net::ip::make_address("127.0.0.1"), 0});
    socket_t a(ioc.get_executor());
    a.open(tcp::v4());
    if (buffer_size > 0) {
        // Set before connecting: the window is agreed in the handshake.
        a.set_option(net::socket_base::send_buffer_size(buffer_size));
        a.set_option(net::socket_base::receive_buffer_size(buffer_size));
        acceptor.set_option(net::socket_base::receive_buffer_size(buffer_size));
    }
    a.connect(acceptor.local_endpoint());
    socket_t b = acceptor.accept();
    if (buffer_size > 0) b.set_option(net::socket_base::send_buffer_size(buffer_size));
    a.set_option(tcp::no_delay(true));
    b.set_option(tcp::no_delay(true));
    return {std::move(a), std::move(b)};
}

void reset(socket_t& s) {
    error_code ec;
    s.set_option(net::socket_base::linger(true, 0), ec);
    s.close(ec);
}

std::string pattern(std::size_t n, unsigned seed) {
    std::string s(n, '\0');
    std::uint32_t x = seed * 2654435761u + 1;
    for (auto& ch : s) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        ch = static_cast<char>(x);
    }
    return s;
}

bool run_until(net::io_context& ioc, const std::function<bool()>& done,
               std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    if (ioc.stopped()) ioc.restart();  // a previous run ran out of work
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        if (ioc.run_one_until(deadline) == 0 && ioc.stopped()) return done();
    }
    return true;
}

task<> sleep_for(std::chrono::steady_clock::duration d) {
    timer_t t(co_await net::this_coro::executor, d);
    co_await t.async_wait(use_tuple);
}

task<bool> wait_until(std::function<bool()> done, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) co_return false;
        co_await sleep_for(std::chrono::milliseconds(1));
    }
    co_return true;
}

task<error_code> handshake(stream_t& s, tls_role role) {
    return s.handshake(role);
}

task<error_code> handshake(asio_stream_t& s, tls_role role) {
    auto [ec] = co_await s.async_handshake(
        role == tls_role::client ? ssl::stream_base::client : ssl::stream_base::server, use_tuple);
    co_return ec;
}

task<detail::tls_io_result> read_some(stream_t& s, char* data, std::size_t size) {
    return s.read_some(data, size);
}

task<detail::tls_io_result> read_some(asio_stream_t& s, char* data, std::size_t size) {
    auto [ec, n] = co_await s.async_read_some(net::buffer(data, size), use_tuple);
    co_return detail::tls_io_result{ec, n};
}

task<error_code> write_all(stream_t& s, std::string_view bytes) {
    auto r = co_await s.write(bytes.data(), bytes.size());
    co_return r.ec;
}

task<error_code> write_all(asio_stream_t& s, std::string_view bytes) {
    auto [ec, n] = co_await net::async_write(s, net::buffer(bytes.data(), bytes.size()), use_tuple);
    co_return ec;
}

void byte_relay::start(net::io_context& ioc) {
    running_ = 2;
    spawn(ioc, [this]() -> task<> { co_await pump(to_client_, to_server_, server_); });
    spawn(ioc, [this]() -> task<> { co_await pump(to_server_, to_client_, client_); });
}

void byte_relay::stop() {
    error_code ec;
    to_client_.close(ec);
    to_server_.close(ec);
}

task<> byte_relay::pump(socket_t& from, socket_t& to, socket_t& reader) {
    char buf[4096];
    bool open = true;
    while (open) {
        auto [ec, n] = co_await from.async_read_some(net::buffer(buf), use_tuple);
        open = !ec;
        for (std::size_t i = 0; open && i < n; ++i) {
            auto [wec, w] = co_await net::async_write(to, net::buffer(buf + i, 1), use_tuple);
            open = !wec;
            bytes_ += w;
            int spins = 0;
            while (spins < 2000 && unread(reader.native_handle()) > 0) {
                co_await net::post(co_await net::this_coro::executor, use_await);
                ++spins;
            }
            if (spins < 2000) alone_ += w;
        }
    }
    error_code ignored;
    if (to.is_open()) to.shutdown(tcp::socket::shutdown_send, ignored);
    --running_;
}

}  // namespace catalyst::test::tls
