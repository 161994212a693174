// The stream's fed reads (feed_reads, intake, took, took_end): the client's connections keep one
// Asio receive pending and hand over what it brings; OpenSSL decrypts from there. Against
// Asio's ssl::stream as the independent peer: data in records of any size and cut anywhere,
// session tickets that arrive with or between answers, the peer's close with and without a
// close_notify, a reset, and what an idle connection is told about bytes nobody asked for.
#include "tls_test_support.hpp"

#include <boost/asio/ssl/error.hpp>

#include <openssl/ssl.h>

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace catalyst::test::tls {
namespace {

// A client stream in fed mode after the handshake, against Asio's ssl::stream.
struct fed_pair {
    net::io_context ioc;
    ssl::context server_ctx = server_context();
    ssl::context client_ctx = client_context();
    std::pair<socket_t, socket_t> tcp = tcp_pair(ioc);
    stream_t client{std::move(tcp.first), client_ctx.native_handle()};
    asio_stream_t server{std::move(tcp.second), server_ctx};

    fed_pair() {
        int ok = 0;
        spawn(ioc, [this, &ok]() -> task<> {
            const auto ec = co_await handshake(client, tls_role::client);
            EXPECT_FALSE(ec) << ec.message();
            ++ok;
        });
        spawn(ioc, [this, &ok]() -> task<> {
            const auto ec = co_await handshake(server, tls_role::server);
            EXPECT_FALSE(ec) << ec.message();
            ++ok;
        });
        EXPECT_TRUE(run_until(ioc, [&] { return ok == 2; }));
        client.feed_reads();
    }

    // One receive into the intake, handed over (what the connection driver does).
    std::size_t receive_once() {
        auto [room, size] = client.intake();
        error_code ec;
        std::size_t n = 0;
        bool done = false;
        client.socket().async_receive(net::buffer(room, size), [&](error_code e, std::size_t k) {
            ec = e;
            n = k;
            done = true;
        });
        EXPECT_TRUE(run_until(ioc, [&] { return done; }));
        if (ec) client.took_end(ec == net::error::eof, ec.value());
        else client.took(n);
        return n;
    }

    // Receives until the socket holds nothing more (tickets from the handshake may come first).
    void receive_all() {
        do receive_once();
        while (unread(client.socket().native_handle()) > 0);
    }

    // Reads until `want` bytes or an error, receiving whenever the stream says it waits.
    error_code read(std::string& out, std::size_t want) {
        char buf[4096];
        for (int rounds = 0; rounds < 10000 && out.size() < want; ++rounds) {
            const auto s = client.try_read(buf, sizeof buf);
            if (s.next == detail::tls_next::done) {
                if (s.ec) return s.ec;
                out.append(buf, s.bytes);
            } else if (s.next == detail::tls_next::wait_read) {
                receive_once();
            }
        }
        return {};
    }

    void server_write(const std::string& bytes) {
        bool done = false;
        spawn(ioc, [&]() -> task<> {
            EXPECT_FALSE(co_await write_all(server, bytes));
            done = true;
        });
        EXPECT_TRUE(run_until(ioc, [&] { return done; }));
    }
};

TEST(tls_stream_fed, reads_decrypt_what_the_receive_handed_over) {
    fed_pair p;
    EXPECT_TRUE(p.client.fed());
    const std::string answer = pattern(100'000, 3);  // records of 16 KB, several receives each
    p.server_write(answer);
    std::string got;
    EXPECT_FALSE(p.read(got, answer.size()));
    EXPECT_EQ(got, answer);
    EXPECT_FALSE(p.client.has_buffered());
}

TEST(tls_stream_fed, nothing_handed_over_means_wait_without_a_system_call) {
    fed_pair p;
    char buf[16];
    const auto s = p.client.try_read(buf, sizeof buf);
    EXPECT_EQ(s.next, detail::tls_next::wait_read);
    EXPECT_FALSE(p.client.has_buffered());
    EXPECT_FALSE(p.client.fed_ended());
}

TEST(tls_stream_fed, bytes_handed_over_and_not_read_are_buffered) {
    fed_pair p;
    p.server_write("hello");
    EXPECT_GT(p.receive_once(), 0u);
    EXPECT_TRUE(p.client.has_buffered());  // what an answer's end checks for bytes after it
    std::string got;
    EXPECT_FALSE(p.read(got, 5));
    EXPECT_EQ(got, "hello");
    EXPECT_FALSE(p.client.has_buffered());
}

TEST(tls_stream_fed, the_close_notify_is_eof_a_bare_close_is_truncation_a_reset_an_error) {
    {
        fed_pair p;
        bool done = false;
        spawn(p.ioc, [&]() -> task<> {
            co_await p.server.async_shutdown(use_tuple);
            done = true;
        });
        std::string got;
        const auto ec = p.read(got, 1);
        EXPECT_EQ(ec, net::error::eof) << ec.message();
        run_until(p.ioc, [&] { return done; }, std::chrono::milliseconds(500));
    }
    {
        fed_pair p;
        p.server.next_layer().close();
        std::string got;
        const auto ec = p.read(got, 1);
        EXPECT_EQ(ec, net::ssl::error::stream_truncated) << ec.message();
        EXPECT_TRUE(p.client.fed_ended());
    }
    {
        fed_pair p;
        reset(p.server.next_layer());
        std::string got;
        const auto ec = p.read(got, 1);
        EXPECT_TRUE(ec == net::error::connection_reset || ec == net::ssl::error::stream_truncated) << ec.message();
    }
}

// An idle connection: a session ticket is not news, data is, a close is.
TEST(tls_stream_fed, an_idle_connection_hears_data_and_closes_but_not_tickets) {
    {
        fed_pair p;
        SSL_new_session_ticket(p.server.native_handle());
        bool done = false;
        spawn(p.ioc, [&]() -> task<> {
            co_await p.server.async_handshake(ssl::stream_base::server, use_tuple);  // sends the ticket
            done = true;
        });
        run_until(p.ioc, [&] { return done; });
        p.receive_all();
        EXPECT_FALSE(p.client.peer_spoke_while_idle(false));
        EXPECT_FALSE(p.client.has_buffered());  // the ticket was taken in
    }
    {
        fed_pair p;
        p.server_write("nobody asked");
        p.receive_all();
        EXPECT_TRUE(p.client.peer_spoke_while_idle(false));
    }
    {
        fed_pair p;
        p.server.next_layer().close();
        for (int i = 0; i < 4 && !p.client.fed_ended(); ++i) p.receive_once();  // tickets, then the end
        EXPECT_TRUE(p.client.fed_ended());
        EXPECT_TRUE(p.client.peer_spoke_while_idle(false));
    }
    {
        // Bytes still in the socket (not yet received): only the peek sees them.
        fed_pair p;
        p.server_write("late");
        EXPECT_TRUE(run_until(p.ioc, [&] { return unread(p.client.socket().native_handle()) > 0; }));
        EXPECT_FALSE(p.client.peer_spoke_while_idle(false));
        EXPECT_TRUE(p.client.peer_spoke_while_idle(true));
    }
}

// The driver keeps its receive pending while reads take from the intake: a read that empties
// the intake must leave the place the pending receive writes to where took() will look.
TEST(tls_stream_fed, a_receive_pending_while_a_read_empties_the_intake_keeps_its_place) {
    fed_pair p;
    p.receive_all();  // the handshake's tickets
    std::string got;
    ASSERT_FALSE(p.read(got, 0));
    p.server_write("first");
    EXPECT_GT(p.receive_once(), 0u);
    // The next receive is started while the intake still holds the first record.
    auto [room, size] = p.client.intake();
    error_code ec;
    std::size_t n = 0;
    bool done = false;
    p.client.socket().async_receive(net::buffer(room, size), [&](error_code e, std::size_t k) {
        ec = e;
        n = k;
        done = true;
    });
    EXPECT_FALSE(p.read(got, 5));
    EXPECT_EQ(got, "first");
    EXPECT_FALSE(done);
    p.server_write("second");
    ASSERT_TRUE(run_until(p.ioc, [&] { return done; }));
    ASSERT_FALSE(ec) << ec.message();
    p.client.took(n);
    // What was handed over is the whole record: no more receives (a misplaced hand-over would
    // leave the stream waiting for the rest of a record that never comes).
    got.clear();
    char buf[64];
    for (int i = 0; i < 8 && got.size() < 6; ++i) {
        const auto s = p.client.try_read(buf, sizeof buf);
        if (s.next == detail::tls_next::yield) continue;
        if (s.next != detail::tls_next::done || s.ec) break;
        got.append(buf, s.bytes);
    }
    EXPECT_EQ(got, "second");
}

TEST(tls_stream_fed, the_intake_grows_and_is_reused) {
    fed_pair p;
    auto [room, size] = p.client.intake();
    ASSERT_GE(size, 1024u);
    // Fill it without reading: the next room comes after a move or a growth, never nothing
    // until its ceiling.
    std::size_t handed = 0;
    for (int i = 0; i < 100; ++i) {
        auto [r, n] = p.client.intake();
        if (n == 0) break;
        std::memset(r, 0, n);
        p.client.took(n);
        handed += n;
    }
    EXPECT_GE(handed, 16u * 1024);
    EXPECT_LE(handed, 64u * 1024);
    auto [r, n] = p.client.intake();
    EXPECT_EQ(n, 0u);  // full: reads take from it first
    (void)r;
    (void)room;
}

}  // namespace
}  // namespace catalyst::test::tls
