// Malformed HTTP, TLS and JSON, limits and slow clients: an error answer or a closed
// connection, never a crash or a stuck worker (each test ends with a normal request).

#include "sandbox/sandbox_fixture.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/ssl/error.hpp>

#include <random>
#include <thread>

using namespace catalyst;
using namespace catalyst::test;
using namespace std::chrono_literals;

namespace {

class SandboxHardening : public sandbox_test {
protected:
    void expect_still_serving() {
        const auto r = post(example_create_body());
        EXPECT_EQ(r.status, 201u) << "the sandbox stopped serving";
    }
    http_reply raw_exchange(const std::string& bytes, boost::system::error_code& ec) {
        auto c = client();
        http_reply r;
        ec = c->write(bytes);
        if (!ec) ec = c->read_reply(r);
        return r;
    }
};

TEST_F(SandboxHardening, MalformedRequestLineAndHeaders) {
    sandbox_params p;
    p.threads = 1;
    start(p);
    for (const auto& bad : std::vector<std::string>{"GARBAGE\r\n\r\n", "POST /x HTTP/9.9\r\n\r\n", "POST /api/v1/payment-sessions/ HTTP/1.1\r\nHost x\r\n\r\n",
                                  "POST /api/v1/payment-sessions/ HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
                                  "POST /api/v1/payment-sessions/ HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello"}) {
        boost::system::error_code ec;
        const auto r = raw_exchange(bad, ec);
        if (!ec) {
            EXPECT_EQ(r.status, 400u) << bad;
            EXPECT_FALSE(r.keep_alive);
        } else {
            EXPECT_TRUE(is_closed_by_peer(ec)) << ec.message();
        }
    }
    EXPECT_GE(sb_->stats().malformed, 5u);
    expect_still_serving();
}

TEST_F(SandboxHardening, HeaderAndBodyLimits) {
    sandbox_params p;
    p.limits.max_header_bytes = 1024;
    p.limits.max_body_bytes = 2048;
    start(p);
    header_list big = create_headers();
    big.emplace_back("X-Padding", std::string(4096, 'a'));
    auto c = client();
    http_reply r;
    ASSERT_FALSE(c->request("POST", create_path, big, example_create_body(), r));
    EXPECT_EQ(r.status, 431u);
    EXPECT_FALSE(r.keep_alive);

    auto c2 = client();
    ASSERT_FALSE(c2->request("POST", create_path, create_headers(), std::string(4096, ' ') + example_create_body(), r));
    EXPECT_EQ(r.status, 413u);
    EXPECT_TRUE(json(r).as_object().contains("detail"));

    // Chunked: the limit holds without a Content-Length too.
    boost::system::error_code ec;
    std::string chunked = "POST /api/v1/payment-sessions/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer rk_your_api_key\r\n"
                          "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 5; ++i) chunked += "400\r\n" + std::string(1024, ' ') + "\r\n";
    chunked += "0\r\n\r\n";
    r = raw_exchange(chunked, ec);
    if (!ec) EXPECT_EQ(r.status, 413u);
    else EXPECT_TRUE(is_closed_by_peer(ec)) << ec.message();
    EXPECT_EQ(sb_->stats().created, 0u);
    expect_still_serving();
}

TEST_F(SandboxHardening, ChunkedBodyAndExpectContinueAreServed) {
    start();
    const auto body = example_create_body();
    char size[16];
    std::snprintf(size, sizeof size, "%zx", body.size());
    boost::system::error_code ec;
    auto r = raw_exchange("POST /api/v1/payment-sessions/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer rk_your_api_key\r\n"
                          "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
                              std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n",
                          ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(r.status, 201u);

    auto c = client();
    ASSERT_FALSE(c->write("POST /api/v1/payment-sessions/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer rk_your_api_key\r\n"
                          "Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n"));
    ASSERT_FALSE(c->read_reply(r));
    EXPECT_EQ(r.status, 100u);
    ASSERT_FALSE(c->write(body));
    ASSERT_FALSE(c->read_reply(r));
    EXPECT_EQ(r.status, 201u);
}

TEST_F(SandboxHardening, MalformedJsonBodies) {
    start();
    const std::vector<std::string> bodies = {"{", "null", "\"string\"", "{\"lead\": [}", "{\"lead\":\"\xff\xfe\"}",
                                             std::string(2000, '['), "{\"campaign_id\": 12}"};
    for (const auto& bad : bodies) {
        const auto r = post(bad);
        EXPECT_EQ(r.status, 400u) << bad.substr(0, 40);
        EXPECT_TRUE(json(r).is_object());
    }
    EXPECT_EQ(sb_->stats().created, 0u);
    expect_still_serving();
}

TEST_F(SandboxHardening, SlowClientsAreCut) {
    sandbox_params p;
    p.threads = 1;
    p.limits.handshake_timeout = 200ms;
    p.limits.header_timeout = 200ms;
    p.limits.body_timeout = 200ms;
    start(p);
    // A TCP connection that never starts TLS.
    {
        boost::asio::io_context ioc;
        boost::asio::ip::tcp::socket s(ioc);
        s.connect({boost::asio::ip::make_address("127.0.0.1"), sb_->port()});
        char byte;
        boost::system::error_code ec;
        s.read_some(boost::asio::buffer(&byte, 1), ec);  // returns when the server closes
        EXPECT_TRUE(ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset) << ec.message();
    }
    // Half a header.
    {
        auto c = client();
        ASSERT_FALSE(c->write("POST /api/v1/payment-sessions/ HTTP/1.1\r\nHost: x\r\n"));
        std::string raw;
        const auto ec = c->read_until_close(raw);
        EXPECT_TRUE(is_closed_by_peer(ec)) << ec.message();
    }
    // Half a body.
    {
        auto c = client();
        ASSERT_FALSE(c->write("POST /api/v1/payment-sessions/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                              "Content-Length: 100\r\n\r\n{\"lead\":"));
        std::string raw;
        const auto ec = c->read_until_close(raw);
        EXPECT_TRUE(is_closed_by_peer(ec)) << ec.message();
    }
    expect_still_serving();
    // Counted right after the server closed each one: a bounded moment for that.
    for (int i = 0; i < 200 && sb_->stats().malformed < 3; ++i) std::this_thread::sleep_for(5ms);
    EXPECT_GE(sb_->stats().malformed, 3u);
}

TEST_F(SandboxHardening, GarbageInsteadOfTls) {
    sandbox_params p;
    p.threads = 1;
    start(p);
    std::mt19937 rng(42);
    for (int i = 0; i < 20; ++i) {
        boost::asio::io_context ioc;
        boost::asio::ip::tcp::socket s(ioc);
        s.connect({boost::asio::ip::make_address("127.0.0.1"), sb_->port()});
        std::string junk = i == 0 ? "GET / HTTP/1.1\r\nHost: x\r\n\r\n" : std::string(64 + i * 13, '\0');
        if (i > 0)
            for (auto& ch : junk) ch = static_cast<char>(rng());
        if (i == 1) junk[0] = 0x16;  // looks like a handshake record, then nonsense
        boost::system::error_code ec;
        boost::asio::write(s, boost::asio::buffer(junk), ec);
        char buf[512];
        while (!ec) s.read_some(boost::asio::buffer(buf), ec);  // the server answers with an alert or closes
        EXPECT_TRUE(ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset) << ec.message();
    }
    expect_still_serving();
}

TEST_F(SandboxHardening, BrokenTlsRecordAfterTheHandshake) {
    sandbox_params p;
    p.threads = 1;
    start(p);
    auto c = client();
    http_reply r;
    ASSERT_FALSE(c->request("POST", create_path, create_headers(), example_create_body(), r));
    ASSERT_EQ(r.status, 201u);
    // An application-data record whose ciphertext is noise: decryption fails on the server.
    std::string record = {'\x17', '\x03', '\x03', '\x00', '\x40'};
    record += std::string(64, '\x5a');
    ASSERT_FALSE(c->write_below_tls(record));
    std::string rest;
    const auto ec = c->read_until_close(rest);
    EXPECT_TRUE(is_closed_by_peer(ec) || ec.category() == boost::asio::error::get_ssl_category()) << ec.message();
    expect_still_serving();
}

TEST_F(SandboxHardening, ConnectionLimit) {
    sandbox_params p;
    p.limits.max_connections = 2;
    start(p);
    auto a = client(), b = client();
    ASSERT_FALSE(a->connect());
    ASSERT_FALSE(b->connect());
    http_reply r;
    ASSERT_FALSE(a->request("GET", "/sandbox/health", {}, "", r));  // both are surely accepted by now
    ASSERT_FALSE(b->request("GET", "/sandbox/health", {}, "", r));
    auto third = client();
    const auto ec = third->connect();  // accepted and closed at once: the handshake fails
    EXPECT_TRUE(ec) << "a third connection was served";
    EXPECT_GE(sb_->stats().connections_rejected, 1u);
    a->close();
    b->close();
    // Freed slots are given out again (bounded retries: closing is asynchronous on the server).
    bool served = false;
    for (int i = 0; i < 50 && !served; ++i) {
        auto c = client();
        http_reply rr;
        served = !c->request("POST", create_path, create_headers(), example_create_body(), rr) && rr.status == 201;
        if (!served) std::this_thread::sleep_for(20ms);
    }
    EXPECT_TRUE(served);
}

TEST_F(SandboxHardening, StopWithOpenConnectionsAndRequestsInFlight) {
    fault_params f;
    f.latency.every_nth = 1;
    f.latency_min = 10s;  // a request parked in the latency fault
    sandbox_params p;
    p.faults = f;
    p.threads = 2;
    start(p);
    auto idle = client();
    ASSERT_FALSE(idle->connect());
    auto parked = client(200ms);
    ASSERT_FALSE(parked->write("POST /api/v1/payment-sessions/ HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"));
    http_reply r;
    EXPECT_TRUE(parked->read_reply(r));  // our own timeout: the server is sleeping on it
    sb_->stop();                         // must not hang
    sb_->stop();                         // idempotent
    std::string rest;
    EXPECT_TRUE(is_closed_by_peer(idle->read_until_close(rest)));
}

}  // namespace
