// The TLS stream's state machine (src/tls) under a hostile network. In one process and one
// io_context: our client stream and our server stream, each on one end of a socket pair,
// with a relay in between whose behaviour the input drives, per direction: where records
// are split (every byte possible), yields, a corrupted byte, injected bytes (a plaintext
// alert, a close_notify alert, garbage), an early close. The server runs a script from the
// input after the handshake: data writes of chosen sizes, TLS 1.3 session tickets and key
// updates, TLS 1.2 renegotiation requests, yields, and an end by close_notify or a bare
// FIN. The client reads everything with a read size and `expect_wait` from the input, and
// answers a close_notify.
//
// Input: byte 0 = options (bit 0: TLS 1.2 instead of 1.3; bit 1: reads with expect_wait;
// bits 2-4: the client's read size); the rest in three equal parts: the server's script,
// the relay client->server, the relay server->client.
//
// Properties beyond "no crash, no sanitizer report":
// - every operation ends: when nothing can run any more the harness closes the relay's
//   sockets, then the streams' (a peer that goes away); a run still unfinished after that,
//   or longer than a fixed number of io_context steps, is a hang;
// - the client never accepts wrong data: what it read is a prefix of what the server wrote;
// - an end by close_notify (eof) means nothing was lost: the client has every byte;
// - the client never renegotiates (it sends one ClientHello at most);
// - when the relay did not tamper (and no renegotiation was asked): both handshakes
//   succeed, nothing stalls, the client reads exactly the bytes the server wrote and ends
//   with eof after a close_notify (both shutdowns succeed) or with stream_truncated after
//   a bare FIN.
//
// CATALYST_TLS_FUZZ_TRACE=1 prints each run's outcome (to see what an input does).
#include "fuzz_common.hpp"
#include "sandbox/certs.hpp"
#include "tls/tls_stream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <sys/socket.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <vector>

namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using boost::system::error_code;
using catalyst::detail::tls_role;
using executor_t = net::io_context::executor_type;
using socket_t = net::basic_stream_socket<tcp, executor_t>;
using stream_t = catalyst::detail::io_context_tls_stream;
template <class T = void>
using task = net::awaitable<T, executor_t>;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable_t<executor_t>{});
constexpr net::use_awaitable_t<executor_t> use_await{};

constexpr std::size_t max_data = 256 * 1024;  // the server writes at most this much
constexpr std::size_t max_steps = 400'000;    // io_context handlers per input: more is a hang

// --- contexts, made once ----------------------------------------------------------------------

struct contexts {
    SSL_CTX* server13 = nullptr;
    SSL_CTX* server12 = nullptr;
    SSL_CTX* client = nullptr;
};

X509* pem_certificate(const std::string& pem) {
    BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    X509* x = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
    BIO_free(b);
    FUZZ_CHECK(x != nullptr);
    return x;
}

SSL_CTX* server_context(const catalyst::sandbox_detail::cert_bundle& certs, int max_version) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    X509* cert = pem_certificate(certs.cert_pem);
    BIO* b = BIO_new_mem_buf(certs.key_pem.data(), static_cast<int>(certs.key_pem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr);
    BIO_free(b);
    FUZZ_CHECK(ctx && key && SSL_CTX_use_certificate(ctx, cert) == 1 && SSL_CTX_use_PrivateKey(ctx, key) == 1);
    X509_free(cert);
    EVP_PKEY_free(key);
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, max_version);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);  // no growth across inputs
    return ctx;
}

const contexts& shared_contexts() {
    static const contexts c = [] {
        const auto certs = catalyst::sandbox_detail::generate_dev_certs();
        contexts r;
        r.server13 = server_context(certs, TLS1_3_VERSION);
        r.server12 = server_context(certs, TLS1_2_VERSION);
        r.client = SSL_CTX_new(TLS_client_method());
        X509* ca = pem_certificate(certs.ca_pem);
        FUZZ_CHECK(r.client && X509_STORE_add_cert(SSL_CTX_get_cert_store(r.client), ca) == 1);
        X509_free(ca);
        SSL_CTX_set_verify(r.client, SSL_VERIFY_PEER, nullptr);
        SSL_CTX_set_min_proto_version(r.client, TLS1_2_VERSION);
        return r;
    }();
    return c;
}

