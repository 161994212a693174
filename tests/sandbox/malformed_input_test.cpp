// Malformed HTTP, TLS and JSON: an error answer or a closed connection, never a crash or a
// stuck worker (each test ends with a normal request).

#include "sandbox/sandbox_fixture.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>

#include <random>
#include <string>
#include <vector>

using namespace catalyst;
using namespace catalyst::test;

namespace {

using malformed_input = sandbox_test;

TEST_F(malformed_input, malformed_request_line_and_headers) {
    sandbox_params p;
    p.threads = 1;
    start(p);
    for (const auto& bad : std::vector<std::string>{
             "GARBAGE\r\n\r\n", "POST /x HTTP/9.9\r\n\r\n",
             "POST /api/v1/payment-sessions/ HTTP/1.1\r\nHost x\r\n\r\n",
             "POST /api/v1/payment-sessions/ HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
             "POST /api/v1/payment-sessions/ HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: "
             "6\r\n\r\nhello"}) {
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

TEST_F(malformed_input, malformed_json_bodies) {
    start();
    const std::vector<std::string> bodies = {"{",
                                             "null",
                                             "\"string\"",
                                             "{\"lead\": [}",
                                             "{\"lead\":\"\xff\xfe\"}",
                                             std::string(2000, '['),
                                             "{\"campaign_id\": 12}"};
    for (const auto& bad : bodies) {
        const auto r = post(bad);
        EXPECT_EQ(r.status, 400u) << bad.substr(0, 40);
        EXPECT_TRUE(json(r).is_object());
    }
    EXPECT_EQ(sb_->stats().created, 0u);
    expect_still_serving();
}

TEST_F(malformed_input, garbage_instead_of_tls) {
    sandbox_params p;
    p.threads = 1;
    start(p);
    std::mt19937 rng(42);
    for (int i = 0; i < 20; ++i) {
        boost::asio::io_context ioc;
        boost::asio::ip::tcp::socket s(ioc);
        s.connect({boost::asio::ip::make_address("127.0.0.1"), sb_->port()});
        std::string junk =
            i == 0 ? "GET / HTTP/1.1\r\nHost: x\r\n\r\n" : std::string(64 + i * 13, '\0');
        if (i > 0)
            for (auto& ch : junk) ch = static_cast<char>(rng());
        if (i == 1) junk[0] = 0x16;  // looks like a handshake record, then nonsense
        boost::system::error_code ec;
        boost::asio::write(s, boost::asio::buffer(junk), ec);
        char buf[512];
        while (!ec)
            s.read_some(boost::asio::buffer(buf),
                        ec);  // the server answers with an alert or closes
        EXPECT_TRUE(ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset)
            << ec.message();
    }
    expect_still_serving();
}

TEST_F(malformed_input, broken_tls_record_after_the_handshake) {
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
    EXPECT_TRUE(is_closed_by_peer(ec) || ec.category() == boost::asio::error::get_ssl_category())
        << ec.message();
    expect_still_serving();
}

}  // namespace
