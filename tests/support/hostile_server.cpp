#include "support/hostile_server.hpp"
#include "support/socket_state.hpp"

#include "sandbox/certs.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <list>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>

namespace catalyst::test {

namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using boost::system::error_code;
using namespace std::chrono_literals;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
constexpr std::size_t max_request_bytes = 1024 * 1024;

std::string_view reason_phrase(unsigned status) {
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 400: return "Bad Request";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Status";
    }
}

// The value of header `name` in a request head ("" when absent).
std::string header_value(std::string_view head, std::string_view name) {
    std::size_t pos = head.find("\r\n");
    while (pos != std::string_view::npos && pos + 2 < head.size()) {
        const std::size_t start = pos + 2;
        const std::size_t end = std::min(head.find("\r\n", start), head.size());
        const std::string_view line = head.substr(start, end - start);
        const std::size_t colon = line.find(':');
        if (colon != std::string_view::npos && boost::beast::iequals(line.substr(0, colon), name)) {
            std::string_view v = line.substr(colon + 1);
            while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
            while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
            return std::string(v);
        }
        pos = end;
    }
    return {};
}

struct response_parts {
    std::string head;
    std::string body;
};

}  // namespace

struct hostile_server::impl {
    struct conn {
        ssl::stream<tcp::socket> stream;
        net::steady_timer timer;
        std::size_t index;
        conn(tcp::socket s, ssl::context& ctx, std::size_t i)
            : stream(std::move(s), ctx), timer(stream.get_executor()), index(i) {}
        void close() {
            error_code ignored;
            timer.cancel();
            stream.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
            stream.next_layer().close(ignored);
        }
    };

    // Counts an open connection for as long as its coroutine lives.
    struct open_count {
        std::atomic<std::size_t>& n;
        explicit open_count(std::atomic<std::size_t>& c) : n(c) { ++n; }
        ~open_count() { --n; }
    };

