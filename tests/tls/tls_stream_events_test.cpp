// The TLS stream meeting what a peer or the application does to a connection: closes
// (close_notify, FIN, reset), records without data in the middle of the stream (session
// tickets, key updates, a flood of tickets), a renegotiation request, fatal alerts, a
// certificate for another name, cancellation (per operation), a closed socket, and writes
// into a dead connection; the one-step handshake, and the errors left in OpenSSL's queue.

#include "tls_test_support.hpp"

#include <boost/asio/ssl/error.hpp>
#include <boost/asio/strand.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/tls1.h>
#include <openssl/x509_vfy.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <optional>
#include <thread>

#include <netinet/tcp.h>
#include <unistd.h>

namespace catalyst::test::tls {
namespace {

using namespace std::chrono_literals;

/// Counts the handshake messages of one type (and the alerts of one description) that an
/// SSL object received, through OpenSSL's message callback.
struct message_counter {
    int handshake_type = -1;
    int alert = -1;
    int handshakes = 0;
    int alerts = 0;

    void attach(SSL* ssl) {
        SSL_set_msg_callback(ssl, &message_counter::callback);
        SSL_set_msg_callback_arg(ssl, this);
    }
    static void callback(int write_p, int, int content_type, const void* buf, std::size_t len, SSL*,
                         void* arg) {
        auto* self = static_cast<message_counter*>(arg);
        const auto* b = static_cast<const unsigned char*>(buf);
        if (write_p != 0) return;
        if (content_type == SSL3_RT_HANDSHAKE && len >= 1 && b[0] == self->handshake_type)
            ++self->handshakes;
        if (content_type == SSL3_RT_ALERT && len >= 2 && b[1] == self->alert) ++self->alerts;
    }
};

bool is_ssl_error(const error_code& ec, int reason) {
    return ec.category() == net::error::get_ssl_category() &&
           ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == reason;
}

/// Our stream on both ends of a TCP pair on 127.0.0.1; the client verifies "localhost".
class tls_events : public ::testing::Test {
  protected:
    net::io_context ioc;
    ssl::context sctx = server_context();
    ssl::context cctx = client_context();
    std::optional<stream_t> c, s;

    void connect(int buffer_size = 0) {
        auto [a, b] = tcp_pair(ioc, buffer_size);
        c.emplace(std::move(a), cctx.native_handle());
        s.emplace(std::move(b), sctx.native_handle());
        SSL_set1_host(c->native_handle(), "localhost");
    }
    /// Both handshakes, bounded. The results: `c_hs`, `s_hs`.
    void handshake_both() {
        int finished = 0;
        spawn(ioc, [&]() -> task<> {
            s_hs = co_await s->handshake(tls_role::server);
            ++finished;
        });
        spawn(ioc, [&]() -> task<> {
            c_hs = co_await c->handshake(tls_role::client);
            ++finished;
        });
        ASSERT_TRUE(run_until(ioc, [&] { return finished == 2; })) << "handshake hangs";
    }
    void connected() {
        connect();
        handshake_both();
        ASSERT_FALSE(c_hs) << c_hs.message();
        ASSERT_FALSE(s_hs) << s_hs.message();
    }
    /// Runs the client's and the server's coroutines to their end, bounded.
    template <class ClientTask, class ServerTask>
    void run_both(ClientTask client, ServerTask server, std::chrono::milliseconds limit = 20s) {
        int finished = 0;
        spawn(ioc, [&]() -> task<> {
            co_await server();
            ++finished;
        });
        spawn(ioc, [&]() -> task<> {
            co_await client();
            ++finished;
        });
        EXPECT_TRUE(run_until(
            ioc, [&] { return finished == 2; }, limit))
            << "hang: " << finished << " of 2 ended";
    }
    /// The server sends `tickets` session tickets, then "data"; once they are all in the
    /// client's socket, the client reads 4 bytes into `got` while a zero-delay timer on the
    /// same io_context calls `on_tick(n)` at every turn it gets (n = 1, 2, ...) during the
    /// read. Returns the read's error; the server's write error goes to `write_ec`.
    error_code read_through_tickets(int tickets, std::string& got,
                                    const std::function<void(int)>& on_tick, error_code& write_ec) {
        connect(400 * 1024);  // the whole flood fits in the client's socket buffer
        handshake_both();
        EXPECT_FALSE(c_hs || s_hs);
        error_code read_ec;
        bool reading = false, written = false;
        run_both(
            [&]() -> task<> {
                // Once the server has written everything and the client's end acknowledged it,
                // every ticket is in the client's socket.
                const bool tickets_in_socket = co_await wait_until(
                    [&] { return written && unacknowledged(s->socket().native_handle()) == 0; });
                EXPECT_TRUE(tickets_in_socket) << "the tickets never reached the client's socket";
                reading = true;
                spawn(ioc, [&]() -> task<> {
                    timer_t t(ioc.get_executor());
                    for (int n = 1; reading; ++n) {
                        t.expires_after(0s);
                        co_await t.async_wait(use_tuple);
                        if (reading) on_tick(n);
                    }
                });
                read_ec = co_await read_n(*c, got, 4);
                reading = false;
            },
            [&]() -> task<> {
                for (int i = 0; i < tickets; ++i) SSL_new_session_ticket(s->native_handle());
                write_ec = (co_await s->write("data", 4)).ec;
                written = true;
            });
        return read_ec;
    }