/// What the server writes: position-dependent bytes, so a shifted or altered byte shows.
const std::string& server_bytes() {
    static const std::string s = [] {
        std::string b(max_data, '\0');
        std::uint32_t x = 0x9e3779b9u;
        for (auto& ch : b) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            ch = static_cast<char>(x);
        }
        return b;
    }();
    return s;
}

/// One part of the input, read a byte at a time (0 once exhausted).
class script {
public:
    script(const std::uint8_t* p, std::size_t n) : p_(p), n_(n) {}
    bool empty() const noexcept { return n_ == 0; }
    std::uint8_t next() noexcept {
        if (n_ == 0) return 0;
        --n_;
        return *p_++;
    }

private:
    const std::uint8_t* p_;
    std::size_t n_;
};

task<> yield(int times) {
    for (int i = 0; i < times; ++i) co_await net::post(co_await net::this_coro::executor, use_await);
}

struct run {
    net::io_context ioc;
    socket_t relay_client{ioc.get_executor()};  // the relay's end facing the client
    socket_t relay_server{ioc.get_executor()};  // the relay's end facing the server
    std::optional<stream_t> client, server;

    bool tampered = false;  // the relay altered, injected or dropped something
    std::size_t sent = 0;   // bytes the server's writes reported written
    std::string received;
    error_code c_hs, s_hs, c_end, c_shut, s_write, s_shut;
    bool close_notify = false;  // the server ended with shutdown()
    bool fin = false;           // the server ended with a bare FIN
    bool renegotiation = false;  // the server asked for one (its refusal ends the connection)
    int client_hellos = 0;       // sent by the client
    bool client_done = false, server_done = false;
    int relays = 0;

    task<> client_side(std::size_t read_size, bool expect_wait) {
        c_hs = co_await client->handshake(tls_role::client);
        static std::vector<char> buf(65536);  // reused: a fresh 64 KB per input costs more than a handshake
        while (!c_hs) {
            auto r = co_await client->read_some(buf.data(), read_size, expect_wait);
            received.append(buf.data(), r.bytes);
            FUZZ_CHECK(received.size() <= max_data);
            if (r.ec) {
                c_end = r.ec;
                break;
            }
        }
        if (c_end == net::error::eof) c_shut = co_await client->shutdown();
        client_done = true;
    }

    task<> server_side(script sc) {
        s_hs = co_await server->handshake(tls_role::server);
        SSL* ssl = server->native_handle();
        while (!s_hs) {
            const int op = sc.empty() ? 6 : sc.next() % 8;
            // Tickets asked for are sent with the next write; SSL_shutdown refuses to run
            // before ("shutdown while in init"): a close_notify after tickets writes a byte.
            const bool flush = op == 6 && SSL_in_init(ssl) && sent < max_data;
            if (op <= 2 || flush) {
                static constexpr std::size_t limits[] = {64, 2048, 32768};
                std::size_t n = flush ? 1 : 1 + ((std::size_t{sc.next()} << 8) | sc.next()) % limits[op];
                n = std::min(n, max_data - (flush ? 0 : 1) - sent);  // a byte kept for the flush
                if (n == 0) continue;
                auto r = co_await server->write(server_bytes().data() + sent, n);
                sent += r.bytes;
                FUZZ_CHECK(r.bytes == n || r.ec);
                if ((s_write = r.ec)) break;
                if (!flush) continue;
            }
            if (op == 3) {
                SSL_new_session_ticket(ssl);  // TLS 1.3 only (refused under 1.2)
            } else if (op == 4 && SSL_version(ssl) == TLS1_3_VERSION) {
                SSL_key_update(ssl, (sc.next() & 1) ? SSL_KEY_UPDATE_REQUESTED : SSL_KEY_UPDATE_NOT_REQUESTED);
            } else if (op == 4) {
                // TLS 1.2: a HelloRequest (sent with the next write), which the client refuses.
                SSL_clear_options(ssl, SSL_OP_NO_RENEGOTIATION);
                renegotiation |= SSL_renegotiate(ssl) == 1;
            } else if (op == 5) {
                co_await yield(1 + sc.next() % 16);
            } else if (op == 6) {
                close_notify = true;
                s_shut = co_await server->shutdown();
                break;
            } else {
                fin = true;
                error_code ignored;
                server->socket().shutdown(tcp::socket::shutdown_send, ignored);
                break;
            }
        }
        ERR_clear_error();  // what a refused ticket or key update left
        server_done = true;
    }

