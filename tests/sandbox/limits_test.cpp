// The server's limits: header and body sizes (with or without a Content-Length), slow clients
// cut at the handshake, header and body timeouts, and a cap on connections whose freed slots
// are given out again. Each ends with a normal request.

#include "sandbox/sandbox_fixture.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <string>
#include <thread>

using namespace catalyst;
using namespace catalyst::test;
using namespace std::chrono_literals;

namespace {

using limits = sandbox_test;

TEST_F(limits, header_and_body_limits) {
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
    ASSERT_FALSE(c2->request("POST", create_path, create_headers(),
                             std::string(4096, ' ') + example_create_body(), r));
    EXPECT_EQ(r.status, 413u);
    EXPECT_TRUE(json(r).as_object().contains("detail"));

    // Chunked: the limit holds without a Content-Length too.
    boost::system::error_code ec;
    std::string chunked =
        "POST /api/v1/payment-sessions/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        "rk_your_api_key\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 5; ++i) chunked += "400\r\n" + std::string(1024, ' ') + "\r\n";
    chunked += "0\r\n\r\n";
    r = raw_exchange(chunked, ec);
    if (!ec)
        EXPECT_EQ(r.status, 413u);
    else
        EXPECT_TRUE(is_closed_by_peer(ec)) << ec.message();
    EXPECT_EQ(sb_->stats().created, 0u);
    expect_still_serving();
}

TEST_F(limits, slow_clients_are_cut) {
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
        EXPECT_TRUE(ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset)
            << ec.message();
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
        ASSERT_FALSE(
            c->write("POST /api/v1/payment-sessions/ HTTP/1.1\r\nHost: x\r\nContent-Type: "
                     "application/json\r\n"
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

TEST_F(limits, connection_limit) {
    sandbox_params p;
    p.limits.max_connections = 2;
    start(p);
    auto a = client(), b = client();
    ASSERT_FALSE(a->connect());
    ASSERT_FALSE(b->connect());
    http_reply r;
    ASSERT_FALSE(
        a->request("GET", "/sandbox/health", {}, "", r));  // both are surely accepted by now
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
        served = !c->request("POST", create_path, create_headers(), example_create_body(), rr) &&
                 rr.status == 201;
        if (!served) std::this_thread::sleep_for(20ms);
    }
    EXPECT_TRUE(served);
}

}  // namespace
