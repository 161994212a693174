// The TLS stream (src/tls) against peers on 127.0.0.1 that the tests start: our stream on
// both ends, and Asio's ssl::stream as an independent peer on either end (interop). Every
// test runs one io_context for a bounded time and fails when something is still running
// (a hang), so each case can fail by a wrong result, an error, or a hang.

#include "tls_test_support.hpp"

#include <openssl/ssl.h>
#include <openssl/tls1.h>
#include <openssl/x509_vfy.h>

namespace catalyst::test::tls {
namespace {

// --- round trips ---------------------------------------------------------------------------

template <class Stream>
Stream make_stream(socket_t&& sock, ssl::context& ctx);
template <>
stream_t make_stream<stream_t>(socket_t&& sock, ssl::context& ctx) {
    return stream_t(std::move(sock), ctx.native_handle());
}
template <>
asio_stream_t make_stream<asio_stream_t>(socket_t&& sock, ssl::context& ctx) {
    return asio_stream_t(std::move(sock), ctx);
}

// The client writes `n` bytes, the server echoes them, the client checks them.
template <class Client, class Server>
void round_trip(Client& c, Server& s, net::io_context& ioc, std::size_t n) {
    const std::string sent = pattern(n, 7);
    std::string at_server, at_client;
    error_code c_ec, s_ec;
    int finished = 0;
    spawn(ioc, [&]() -> task<> {
        if (!(s_ec = co_await handshake(s, tls_role::server)) && !(s_ec = co_await read_n(s, at_server, n)))
            s_ec = co_await write_all(s, at_server);
        ++finished;
    });
    spawn(ioc, [&]() -> task<> {
        if (!(c_ec = co_await handshake(c, tls_role::client)) && !(c_ec = co_await write_all(c, sent)))
            c_ec = co_await read_n(c, at_client, n);
        ++finished;
    });
    EXPECT_TRUE(run_until(ioc, [&] { return finished == 2; })) << "hang: " << finished << " of 2 ends finished";
    EXPECT_FALSE(s_ec) << s_ec.message();
    EXPECT_FALSE(c_ec) << c_ec.message();
    EXPECT_TRUE(at_server == sent) << "server got " << at_server.size() << " bytes, not the ones sent";
    EXPECT_TRUE(at_client == sent) << "client got " << at_client.size() << " bytes, not the ones sent";
}

class tls_versions : public ::testing::TestWithParam<int> {};

// A connection between a `Client` and a `Server` (our stream or Asio's), the client
// verifying "localhost", and a round trip of 100 KB over it.
template <class Client, class Server>
void round_trip_between(int max_version) {
    net::io_context ioc;
    auto sctx = server_context(max_version);
    auto cctx = client_context();
    auto [a, b] = tcp_pair(ioc);
    Client c = make_stream<Client>(std::move(a), cctx);
    Server s = make_stream<Server>(std::move(b), sctx);
    SSL_set1_host(c.native_handle(), "localhost");
    round_trip(c, s, ioc, 100'000);
    EXPECT_EQ(SSL_version(c.native_handle()), max_version ? max_version : TLS1_3_VERSION);
    EXPECT_EQ(SSL_get_verify_result(c.native_handle()), X509_V_OK);
}

TEST_P(tls_versions, round_trip_our_stream_on_both_ends) { round_trip_between<stream_t, stream_t>(GetParam()); }
TEST_P(tls_versions, our_client_against_asio_server) { round_trip_between<stream_t, asio_stream_t>(GetParam()); }
TEST_P(tls_versions, asio_client_against_our_server) { round_trip_between<asio_stream_t, stream_t>(GetParam()); }

INSTANTIATE_TEST_SUITE_P(tls, tls_versions, ::testing::Values(0, TLS1_2_VERSION),
                         [](const auto& i) { return i.param ? std::string("tls12") : std::string("tls13"); });

// --- large payloads, both directions at once, slow readers ----------------------------------

// Writes `sent` while a second coroutine reads the peer's `n` bytes slowly (a pause after
// each read), so that both ends fill the small socket buffers: writes meet "would block"
// and complete partly.
template <class Stream>
task<> duplex(Stream& s, const std::string& sent, std::string& got, std::size_t n, error_code& wec, error_code& rec,
              int& finished) {
    auto ex = co_await net::this_coro::executor;
    net::co_spawn(ex, [ps = &s, psent = &sent, pwec = &wec, pfinished = &finished]() -> task<> {
        *pwec = co_await write_all(*ps, *psent);
        ++*pfinished;
    }, rethrow);
    rec = co_await read_n(s, got, n, std::chrono::microseconds(300));
    ++finished;
}

// Our client and a `Server` with 16 KB socket buffers, 4 MB each way at once.
template <class Server>
void large_payloads_against() {
    net::io_context ioc;
    auto sctx = server_context();
    auto cctx = client_context();
    auto [a, b] = tcp_pair(ioc, 16 * 1024);
    stream_t c(std::move(a), cctx.native_handle());
    Server s = make_stream<Server>(std::move(b), sctx);
    constexpr std::size_t n = 4 << 20;
    const std::string to_server = pattern(n, 1), to_client = pattern(n, 2);
    std::string at_server, at_client;
    error_code c_hs, s_hs, c_w, c_r, s_w, s_r;
    int finished = 0;
    spawn(ioc, [&]() -> task<> {
        if (!(s_hs = co_await handshake(s, tls_role::server))) co_await duplex(s, to_client, at_server, n, s_w, s_r, finished);
    });
    spawn(ioc, [&]() -> task<> {
        if (!(c_hs = co_await handshake(c, tls_role::client))) co_await duplex(c, to_server, at_client, n, c_w, c_r, finished);
    });
    EXPECT_TRUE(run_until(ioc, [&] { return finished == 4; }, std::chrono::seconds(60))) << "hang";
    ASSERT_FALSE(c_hs) << c_hs.message();
    ASSERT_FALSE(s_hs) << s_hs.message();
    EXPECT_EQ(finished, 4);
    EXPECT_FALSE(c_w || c_r || s_w || s_r) << c_w.message() << c_r.message() << s_w.message() << s_r.message();
    EXPECT_TRUE(at_server == to_server) << "server got " << at_server.size() << " bytes, not the ones sent";
    EXPECT_TRUE(at_client == to_client) << "client got " << at_client.size() << " bytes, not the ones sent";
}

TEST(tls_stream, four_megabytes_each_way_with_slow_readers) { large_payloads_against<stream_t>(); }
TEST(tls_stream, four_megabytes_each_way_against_asio_server) { large_payloads_against<asio_stream_t>(); }

// --- records split at every byte -----------------------------------------------------------

TEST(tls_stream, records_split_at_every_byte_in_both_directions) {
    net::io_context ioc;
    auto sctx = server_context();
    auto cctx = client_context();
    auto [a, ra] = tcp_pair(ioc);  // client <-> relay
    auto [rb, b] = tcp_pair(ioc);  // relay <-> server
    stream_t c(std::move(a), cctx.native_handle());
    stream_t s(std::move(b), sctx.native_handle());
    SSL_set1_host(c.native_handle(), "localhost");
    byte_relay relay(ra, rb, c.socket(), s.socket());
    relay.start(ioc);
    round_trip(c, s, ioc, 5000);
    // The relay carried the handshake and the data one byte at a time, each byte read by the
    // stream before the next was sent.
    EXPECT_GT(relay.bytes(), 10'000u);
    EXPECT_GE(relay.alone() * 10, relay.bytes() * 9) << relay.alone() << " of " << relay.bytes() << " bytes read alone";
}

}  // namespace
}  // namespace catalyst::test::tls