    // Forwards from -> to, the input deciding how.
    task<> pump(socket_t& from, socket_t& to, script sc, std::vector<unsigned char>& buf) {
        static constexpr unsigned char fatal_alert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28};
        static constexpr unsigned char close_alert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00};
        bool open = true;
        while (open) {
            auto [ec, n] = co_await from.async_read_some(net::buffer(buf), use_tuple);
            if (ec) break;
            std::size_t i = 0;
            while (open && i < n) {
                std::size_t k = n - i;  // exhausted script: forward the rest
                if (!sc.empty()) {
                    switch (sc.next() % 8) {
                    case 0: k = 1; break;
                    case 1: k = std::min(k, std::size_t{1} + sc.next() % 16); break;
                    case 2: k = std::min(k, std::size_t{1} + sc.next() * 8u); break;
                    case 3: break;
                    case 4: co_await yield(1 + sc.next() % 8); continue;
                    case 5:
                        buf[i] ^= static_cast<unsigned char>(sc.next() | 1);
                        tampered = true;
                        continue;
                    case 6: {
                        tampered = true;
                        unsigned char junk[8];
                        net::const_buffer what;
                        switch (sc.next() % 3) {
                        case 0: what = net::buffer(fatal_alert); break;
                        case 1: what = net::buffer(close_alert); break;
                        default: {
                            const std::size_t len = 1 + sc.next() % sizeof junk;
                            for (std::size_t j = 0; j < len; ++j) junk[j] = sc.next();
                            what = net::buffer(junk, len);
                        }
                        }
                        auto [wec, w] = co_await net::async_write(to, what, use_tuple);
                        open = !wec;
                        continue;
                    }
                    default:
                        tampered = true;  // an early close: the rest is dropped
                        open = false;
                        continue;
                    }
                }
                auto [wec, w] = co_await net::async_write(to, net::buffer(buf.data() + i, k), use_tuple);
                open = !wec;
                i += k;
            }
        }
        error_code ignored;
        to.shutdown(tcp::socket::shutdown_send, ignored);
        --relays;
    }
};

void count_client_hellos(int write_p, int, int content_type, const void* buf, std::size_t len, SSL*, void* arg) {
    if (write_p && content_type == SSL3_RT_HANDSHAKE && len > 0 && *static_cast<const unsigned char*>(buf) == SSL3_MT_CLIENT_HELLO)
        ++*static_cast<int*>(arg);
}

void rethrow(std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
}