    explicit impl(hostile_options o) : opt(std::move(o)), on_request(opt.on_request) {
        certs = sandbox_detail::generate_dev_certs();
        tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3);
        tls.use_certificate_chain(net::buffer(certs.cert_pem));
        tls.use_private_key(net::buffer(certs.key_pem), ssl::context::pem);
        if (!opt.handshake_tickets) SSL_CTX_set_num_tickets(tls.native_handle(), 0);
        const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), 0);
        acceptor.open(ep.protocol());
        acceptor.set_option(tcp::acceptor::reuse_address(true));
        acceptor.bind(ep);
        acceptor.listen(net::socket_base::max_listen_connections);
        port = acceptor.local_endpoint().port();
        net::co_spawn(ioc, accept_loop(), net::detached);
        for (unsigned i = 0; i < std::max(1u, opt.threads); ++i) threads.emplace_back([this] { ioc.run(); });
    }

    net::awaitable<void> accept_loop() {
        for (std::size_t index = 0;; ++index) {
            auto [ec, sock] = co_await acceptor.async_accept(net::any_io_executor(net::make_strand(ioc)), use_tuple);
            if (ec) {
                if (!acceptor.is_open() || stopping) co_return;
                --index;
                continue;
            }
            ++accepted;
            auto c = std::make_shared<conn>(std::move(sock), tls, index);
            {
                std::lock_guard lock(mu);
                conns.remove_if([](const std::weak_ptr<conn>& w) { return w.expired(); });
                conns.push_back(c);
            }
            net::co_spawn(c->stream.get_executor(), serve(c), net::detached);
        }
    }

    // Reads and throws away whatever comes until the peer (or stop()) closes: a stall that
    // notices when the client gives up.
    net::awaitable<void> drain(std::shared_ptr<conn> c, bool below_tls) {
        char scratch[4096];
        for (;;) {
            auto [ec, n] = below_tls ? co_await c->stream.next_layer().async_read_some(net::buffer(scratch), use_tuple)
                                     : co_await c->stream.async_read_some(net::buffer(scratch), use_tuple);
            (void)n;
            if (ec) co_return;
        }
    }

    // Reads one request into `buf` (which may already hold bytes); false when the connection
    // ended first. On success `head_end` and `total` delimit it in `buf`.
    net::awaitable<bool> read_request(std::shared_ptr<conn> c, std::string& buf, std::size_t& head_end,
                                      std::size_t& total) {
        char scratch[16 * 1024];
        head_end = total = 0;
        for (;;) {
            if (head_end == 0) {
                if (auto p = buf.find("\r\n\r\n"); p != std::string::npos) {
                    head_end = p + 4;
                    const std::string cl = header_value(std::string_view(buf).substr(0, head_end), "Content-Length");
                    std::size_t len = 0;
                    if (!cl.empty()) len = static_cast<std::size_t>(std::strtoull(cl.c_str(), nullptr, 10));
                    total = head_end + len;
                }
            }
            if (head_end != 0 && buf.size() >= total) co_return true;
            if (buf.size() > max_request_bytes) co_return false;
            const bool idle = buf.empty() && opt.idle_close.count() > 0;
            if (idle) {
                c->timer.expires_after(opt.idle_close);
                c->timer.async_wait([c](const error_code& ec) {
                    if (!ec) c->close();  // a FIN, as a server's keep-alive timeout
                });
            }
            auto [ec, n] = co_await c->stream.async_read_some(net::buffer(scratch), use_tuple);
            if (idle) c->timer.cancel();
            if (ec) co_return false;
            buf.append(scratch, n);
        }
    }

    response_parts make_response(const hostile_reply& r, std::size_t seq) const {
        response_parts out;
        unsigned status = 201;
        if (r.action == hostile_action::status) {
            status = r.status;
            out.body = "{\"detail\":\"hostile server says " + std::to_string(status) + "\",\"code\":\"hostile_" +
                       std::to_string(status) + "\"}";
        } else {
            char token[40];
            std::snprintf(token, sizeof token, "ps_%032zx", seq + 1);
            out.body = std::string("{\"session_token\":\"") + token +
                       "\",\"status\":\"PENDING\",\"payment_url\":\"https://pay.example.test/s/" + token + "\"}";
        }
        out.head = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason_phrase(status)) +
                   "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(out.body.size()) + "\r\n";
        if (!r.retry_after.empty()) out.head += "Retry-After: " + r.retry_after + "\r\n";
        if (!opt.keep_alive_header.empty()) out.head += "Keep-Alive: " + opt.keep_alive_header + "\r\n";
        out.head += "\r\n";
        return out;
    }

    // The answer with a padding header that makes it exactly `size` bytes.
    static std::string pad_to(const response_parts& r, std::size_t size) {
        const std::string plain = r.head + r.body;
        const std::string pad_name = "X-Pad: ";
        const std::size_t fixed = plain.size() + pad_name.size() + 2;
        const std::string pad = "X-Pad: " + std::string(size > fixed ? size - fixed : 0, 'p') + "\r\n";
        // Before the blank line that ends the head.
        std::string head = r.head.substr(0, r.head.size() - 2) + pad + "\r\n";
        return head + r.body;
    }

    // A well-formed 201 that answers nothing the client asked.
    static std::string unsolicited_answer(std::size_t seq) {
        char token[48];
        std::snprintf(token, sizeof token, "ps_unsolicited_%020zx", seq + 1);
        const std::string body = std::string("{\"session_token\":\"") + token +
                                 "\",\"status\":\"PENDING\",\"payment_url\":\"https://pay.example.test/s/" + token + "\"}";
        return "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\n\r\n" + body;
    }

    // One byte of an endless head: a status line, then header lines forever.
    static char trickle_byte(std::size_t i) {
        static const std::string status_line = "HTTP/1.1 201 Created\r\n";
        static const std::string line = "X-Trickle: " + std::string(48, 'a') + "\r\n";
        return i < status_line.size() ? status_line[i] : line[(i - status_line.size()) % line.size()];
    }

    net::awaitable<void> serve(std::shared_ptr<conn> c) {
        open_count counted(open);
        const hostile_action at_connect = opt.on_connect ? opt.on_connect(c->index) : hostile_action::answer;
        if (at_connect == hostile_action::stall_handshake) {
            co_await drain(c, true);  // the ClientHello is never answered
            co_return;
        }
        if (at_connect == hostile_action::alert_handshake) {
            char hello[4096];
            auto [rec, n] = co_await c->stream.next_layer().async_read_some(net::buffer(hello), use_tuple);
            (void)n;
            if (!rec) {
                // A TLS record by hand: alert, TLS 1.2 record version, length 2, fatal, internal_error.
                static constexpr unsigned char alert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x50};
                co_await net::async_write(c->stream.next_layer(), net::buffer(alert), use_tuple);
            }
            c->close();
            co_return;
        }
        auto [hec] = co_await c->stream.async_handshake(ssl::stream_base::server, use_tuple);
        if (hec) co_return;
        std::string buf;
        for (std::size_t on_conn = 0;; ++on_conn) {
            std::size_t head_end = 0, total = 0;
            if (!co_await read_request(c, buf, head_end, total)) co_return;
            hostile_request r;
            r.read_at = std::chrono::steady_clock::now();
            r.idempotency_key = header_value(std::string_view(buf).substr(0, head_end), "Idempotency-Key");
            if (opt.keep_ledger) r.head.assign(buf, 0, head_end);
            r.connection = c->index;
            r.index_on_connection = on_conn;
            buf.erase(0, total);
            std::function<hostile_reply(const hostile_request&)> fn;
            {
                std::lock_guard lock(mu);
                r.seq = seq++;
                if (opt.keep_ledger) ledger.push_back(r);
                fn = on_request;
            }
            ++requests;
            const hostile_reply reply = fn ? fn(r) : hostile_reply{};
            const response_parts resp = make_response(reply, r.seq);
            const std::string half_body = resp.body.substr(0, resp.body.size() / 2);
            switch (reply.action) {
            case hostile_action::answer:
            case hostile_action::status: {
                const std::string all = resp.head + resp.body;
                auto [wec, n] = co_await net::async_write(c->stream, net::buffer(all), use_tuple);
                (void)n;
                if (wec) co_return;
                if (opt.ticket_after_answer.count() > 0) {
                    c->timer.expires_after(opt.ticket_after_answer);
                    co_await c->timer.async_wait(use_tuple);
                    // OpenSSL sends a requested ticket on the next handshake call.
                    SSL_new_session_ticket(c->stream.native_handle());
                    auto [hec] = co_await c->stream.async_handshake(net::ssl::stream_base::server, use_tuple);
                    if (hec) co_return;
                }
                continue;
            }
            case hostile_action::answer_then_extra:
            case hostile_action::answer_then_extra_record:
            case hostile_action::answer_then_late_extra: {
                std::string mine = resp.head + resp.body;
                const std::string extra = unsolicited_answer(r.seq);
                if (reply.action == hostile_action::answer_then_late_extra) {
                    auto [wec, n] = co_await net::async_write(c->stream, net::buffer(mine), use_tuple);
                    (void)n;
                    if (wec) co_return;
                    c->timer.expires_after(opt.extra_delay);
                    auto [tec] = co_await c->timer.async_wait(use_tuple);
                    if (tec) co_return;
                    auto [xec, xn] = co_await net::async_write(c->stream, net::buffer(extra), use_tuple);
                    (void)xn;
                    if (xec) co_return;
                    // Counted once it is in the client's socket, not just written: on a loaded
                    // machine loopback delivery can lag a returned send by milliseconds. The send
                    // queue empties when the peer has acknowledged the bytes (at most 2 s here).
                    for (int i = 0; i < 2000 && unacknowledged(c->stream.next_layer().native_handle()) > 0; ++i) {
                        c->timer.expires_after(std::chrono::milliseconds(1));
                        co_await c->timer.async_wait(use_tuple);
                    }
                } else {
                    constexpr std::size_t record = 512;
                    SSL* ssl = c->stream.native_handle();
                    if (reply.action == hostile_action::answer_then_extra_record) {
                        mine = pad_to(resp, record);
                        SSL_set_max_send_fragment(ssl, record);
                        // Both records in one flush: Asio's partial-write mode would send each
                        // record as it is made.
                        SSL_clear_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE);
                    }
                    const std::string both = mine + extra;
                    auto [wec, n] = co_await net::async_write(c->stream, net::buffer(both), use_tuple);
                    (void)n;
                    SSL_set_max_send_fragment(ssl, SSL3_RT_MAX_PLAIN_LENGTH);
                    SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE);
                    if (wec) co_return;
                }
                ++extras;
                continue;
            }
            case hostile_action::stall_handshake:  // only meaningful at accept; here: never answer
            case hostile_action::alert_handshake:
            case hostile_action::stall_after_request:
                co_await drain(c, false);
                co_return;
            case hostile_action::stall_partial_head:
            case hostile_action::stall_in_body: {
                const std::string part = reply.action == hostile_action::stall_in_body
                                             ? resp.head + half_body
                                             : resp.head.substr(0, resp.head.find("Content-Type: ") + 20);
                auto [wec, n] = co_await net::async_write(c->stream, net::buffer(part), use_tuple);
                (void)n;
                if (!wec) co_await drain(c, false);
                co_return;
            }
            case hostile_action::trickle:
                for (std::size_t i = 0;; ++i) {
                    const char ch = trickle_byte(i);
                    auto [wec, n] = co_await net::async_write(c->stream, net::buffer(&ch, 1), use_tuple);
                    (void)n;
                    if (wec) co_return;
                    c->timer.expires_after(opt.trickle_interval);
                    auto [tec] = co_await c->timer.async_wait(use_tuple);
                    if (tec) co_return;
                }
            case hostile_action::reset_after_request: {
                error_code ignored;
                c->stream.next_layer().set_option(net::socket_base::linger(true, 0), ignored);
                c->stream.next_layer().close(ignored);
                co_return;
            }
            case hostile_action::eof_mid_body: {
                const std::string part = resp.head + half_body;
                auto [wec, n] = co_await net::async_write(c->stream, net::buffer(part), use_tuple);
                (void)n;
                (void)wec;
                c->close();
                co_return;
            }
            }
        }
    }

    void stop() {
        if (stopping.exchange(true)) return;
        std::promise<void> closed;
        auto done = closed.get_future();
        net::post(ioc, [this, &closed] {
            error_code ignored;
            acceptor.close(ignored);
            std::lock_guard lock(mu);
            for (auto& w : conns)
                if (auto c = w.lock()) net::post(c->stream.get_executor(), [c] { c->close(); });
            closed.set_value();
        });
        done.wait_for(2s);
        // Closed sockets end their coroutines at once; give them a moment, then stop anyway.
        const auto limit = std::chrono::steady_clock::now() + 2s;
        while (open.load() > 0 && std::chrono::steady_clock::now() < limit) std::this_thread::sleep_for(5ms);
        ioc.stop();
        for (auto& t : threads) t.join();
        threads.clear();
    }

    hostile_options opt;
    sandbox_detail::cert_bundle certs;
    ssl::context tls{ssl::context::tls_server};
    unsigned short port = 0;
    mutable std::mutex mu;
    std::vector<hostile_request> ledger;
    std::size_t seq = 0;
    std::function<hostile_reply(const hostile_request&)> on_request;
    std::list<std::weak_ptr<conn>> conns;
    std::atomic<std::size_t> requests{0}, accepted{0}, open{0}, extras{0};
    std::atomic<bool> stopping{false};
    // Declared after what its pending coroutines touch: destroyed (with them) first.
    net::io_context ioc;
    tcp::acceptor acceptor{ioc};
    std::vector<std::thread> threads;
};

hostile_server::hostile_server(hostile_options o) : impl_(std::make_shared<impl>(std::move(o))) {}

hostile_server::~hostile_server() { stop(); }

void hostile_server::stop() { impl_->stop(); }

unsigned short hostile_server::port() const noexcept { return impl_->port; }

std::string hostile_server::base_url() const { return "https://127.0.0.1:" + std::to_string(impl_->port) + "/api/v1"; }

const std::string& hostile_server::ca_pem() const noexcept { return impl_->certs.ca_pem; }

void hostile_server::set_on_request(std::function<hostile_reply(const hostile_request&)> fn) {
    std::lock_guard lock(impl_->mu);
    impl_->on_request = std::move(fn);
}

std::vector<hostile_request> hostile_server::ledger() const {
    std::lock_guard lock(impl_->mu);
    return impl_->ledger;
}

std::size_t hostile_server::requests() const noexcept { return impl_->requests.load(); }
std::size_t hostile_server::connections_accepted() const noexcept { return impl_->accepted.load(); }
std::size_t hostile_server::connections_open() const noexcept { return impl_->open.load(); }
std::size_t hostile_server::extras_sent() const noexcept { return impl_->extras.load(); }

}  // namespace catalyst::test