    error_code c_hs, s_hs;
};

// --- closes --------------------------------------------------------------------------------

TEST_F(tls_events, server_close_notify_is_eof_and_both_shutdowns_complete) {
    connected();
    std::string got;
    error_code read_ec, eof_ec, c_shut, s_shut = net::error::would_block;
    run_both(
        [&]() -> task<> {
            read_ec = co_await read_n(*c, got, 3);
            char b[16];
            eof_ec = (co_await c->read_some(b, sizeof b)).ec;
            c_shut = co_await c->shutdown();
        },
        [&]() -> task<> {
            co_await s->write("bye", 3);
            s_shut = co_await s->shutdown();
        });
    EXPECT_FALSE(read_ec) << read_ec.message();
    EXPECT_EQ(got, "bye");
    EXPECT_EQ(eof_ec, net::error::eof) << eof_ec.message();
    EXPECT_FALSE(c_shut) << c_shut.message();
    EXPECT_FALSE(s_shut) << s_shut.message();
    EXPECT_EQ(SSL_get_shutdown(c->native_handle()), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    EXPECT_EQ(SSL_get_shutdown(s->native_handle()), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
}

TEST_F(tls_events, client_shutdown_waits_for_the_servers_close_notify) {
    connected();
    error_code eof_ec, c_shut = net::error::would_block, s_shut = net::error::would_block;
    bool server_answered = false, client_was_waiting = false;
    run_both([&]() -> task<> { c_shut = co_await c->shutdown(); },
             [&]() -> task<> {
                 char b[16];
                 eof_ec = (co_await s->read_some(b, sizeof b)).ec;
                 // A late answer, on purpose: for 50 ms the client's shutdown has nothing to
                 // complete with, and must wait rather than end.
                 co_await sleep_for(50ms);
                 client_was_waiting = c_shut == net::error::would_block;
                 server_answered = true;
                 s_shut = co_await s->shutdown();
             });
    EXPECT_EQ(eof_ec, net::error::eof) << eof_ec.message();
    EXPECT_TRUE(server_answered);
    EXPECT_TRUE(client_was_waiting)
        << "the client's shutdown ended before the server's close_notify: " << c_shut.message();
    EXPECT_FALSE(c_shut) << c_shut.message();
    EXPECT_FALSE(s_shut) << s_shut.message();
    EXPECT_EQ(SSL_get_shutdown(c->native_handle()), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    EXPECT_EQ(SSL_get_shutdown(s->native_handle()), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
}

// The server's last data and its close_notify arrive together: the read takes both into
// OpenSSL's buffer (read-ahead) and returns the data. The client's shutdown() then has the
// peer's close_notify already and must complete without anything more arriving on the
// socket (the server keeps the TCP connection open).
TEST_F(tls_events, shutdown_completes_when_the_peers_close_notify_is_already_buffered) {
    connected();
    std::string got;
    error_code read_ec, c_shut = net::error::would_block, s_shut = net::error::would_block;
    run_both(
        [&]() -> task<> {
            // The server has sent its close_notify (behind the data) and the client's end
            // acknowledged both records: they are in the client's socket.
            const bool records_in_socket = co_await wait_until([&] {
                return (SSL_get_shutdown(s->native_handle()) & SSL_SENT_SHUTDOWN) != 0 &&
                       unacknowledged(s->socket().native_handle()) == 0;
            });
            EXPECT_TRUE(records_in_socket)
                << "the server's records never reached the client's socket";
            read_ec = co_await read_n(*c, got, 4);
            c_shut = co_await c->shutdown();
        },
        [&]() -> task<> {
            co_await s->write("data", 4);
            s_shut = co_await s->shutdown();
        },
        5s);
    EXPECT_FALSE(read_ec) << read_ec.message();
    EXPECT_EQ(got, "data");
    EXPECT_FALSE(c_shut) << c_shut.message();
    EXPECT_FALSE(s_shut) << s_shut.message();
}

TEST_F(tls_events, tcp_close_without_close_notify_is_stream_truncated) {
    connected();
    std::string got;
    error_code read_ec, end_ec;
    run_both(
        [&]() -> task<> {
            read_ec = co_await read_n(*c, got, 4);
            char b[16];
            end_ec = (co_await c->read_some(b, sizeof b)).ec;
        },
        [&]() -> task<> {
            co_await s->write("data", 4);
            s->socket().shutdown(tcp::socket::shutdown_send);  // a FIN, no close_notify
            co_return;
        });
    EXPECT_FALSE(read_ec) << read_ec.message();
    EXPECT_EQ(got, "data");
    EXPECT_EQ(end_ec, ssl::error::stream_truncated) << end_ec.message();
}

TEST_F(tls_events, reset_is_an_error) {
    connected();
    std::string got;
    error_code end_ec;
    run_both([&]() -> task<> { end_ec = co_await read_n(*c, got, 1); },
             [&]() -> task<> {
                 // A pause so that the reset usually finds the client's read waiting; one that
                 // came first would end the read the same way (recv reports the reset).
                 co_await sleep_for(20ms);
                 reset(s->socket());
             });
    EXPECT_EQ(end_ec, net::error::connection_reset) << end_ec.message();
    EXPECT_TRUE(got.empty());
}

// --- records without data in the middle of the stream --------------------------------------

std::atomic<int> tickets_received{0};
int count_ticket(SSL*, SSL_SESSION*) {
    ++tickets_received;
    return 0;  // not kept
}

TEST_F(tls_events, tls13_session_ticket_between_data_records) {
    SSL_CTX_set_session_cache_mode(cctx.native_handle(),
                                   SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(cctx.native_handle(), &count_ticket);
    tickets_received = 0;
    connected();
    std::string got;
    error_code read_ec, write_ec;
    run_both([&]() -> task<> { read_ec = co_await read_n(*c, got, 6); },
             [&]() -> task<> {
                 co_await s->write("one", 3);
                 // The ticket comes once the client has read "one" and waits for more.
                 const bool one_was_read = co_await wait_until([&] { return got.size() >= 3; });
                 EXPECT_TRUE(one_was_read) << "the client never read \"one\"";
                 EXPECT_EQ(SSL_new_session_ticket(s->native_handle()), 1);
                 write_ec = (co_await s->write("two", 3)).ec;
             });
    EXPECT_FALSE(read_ec) << read_ec.message();
    EXPECT_FALSE(write_ec) << write_ec.message();
    EXPECT_EQ(got, "onetwo");
    EXPECT_EQ(tickets_received, 3);  // two after the handshake (OpenSSL's default), one mid-stream
}

TEST_F(tls_events, tls13_key_update_requested_by_the_server_is_answered) {
    connect();
    message_counter at_client{SSL3_MT_KEY_UPDATE}, at_server{SSL3_MT_KEY_UPDATE};
    at_client.attach(c->native_handle());
    at_server.attach(s->native_handle());
    handshake_both();
    ASSERT_FALSE(c_hs || s_hs);
    std::string got, reply;
    error_code c_read, c_write, s_read;
    run_both(
        [&]() -> task<> {
            if (!(c_read = co_await read_n(*c, got, 6))) c_write = (co_await c->write("ack", 3)).ec;
        },
        [&]() -> task<> {
            co_await s->write("one", 3);
            EXPECT_EQ(SSL_key_update(s->native_handle(), SSL_KEY_UPDATE_REQUESTED), 1);
            co_await s->write("two", 3);
            s_read = co_await read_n(*s, reply, 3);
        });
    EXPECT_FALSE(c_read || c_write || s_read)
        << c_read.message() << c_write.message() << s_read.message();
    EXPECT_EQ(got, "onetwo");
    EXPECT_EQ(reply, "ack");
    EXPECT_EQ(at_client.handshakes, 1) << "the client did not see the key update";
    EXPECT_EQ(at_server.handshakes, 1) << "the client did not answer the requested key update";
}

// A flood of records without data must not keep the reading coroutine busy: the stream
// yields between them, so a timer on the same io_context fires many times during the read.
TEST_F(tls_events, session_ticket_flood_does_not_monopolise_the_thread) {
    constexpr int tickets = 1000;
    std::string got;
    error_code write_ec;
    int ticks = 0;
    const error_code read_ec = read_through_tickets(
        tickets, got, [&](int n) { ticks = n; }, write_ec);
    EXPECT_FALSE(read_ec || write_ec) << read_ec.message() << write_ec.message();
    EXPECT_EQ(got, "data");
    // OpenSSL without auto-retry returns from SSL_read after a record without data only when
    // its read-ahead buffer is empty: the stream yields once per buffer (~17 KB, some 60
    // tickets of ~250 bytes), about 15 times here. A read that went through all the tickets
    // in the socket without yielding (auto-retry on) lets the timer run once at most.
    EXPECT_GE(ticks, 5) << "the read of " << tickets << " tickets yielded to a timer only " << ticks
                        << " times";
}

// cancel() lands while the read yields between records without data: no socket operation is
// pending then, so a cancel of the socket alone would be lost and the read would go on (here
// to the data; with a silent peer, without end). The stream's cancel() ends it.
TEST_F(tls_events, cancel_during_a_yield_between_tickets_ends_the_read) {
    std::string got;
    error_code write_ec;
    const error_code read_ec = read_through_tickets(
        1000, got,
        [&](int n) {
            if (n == 3) c->cancel();
        },
        write_ec);
    EXPECT_EQ(read_ec, net::error::operation_aborted)
        << read_ec.message() << ", read \"" << got << "\"";
    EXPECT_TRUE(got.empty());
}

// --- renegotiation, alerts, verification ---------------------------------------------------

// A TLS 1.2 server asks for a renegotiation (HelloRequest) and then writes data. Our client
// refuses with a no_renegotiation warning alert and reads the data; OpenSSL's server
// treats the refusal as fatal (handshake_failure), which the client's next read reports.
TEST(tls_stream_renegotiation, server_hello_request_is_refused_with_no_renegotiation_alert) {
    net::io_context ioc;
    auto sctx = server_context(TLS1_2_VERSION);
    auto cctx = client_context();
    auto [a, b] = tcp_pair(ioc);
    stream_t c(std::move(a), cctx.native_handle());
    asio_stream_t s(std::move(b), sctx);
    message_counter at_server{SSL3_MT_CLIENT_HELLO, SSL_AD_NO_RENEGOTIATION};
    at_server.attach(s.native_handle());
    std::string got, at_s;
    error_code c_hs, s_hs, c_read, c_after, s_write, s_read;
    int finished = 0;
    spawn(ioc, [&]() -> task<> {
        if (!(s_hs = co_await handshake(s, tls_role::server))) {
            EXPECT_EQ(SSL_renegotiate(s.native_handle()), 1);
            s_write = co_await write_all(s, "after hello request");
            s_read = co_await read_n(s, at_s, 1);
        }
        ++finished;
    });
    spawn(ioc, [&]() -> task<> {
        if (!(c_hs = co_await handshake(c, tls_role::client)) &&
            !(c_read = co_await read_n(c, got, 19))) {
            char buf[16];
            c_after = (co_await c.read_some(buf, sizeof buf)).ec;
        }
        ++finished;
    });
    ASSERT_TRUE(run_until(ioc, [&] { return finished == 2; })) << "hang";
    ASSERT_FALSE(c_hs || s_hs) << c_hs.message() << s_hs.message();
    EXPECT_FALSE(s_write) << s_write.message();
    EXPECT_FALSE(c_read) << c_read.message();
    EXPECT_EQ(got, "after hello request");
    EXPECT_EQ(at_server.handshakes, 1) << "ClientHellos received: the client renegotiated";
    EXPECT_EQ(at_server.alerts, 1) << "no no_renegotiation alert from the client";
    EXPECT_TRUE(is_ssl_error(s_read, SSL_R_NO_RENEGOTIATION)) << s_read.message();
    EXPECT_TRUE(is_ssl_error(c_after, SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE)) << c_after.message();
}

TEST(tls_stream_alerts, fatal_alert_in_the_handshake_is_an_ssl_error) {
    net::io_context ioc;
    auto cctx = client_context();
    auto [a, server_end] = tcp_pair(ioc);
    auto& b = server_end;  // a lambda may not capture a structured binding before clang 16
    stream_t c(std::move(a), cctx.native_handle());
    error_code c_hs;
    int finished = 0;
    spawn(ioc, [&]() -> task<> {  // a raw server: reads the ClientHello, answers with an alert
        char buf[4096];
        co_await b.async_read_some(net::buffer(buf), use_tuple);
        static constexpr char alert[] = {0x15, 0x03, 0x03, 0x00,
                                         0x02, 0x02, 0x28};  // fatal handshake_failure
        co_await net::async_write(b, net::buffer(alert, sizeof alert), use_tuple);
        ++finished;
    });
    spawn(ioc, [&]() -> task<> {
        c_hs = co_await c.handshake(tls_role::client);
        ++finished;
    });
    ASSERT_TRUE(run_until(ioc, [&] { return finished == 2; })) << "hang";
    EXPECT_TRUE(is_ssl_error(c_hs, SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE)) << c_hs.message();
}

// TLS 1.3: the client's handshake ends before the server checks the client's certificate;
// the server's certificate_required alert reaches the client's first read.
TEST_F(tls_events, fatal_alert_after_the_handshake_is_an_ssl_error) {
    SSL_CTX_set_verify(sctx.native_handle(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       nullptr);
    connect();
    handshake_both();
    EXPECT_FALSE(c_hs) << c_hs.message();
    EXPECT_TRUE(s_hs) << "the server accepted a client without a certificate";
    std::string got;
    error_code read_ec;
    run_both([&]() -> task<> { read_ec = co_await read_n(*c, got, 1); },
             []() -> task<> { co_return; });
    EXPECT_TRUE(is_ssl_error(read_ec, SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED))
        << read_ec.message();
}

TEST_F(tls_events, certificate_for_another_name_fails_the_handshake) {
    connect();
    SSL_set1_host(c->native_handle(), "wrong.example");
    handshake_both();
    EXPECT_TRUE(is_ssl_error(c_hs, SSL_R_CERTIFICATE_VERIFY_FAILED)) << c_hs.message();
    EXPECT_EQ(SSL_get_verify_result(c->native_handle()), X509_V_ERR_HOSTNAME_MISMATCH);
    EXPECT_TRUE(s_hs) << "the server finished a handshake the client refused";
}

// --- cancellation, a closed socket, a dead peer --------------------------------------------

TEST_F(tls_events, cancel_ends_a_read_waiting_on_a_silent_peer) {
    connected();
    error_code read_ec;
    auto started = std::chrono::steady_clock::now();
    std::chrono::steady_clock::duration took{};
    run_both(
        [&]() -> task<> {
            char b[16];
            read_ec = (co_await c->read_some(b, sizeof b)).ec;
            took = std::chrono::steady_clock::now() - started;
        },
        [&]() -> task<> {
            // The peer stays silent for 50 ms, on purpose: the read must wait all that time
            // and end only at the cancel.
            co_await sleep_for(50ms);
            c->socket().cancel();
        });
    EXPECT_EQ(read_ec, net::error::operation_aborted) << read_ec.message();
    EXPECT_GE(took, 40ms) << "the read did not wait";
}

// A closed socket: the waiting read ends, later reads and writes fail at once, and the
// descriptor number, since reused by another connection with bytes waiting, is not read.
TEST_F(tls_events, closed_socket_fails_at_once_and_its_reused_descriptor_is_not_touched) {
    connected();
    const int old_fd = c->socket().native_handle();
    error_code waiting_ec, later_read, later_write;
    std::size_t later_bytes = 1;
    std::optional<std::pair<socket_t, socket_t>> other;
    std::size_t unread_before = 0, unread_after = 0;
    bool reused = false, reading = false;
    run_both(
        [&]() -> task<> {
            char b[16];
            reading = true;
            waiting_ec = (co_await c->read_some(b, sizeof b)).ec;
            // Another connection takes the free descriptor number, with bytes waiting on it.
            other.emplace(tcp_pair(ioc));
            other->second.write_some(net::buffer("not yours", 9));
            reused = ::dup2(other->first.native_handle(), old_fd) == old_fd;
            const bool bytes_arrived = co_await wait_until([&] { return unread(old_fd) >= 9; });
            EXPECT_TRUE(bytes_arrived) << "the bytes never arrived";
            unread_before = unread(old_fd);
            auto r = co_await c->read_some(b, sizeof b);
            later_read = r.ec;
            later_bytes = r.bytes;
            later_write = (co_await c->write("x", 1)).ec;
            unread_after = unread(old_fd);
        },
        [&]() -> task<> {
            // The close must find the read waiting on the socket: it has started, and taken
            // everything there was (the tickets sent after the handshake); one more turn of the
            // loop lets a read that yielded between records go back to waiting.
            const bool read_waits = co_await wait_until([&] {
                return reading && unread(old_fd) == 0 && SSL_has_pending(c->native_handle()) == 0;
            });
            EXPECT_TRUE(read_waits) << "the read never started waiting";
            co_await net::post(co_await net::this_coro::executor, use_await);
            c->socket().close();
        },
        5s);
    if (reused) ::close(old_fd);
    EXPECT_EQ(waiting_ec, net::error::operation_aborted) << waiting_ec.message();
    EXPECT_TRUE(later_read) << "a read on a closed socket succeeded";
    EXPECT_EQ(later_bytes, 0u);
    EXPECT_TRUE(later_write) << "a write on a closed socket succeeded";
    ASSERT_TRUE(reused);
    EXPECT_EQ(unread_before, 9u);
    EXPECT_EQ(unread_after, 9u) << "the closed stream read another connection's bytes";
}

TEST_F(tls_events, write_to_a_dead_peer_is_an_error_without_sigpipe) {
    struct sigaction current {};
    ASSERT_EQ(::sigaction(SIGPIPE, nullptr, &current), 0);
    // With SIGPIPE's default disposition a send() without MSG_NOSIGNAL kills this process.
    ASSERT_EQ(current.sa_handler, SIG_DFL) << "SIGPIPE is ignored here: the test could not fail";
    connected();
    const std::string chunk = pattern(64 * 1024, 3);
    error_code first_ec, again_ec;
    int writes = 0;
    run_both(
        [&]() -> task<> {
            // The server has gone: its reset has reached the client's end.
            const bool reset_arrived = co_await wait_until(
                [&] { return tcp_state(c->socket().native_handle()) == TCP_CLOSE; });
            EXPECT_TRUE(reset_arrived) << "the reset never arrived";
            while (!first_ec && writes < 200) {
                first_ec = (co_await c->write(chunk.data(), chunk.size())).ec;
                ++writes;
                if (!first_ec)
                    co_await sleep_for(2ms);  // a write the socket took: try again, bounded
            }
            again_ec = (co_await c->write(chunk.data(), chunk.size())).ec;  // EPIPE now
        },
        [&]() -> task<> {
            reset(s->socket());
            co_return;
        });
    EXPECT_TRUE(first_ec) << "writes into a reset connection kept succeeding";
    EXPECT_TRUE(again_ec) << "a write after the error succeeded";
    EXPECT_EQ(again_ec.category(), boost::system::system_category()) << again_ec.message();
}

TEST_F(tls_events, release_buffers_while_idle_then_more_exchanges) {
    connected();
    for (int round = 0; round < 3; ++round) {
        std::string at_s, at_c;
        const std::string ask = pattern(40'000, round), answer = pattern(30'000, round + 10);
        error_code c_ec, s_ec;
        run_both(
            [&]() -> task<> {
                if (!(c_ec = co_await write_all(*c, ask)))
                    c_ec = co_await read_n(*c, at_c, answer.size());
            },
            [&]() -> task<> {
                if (!(s_ec = co_await read_n(*s, at_s, ask.size())))
                    s_ec = co_await write_all(*s, answer);
            });
        ASSERT_FALSE(c_ec || s_ec) << "round " << round << ": " << c_ec.message() << s_ec.message();
        EXPECT_TRUE(at_s == ask && at_c == answer) << "round " << round;
        EXPECT_FALSE(c->has_buffered());
        c->release_buffers();
        s->release_buffers();
    }
}

}  // namespace
}  // namespace catalyst::test::tls

namespace catalyst::test::tls {
namespace {

// Two records arrive together; the first read returns the first (read-ahead holds the second
// in OpenSSL's buffer, which the socket will not signal again). release_buffers() must keep
// it, has_buffered() must say so, and a read with expect_wait must take it without waiting
// for the socket (which stays silent: a wait would be a hang).
TEST_F(tls_events, a_record_held_by_openssl_survives_release_buffers_and_expect_wait) {
    connected();
    const std::string first(100, 'A'), second(100, 'B');
    std::string got_first;
    error_code first_ec, second_ec;
    bool buffered = false;
    std::string got_second;
    bool written = false;
    run_both(
        [&]() -> task<> {
            // Both records written and acknowledged by the client's end: in its socket.
            const bool records_in_socket = co_await wait_until(
                [&] { return written && unacknowledged(s->socket().native_handle()) == 0; });
            EXPECT_TRUE(records_in_socket) << "the records never reached the client's socket";
            if ((first_ec = co_await read_n(*c, got_first, first.size()))) co_return;
            buffered = c->has_buffered();
            c->release_buffers();
            char b[256];
            auto r = co_await c->read_some(b, sizeof b, true);
            second_ec = r.ec;
            got_second.assign(b, r.bytes);
        },
        [&]() -> task<> {
            co_await s->write(first.data(), first.size());
            co_await s->write(second.data(), second.size());
            written = true;
        },
        5s);
    EXPECT_FALSE(first_ec || second_ec) << first_ec.message() << second_ec.message();
    EXPECT_EQ(got_first, first);
    EXPECT_TRUE(buffered) << "has_buffered() missed the record OpenSSL holds";
    EXPECT_EQ(got_second, second);
}

}  // namespace
}  // namespace catalyst::test::tls

// --- per-operation cancellation, the one-step handshake, errors left behind ----------------

namespace catalyst::test::tls {
namespace {

// A cancel() that lands while the completion of the read's readiness wait is already queued
// (on a strand, behind the handler that cancels, as the client's watchdog does on its
// shard's strand) cannot stop that wait any more: the read resumes with "readable". It must
// still end with operation_aborted at that point, not process the records that arrived, yield
// between them (where a stream that cleared the request per yield forgot it) and read on.
TEST(tls_stream_cancel, a_cancel_after_the_readiness_wait_completed_still_ends_the_read) {
    net::io_context ioc;
    auto sctx = server_context();
    auto cctx = client_context();
    auto [a, b] = tcp_pair(ioc);
    const auto strand = net::any_io_executor(net::make_strand(ioc));
    detail::tls_stream::socket_type client_socket(strand);
    client_socket.assign(tcp::v4(), a.release());
    detail::tls_stream c(std::move(client_socket), cctx.native_handle());
    stream_t s(std::move(b), sctx.native_handle());
    SSL_set1_host(c.native_handle(), "localhost");

    error_code c_hs, s_hs;
    int finished = 0;
    net::co_spawn(
        strand,
        [&]() -> net::awaitable<void> {
            c_hs = co_await c.handshake(tls_role::client);
            ++finished;
        },
        rethrow);
    spawn(ioc, [&]() -> task<> {
        s_hs = co_await s.handshake(tls_role::server);
        ++finished;
    });
    ASSERT_TRUE(run_until(ioc, [&] { return finished == 2; })) << "handshake hangs";
    ASSERT_FALSE(c_hs || s_hs) << c_hs.message() << s_hs.message();

    // The read takes the tickets sent after the handshake, then waits for the socket.
    std::optional<detail::tls_io_result> got;
    char buf[16];
    net::co_spawn(
        strand, [&]() -> net::awaitable<void> { got = co_await c.read_some(buf, sizeof buf); },
        rethrow);
    ioc.restart();  // it ran out of work after the handshakes
    for (int i = 0; i < 1000 && ioc.poll() != 0; ++i) {
    }
    ASSERT_FALSE(got) << "the read ended before anything was sent: " << got->ec.message();

    // Three records without data arrive (a handler of ours runs after the reactor has seen
    // them and before the read's completion runs: it asks the strand to cancel, and the
    // completion queues on the strand behind that).
    SSL* ss = s.native_handle();
    for (int i = 0; i < 3; ++i) ASSERT_EQ(SSL_new_session_ticket(ss), 1);
    ASSERT_EQ(SSL_do_handshake(ss), 1);
    const int fd = c.socket().native_handle();
    for (int i = 0; i < 2000 && unread(fd) == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ASSERT_GT(unread(fd), 0u);
    bool cancelled = false;
    net::post(ioc, [&] {
        net::post(strand, [&] {
            c.cancel();
            cancelled = true;
        });
    });
    for (int i = 0; i < 1000 && ioc.poll() != 0; ++i) {
    }
    ASSERT_TRUE(cancelled);
    if (!got) {
        // A read that went on waits for data: send some, so that it ends either way.
        std::size_t n = 0;
        ASSERT_EQ(SSL_write_ex(ss, "data", 4, &n), 1);
        ASSERT_TRUE(run_until(
            ioc, [&] { return got.has_value(); }, std::chrono::seconds(5)))
            << "the read hangs";
    }
    EXPECT_EQ(got->ec, net::error::operation_aborted)
        << got->ec.message() << ", read \"" << std::string(buf, got->bytes) << "\"";
    EXPECT_EQ(got->bytes, 0u);
}

// A cancel() from before an operation does not end it (like Asio's cancel()): each
// operation starts with the request cleared.
TEST_F(tls_events, a_cancel_before_an_operation_does_not_end_it) {
    connected();
    c->cancel();
    std::string got;
    error_code read_ec, write_ec;
    run_both([&]() -> task<> { read_ec = co_await read_n(*c, got, 4); },
             [&]() -> task<> { write_ec = (co_await s->write("data", 4)).ec; });
    EXPECT_FALSE(read_ec || write_ec) << read_ec.message() << write_ec.message();
    EXPECT_EQ(got, "data");
}

/// A client handshake one step at a time, waiting as each step says (as a connection driver
/// without coroutines does), at most 100 steps. `on_step(n, step)` sees each step.
task<error_code> handshake_by_steps(
    stream_t& c, const std::function<void(int, const detail::tls_step&)>& on_step) {
    for (int n = 1; n <= 100; ++n) {
        const detail::tls_step st = c.try_handshake(tls_role::client);
        on_step(n, st);
        if (st.next == detail::tls_next::done) co_return st.ec;
        if (st.next == detail::tls_next::yield)
            co_await net::post(co_await net::this_coro::executor, use_await);
        else
            co_await c.socket().async_wait(
                st.next == detail::tls_next::wait_read ? socket_t::wait_read : socket_t::wait_write,
                use_tuple);
    }
    co_return net::error::timed_out;
}

// The handshake one step at a time; the awaitable handshake() is the same loop.
TEST_F(tls_events, try_handshake_steps_to_a_working_connection) {
    connect();
    int steps = 0;
    detail::tls_next first = detail::tls_next::done;
    bool non_blocking = false;
    error_code c_ec = net::error::would_block, s_ec = net::error::would_block;
    run_both(
        [&]() -> task<> {
            c_ec = co_await handshake_by_steps(*c, [&](int n, const detail::tls_step& st) {
                steps = n;
                if (n == 1) {
                    first = st.next;
                    non_blocking = c->socket().non_blocking();
                }
            });
        },
        [&]() -> task<> { s_ec = co_await s->handshake(tls_role::server); });
    EXPECT_FALSE(c_ec) << c_ec.message();
    EXPECT_FALSE(s_ec) << s_ec.message();
    EXPECT_EQ(first, detail::tls_next::wait_read)
        << "the first step sends the ClientHello and waits for the answer";
    EXPECT_TRUE(non_blocking);
    EXPECT_GE(steps, 2);
    // Finished: another step changes nothing.
    const auto again = c->try_handshake(tls_role::client);
    EXPECT_EQ(again.next, detail::tls_next::done);
    EXPECT_FALSE(again.ec) << again.ec.message();
    std::string got;
    error_code read_ec, write_ec;
    run_both([&]() -> task<> { write_ec = (co_await c->write("ping", 4)).ec; },
             [&]() -> task<> { read_ec = co_await read_n(*s, got, 4); });
    EXPECT_FALSE(read_ec || write_ec) << read_ec.message() << write_ec.message();
    EXPECT_EQ(got, "ping");
}

// A first step by hand, the rest awaited: the role set by the first step stays.
TEST_F(tls_events, handshake_continues_what_try_handshake_began) {
    connect();
    error_code c_ec = net::error::would_block, s_ec = net::error::would_block;
    const auto first = c->try_handshake(tls_role::client);
    ASSERT_EQ(first.next, detail::tls_next::wait_read) << first.ec.message();
    run_both([&]() -> task<> { c_ec = co_await c->handshake(tls_role::client); },
             [&]() -> task<> { s_ec = co_await s->handshake(tls_role::server); });
    EXPECT_FALSE(c_ec) << c_ec.message();
    EXPECT_FALSE(s_ec) << s_ec.message();
}

TEST_F(tls_events, try_handshake_reports_a_refused_certificate) {
    connect();
    SSL_set1_host(c->native_handle(), "wrong.example");
    error_code c_ec;
    run_both(
        [&]() -> task<> {
            c_ec = co_await handshake_by_steps(*c, [](int, const detail::tls_step&) {});
        },
        [&]() -> task<> { co_await s->handshake(tls_role::server); });
    EXPECT_TRUE(is_ssl_error(c_ec, SSL_R_CERTIFICATE_VERIFY_FAILED)) << c_ec.message();
    EXPECT_EQ(SSL_get_verify_result(c->native_handle()), X509_V_ERR_HOSTNAME_MISMATCH);
    EXPECT_EQ(ERR_peek_error(), 0u);
}

// A shutdown before or during a handshake makes OpenSSL queue an error on this thread; the
// next OpenSSL user here would take it for its own.
TEST(tls_stream_errors, quiet_shutdown_before_a_handshake_leaves_no_error_behind) {
    net::io_context ioc;
    auto cctx = client_context();
    auto [a, b] = tcp_pair(ioc);
    stream_t c(std::move(a), cctx.native_handle());
    ERR_clear_error();
    c.quiet_shutdown();
    EXPECT_EQ(ERR_peek_error(), 0u) << ERR_reason_error_string(ERR_peek_error());
}

TEST_F(tls_events, quiet_shutdown_during_a_handshake_leaves_no_error_behind) {
    connect();
    const auto first = c->try_handshake(tls_role::client);  // the ClientHello is out
    ASSERT_EQ(first.next, detail::tls_next::wait_read);
    ERR_clear_error();
    c->quiet_shutdown();
    EXPECT_EQ(ERR_peek_error(), 0u) << ERR_reason_error_string(ERR_peek_error());
}

// OpenSSL's unexpected EOF is a reason code of its SSL library; other libraries have their own
// reason codes, and one of them may have the same number.
TEST(tls_stream_errors, unexpected_eof_is_recognised_only_from_the_ssl_library) {
    using detail::ssl_failure_code;
    const unsigned long eof = ERR_PACK(ERR_LIB_SSL, 0, SSL_R_UNEXPECTED_EOF_WHILE_READING);
    EXPECT_EQ(ssl_failure_code(eof, false, 0), ssl::error::stream_truncated);
    for (const int lib : {ERR_LIB_X509, ERR_LIB_EVP, ERR_LIB_PROV}) {
        const unsigned long other = ERR_PACK(lib, 0, SSL_R_UNEXPECTED_EOF_WHILE_READING);
        const error_code ec = ssl_failure_code(other, false, 0);
        EXPECT_NE(ec, ssl::error::stream_truncated) << "library " << lib;
        EXPECT_EQ(ec.category(), net::error::get_ssl_category());
        EXPECT_EQ(static_cast<unsigned long>(ec.value()), other);
    }
    // An empty queue: the socket's error, else the end of the stream.
    EXPECT_EQ(ssl_failure_code(0, true, 0), ssl::error::stream_truncated);
    EXPECT_EQ(ssl_failure_code(0, false, ECONNRESET),
              error_code(ECONNRESET, boost::system::system_category()));
    EXPECT_EQ(ssl_failure_code(0, false, 0), ssl::error::stream_truncated);
    const unsigned long verify = ERR_PACK(ERR_LIB_SSL, 0, SSL_R_CERTIFICATE_VERIFY_FAILED);
    EXPECT_TRUE(is_ssl_error(ssl_failure_code(verify, true, 0), SSL_R_CERTIFICATE_VERIFY_FAILED));
}

}  // namespace
}  // namespace catalyst::test::tls