// A connected AF_UNIX pair in two TCP socket objects (the stream only waits for readiness
// and hands the descriptor to send/recv): no ports, no TIME_WAIT across millions of runs.
void socket_pair(socket_t& a, socket_t& b) {
    int fds[2];
    FUZZ_CHECK(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    a.assign(tcp::v4(), fds[0]);
    b.assign(tcp::v4(), fds[1]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const contexts& ctx = shared_contexts();
    const std::uint8_t opts = data[0];
    const std::size_t part = (size - 1) / 3;
    script server_script(data + 1, part), to_server(data + 1 + part, part),
        to_client(data + 1 + 2 * part, size - 1 - 2 * part);
    static constexpr std::size_t read_sizes[] = {1, 2, 5, 64, 1000, 4096, 16384, 65536};

    run r;
    {
        socket_t c(r.ioc.get_executor()), s(r.ioc.get_executor());
        socket_pair(c, r.relay_client);
        socket_pair(r.relay_server, s);
        r.client.emplace(std::move(c), ctx.client);
        r.server.emplace(std::move(s), (opts & 1) ? ctx.server12 : ctx.server13);
    }
    SSL_set1_host(r.client->native_handle(), "localhost");
    SSL_set_msg_callback(r.client->native_handle(), &count_client_hellos);
    SSL_set_msg_callback_arg(r.client->native_handle(), &r.client_hellos);
    r.relays = 2;
    static std::vector<unsigned char> to_server_buf(16 * 1024), to_client_buf(16 * 1024);
    net::co_spawn(r.ioc, r.pump(r.relay_client, r.relay_server, to_server, to_server_buf), rethrow);
    net::co_spawn(r.ioc, r.pump(r.relay_server, r.relay_client, to_client, to_client_buf), rethrow);
    net::co_spawn(r.ioc, r.server_side(server_script), rethrow);
    net::co_spawn(r.ioc, r.client_side(read_sizes[(opts >> 2) & 7], (opts & 2) != 0), rethrow);

    // Runs until everything ended. When nothing can run (twice in a row: the reactor has
    // looked), the peers are done or stuck: close the relay (a network that went away),
    // then the streams' sockets; still stuck after that is a hang.
    std::size_t steps = 0;
    int idle = 0, stage = 0;
    bool stalled = false;
    error_code ignored;
    while (!(r.client_done && r.server_done && r.relays == 0)) {
        if (r.ioc.stopped()) r.ioc.restart();
        if (r.ioc.poll_one() != 0) {
            idle = 0;
            FUZZ_CHECK(++steps < max_steps);
            continue;
        }
        if (++idle < 2) continue;
        idle = 0;
        if (r.client_done && r.server_done) {  // only the relay is left: close both ends
            r.client->socket().close(ignored);
            r.server->socket().close(ignored);
            continue;
        }
        stalled = true;
        if (stage == 0) {
            r.relay_client.close(ignored);
            r.relay_server.close(ignored);
        } else if (stage == 1) {
            r.client->socket().close(ignored);
            r.server->socket().close(ignored);
        } else {
            FUZZ_CHECK(stage < 2);  // an operation never ended, even with its socket closed
        }
        ++stage;
    }

    const std::string& bytes = server_bytes();
    if (std::getenv("CATALYST_TLS_FUZZ_TRACE"))
        std::fprintf(stderr, "tampered %d renegotiation %d hellos %d stalled %d stage %d steps %zu sent %zu received %zu c_hs %s s_hs %s c_end %s c_shut %s s_write %s s_shut %s close_notify %d fin %d\n",
                     r.tampered, r.renegotiation, r.client_hellos, stalled, stage, steps, r.sent, r.received.size(), r.c_hs.message().c_str(), r.s_hs.message().c_str(),
                     r.c_end.message().c_str(), r.c_shut.message().c_str(), r.s_write.message().c_str(), r.s_shut.message().c_str(), r.close_notify, r.fin);
    FUZZ_CHECK(r.received.size() <= r.sent);
    FUZZ_CHECK(r.received.compare(0, r.received.size(), bytes, 0, r.received.size()) == 0);
    if (r.c_end == net::error::eof) FUZZ_CHECK(r.received.size() == r.sent);
    FUZZ_CHECK(r.client_hellos <= 1);  // a renegotiation is never accepted
    if (!r.tampered && !r.renegotiation) {
        FUZZ_CHECK(!stalled);
        FUZZ_CHECK(!r.c_hs && !r.s_hs);
        FUZZ_CHECK(!r.s_write);
        FUZZ_CHECK(r.received.size() == r.sent);
        if (r.close_notify) {
            FUZZ_CHECK(r.c_end == net::error::eof);
            FUZZ_CHECK(!r.c_shut && !r.s_shut);
        } else {
            FUZZ_CHECK(r.fin && r.c_end == net::ssl::error::stream_truncated);
        }
    }
    return 0;
}
