// The server of the sandbox: accepts, reads requests (Beast's HTTP parser, fed from the
// connection's buffer), asks the service, applies the faults to the bytes on the wire. Each
// connection is an Asio coroutine over plain TCP or over the project's own TLS stream
// (src/tls/tls_stream.hpp); the only unit of the sandbox with coroutines and sockets.

#include <catalyst/sandbox.hpp>

#include "tls/tls_stream.hpp"
#include "sandbox/certs.hpp"
#include "sandbox/config.hpp"
#include "sandbox/service.hpp"
#include "core/random.hpp"
#include "core/text.hpp"
#include "core/tls_ciphers.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <openssl/ssl.h>

#include <atomic>
#include <filesystem>
#include <cstdio>
#include <mutex>
#include <thread>

namespace catalyst {
namespace sandbox_detail {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using detail::append_uint;
using detail::io_context_tls_stream;
using detail::tls_io_result;
using detail::tls_role;
using detail::uniform01;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

// Connections run on their io_context's own executor type: no any_io_executor on the hot path.
using executor_t = net::io_context::executor_type;
using socket_t = net::basic_stream_socket<tcp, executor_t>;
using tls_stream_t = io_context_tls_stream;
using timer_t = net::basic_waitable_timer<std::chrono::steady_clock, net::wait_traits<std::chrono::steady_clock>, executor_t>;
template <class T = void>
using task = net::awaitable<T, executor_t>;
constexpr auto use_task = net::as_tuple(net::use_awaitable_t<executor_t>{});

// The two streams a connection may be served over, behind one pair of calls.
task<tls_io_result> read_some(socket_t& s, net::mutable_buffer b) {
    auto [ec, n] = co_await s.async_read_some(b, use_task);
    co_return tls_io_result{ec, n};
}
task<tls_io_result> read_some(tls_stream_t& s, net::mutable_buffer b) {
    // Called when the buffered bytes are used up: the next ones are still on their way.
    return s.read_some(static_cast<char*>(b.data()), b.size(), true);
}
task<tls_io_result> write_bytes(socket_t& s, std::string_view bytes) {
    auto [ec, n] = co_await net::async_write(s, net::buffer(bytes.data(), bytes.size()), use_task);
    co_return tls_io_result{ec, n};
}
task<tls_io_result> write_bytes(tls_stream_t& s, std::string_view bytes) { return s.write(bytes.data(), bytes.size()); }

/// One timer per connection enforces every timeout: the steps only move `deadline`, and the
/// timer is re-armed when it wakes up, not on every read and write (a timer operation per
/// step cost more than the rest of the bookkeeping). A deadline that moves earlier than the
/// armed expiry cancels the wait so that it is not overshot.
struct watchdog {
    watchdog(executor_t ex, socket_t& s) : timer(ex), sock(s) {}
    timer_t timer;
    socket_t& sock;
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
    bool fired = false;     ///< a deadline passed and the socket was closed
    bool finished = false;  ///< the connection is over; `sock` must not be touched

    /// The next step must end within `d`.
    void arm(std::chrono::milliseconds d) {
        deadline = std::chrono::steady_clock::now() + d;
        if (deadline < timer.expiry()) timer.cancel();
    }
    /// The next step may take `d`, but an already later deadline stays (writes of an answer
    /// that the client is waiting for, sleeps of the latency fault).
    void extend(std::chrono::milliseconds d) {
        const auto t = std::chrono::steady_clock::now() + d;
        if (t > deadline) deadline = t;
    }
};

task<> run_watchdog(std::shared_ptr<watchdog> w) {
    for (;;) {
        if (w->finished) co_return;
        if (std::chrono::steady_clock::now() >= w->deadline) {
            w->fired = true;
            boost::system::error_code ec;
            w->sock.close(ec);
            co_return;
        }
        w->timer.expires_at(w->deadline);
        co_await w->timer.async_wait(use_task);
    }
}

std::string_view reason(unsigned s) {
    switch (s) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}

/// The whole response in `out`; returns the size of its head (status line + headers).
std::size_t build_response(std::string& out, const api_response& r, bool close, bool head_only, std::uint64_t id,
                           std::string_view body_override = {}, bool override_body = false) {
    const std::string_view body = override_body ? body_override : std::string_view(r.body);
    out.clear();
    out += "HTTP/1.1 ";
    append_uint(out, r.status);
    out += ' ';
    out += reason(r.status);
    out += "\r\nServer: catalyst-sandbox\r\nX-Request-Id: sb-";
    append_uint(out, id);
    out += "\r\n";
    if (!r.content_type.empty() && !body.empty()) {
        out += "Content-Type: ";
        out += override_body ? std::string_view("text/plain") : r.content_type;
        out += "\r\n";
    }
    out += "Content-Length: ";
    append_uint(out, body.size());
    out += "\r\n";
    out += r.headers;
    if (close) out += "Connection: close\r\n";
    out += "\r\n";
    const std::size_t head = out.size();
    if (!head_only) out += body;
    return head;
}

http_method to_method(http::verb v) {
    switch (v) {
    case http::verb::get: return http_method::get;
    case http::verb::post: return http_method::post;
    case http::verb::put: return http_method::put;
    case http::verb::delete_: return http_method::del;
    case http::verb::head: return http_method::head;
    default: return http_method::other;
    }
}

}  // namespace

class sandbox_impl {
public:
    explicit sandbox_impl(sandbox_params p) : params_(normalize(std::move(p))), service_(params_) {}

    ~sandbox_impl() { stop(); }

    void start() {
        std::lock_guard lock(lifecycle_);
        if (started_) throw std::runtime_error("sandbox: start() called twice");
        started_ = true;
        if (!params_.plain_http) setup_tls();
        const unsigned n = std::max(1u, params_.threads);
        for (unsigned i = 0; i < n; ++i) ctxs_.push_back(std::make_unique<net::io_context>(1));
        boost::system::error_code ec;
        const auto addr = net::ip::make_address(params_.listen_address, ec);
        if (ec) throw std::runtime_error("listen address \"" + params_.listen_address + "\": not an IP address");
        const tcp::endpoint ep(addr, params_.port);
        acceptor_.emplace(*ctxs_[0]);
        const std::string where = params_.listen_address + ":" + std::to_string(params_.port);
        acceptor_->open(ep.protocol(), ec);
        if (ec) throw std::runtime_error("socket " + where + ": " + ec.message());
        acceptor_->set_option(tcp::acceptor::reuse_address(true), ec);
        acceptor_->bind(ep, ec);
        if (ec) throw std::runtime_error("bind " + where + ": " + ec.message());
        acceptor_->listen(net::socket_base::max_listen_connections, ec);
        if (ec)
            throw std::runtime_error("listen " + where + ": " + ec.message());
        port_ = acceptor_->local_endpoint().port();
        bound_host_ = acceptor_->local_endpoint().address().to_string();
        if (!is_loopback_address(bound_host_)) {
            // Said by the library, not only the CLI: every embedder binding 0.0.0.0 hears it.
            // The admin token itself is never printed.
            std::fprintf(stderr,
                         "catalyst-sandbox: warning: listening on %s, not a loopback address: anyone who can reach it "
                         "can create sessions with its API keys; the admin endpoints %s\n",
                         bound_address().c_str(),
                         params_.admin_token.empty() ? "are disabled (set admin_token to use them)"
                                                     : "require the admin token");
        }
        // The global rate limit's schedule runs from now (the start, not the construction).
        service_.restart_rate_schedule();
        net::co_spawn(*ctxs_[0], accept_loop(), net::detached);
        for (auto& c : ctxs_) {
            guards_.emplace_back(c->get_executor());
            threads_.emplace_back([ctx = c.get()] {
                for (;;) {
                    try {
                        ctx->run();
                        return;
                    } catch (...) {
                        // a handler threw: keep serving the other connections
                    }
                }
            });
        }
        running_ = true;
    }

    void stop() {
        std::lock_guard lock(lifecycle_);
        if (!running_) return;
        running_ = false;
        for (auto& c : ctxs_) c->stop();
        for (auto& t : threads_) t.join();
        threads_.clear();
        guards_.clear();
        acceptor_.reset();
        // ctx 0 first: its pending accept holds a socket of another context.
        for (auto& c : ctxs_) c.reset();
        ctxs_.clear();
    }

    unsigned short port() const { return port_; }

    std::string bound_address() const {
        std::string host = bound_host_;
        if (host.find(':') != std::string::npos) host = "[" + host + "]";
        return host + ":" + std::to_string(port_);
    }

    std::string base_url() const {
        std::string host = params_.listen_address;
        if (host == "0.0.0.0") host = "127.0.0.1";
        else if (host == "::") host = "::1";
        if (host.find(':') != std::string::npos) host = "[" + host + "]";
        return std::string(params_.plain_http ? "http://" : "https://") + host + ":" + std::to_string(port_) + "/api/v1";
    }

    std::string ca_pem_, ca_file_;
    sandbox_params params_;
    service service_;

private:
    void setup_tls() {
        tls_.emplace(ssl::context::tls_server);
        auto& ctx = *tls_;
        ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                        ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
        SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
        SSL_CTX_set_session_cache_mode(ctx.native_handle(), SSL_SESS_CACHE_SERVER);
        // See sandbox_params::tls13_ciphersuites (checked by normalize).
        detail::set_tls13_suites(ctx.native_handle(), params_.tls13_ciphersuites);
        if (params_.prefer_server_ciphers) SSL_CTX_set_options(ctx.native_handle(), SSL_OP_CIPHER_SERVER_PREFERENCE);
        cert_bundle certs;
        if (!params_.cert_file.empty()) {
            certs.cert_pem = read_file(params_.cert_file, "cert_file");
            certs.key_pem = read_file(params_.key_file, "key_file");
        } else if (!params_.cert_dir.empty()) {
            bool generated = false;
            certs = load_or_generate_dev_certs(params_.cert_dir, generated);
            ca_file_ = (std::filesystem::path(params_.cert_dir) / "ca.crt").string();
        } else {
            certs = generate_dev_certs();
        }
        ca_pem_ = certs.ca_pem;
        boost::system::error_code ec;
        ctx.use_certificate_chain(net::buffer(certs.cert_pem), ec);
        if (ec) throw std::runtime_error("server certificate" + (params_.cert_file.empty() ? std::string() : " " + params_.cert_file) + ": " + ec.message());
        ctx.use_private_key(net::buffer(certs.key_pem), ssl::context::pem, ec);
        if (ec) throw std::runtime_error("server key" + (params_.key_file.empty() ? std::string() : " " + params_.key_file) + ": " + ec.message());
        if (SSL_CTX_check_private_key(ctx.native_handle()) != 1)
            throw std::runtime_error("server key does not match the certificate");
    }

    net::awaitable<void> accept_loop() {
        std::size_t next = 0;
        for (;;) {
            auto& ctx = *ctxs_[next++ % ctxs_.size()];
            auto [ec, sock] = co_await acceptor_->async_accept(ctx, use_tuple);
            if (ec) {
                if (ec == net::error::operation_aborted || !acceptor_->is_open()) co_return;
                // EMFILE and friends: back off instead of spinning.
                net::steady_timer t(co_await net::this_coro::executor, std::chrono::milliseconds(50));
                co_await t.async_wait(use_tuple);
                continue;
            }
            if (active_.load(std::memory_order_relaxed) >= params_.limits.max_connections) {
                service_.stats().connections_rejected.fetch_add(1, std::memory_order_relaxed);
                sock.close(ec);
                continue;
            }
            active_.fetch_add(1, std::memory_order_relaxed);
            service_.stats().connections.fetch_add(1, std::memory_order_relaxed);
            sock.set_option(tcp::no_delay(true), ec);
            net::co_spawn(ctx.get_executor(), run_connection(std::move(sock)), net::detached);
        }
    }

    task<> run_connection(socket_t sock) {
        struct guard {
            std::atomic<std::size_t>& n;
            ~guard() { n.fetch_sub(1, std::memory_order_relaxed); }
        } g{active_};
        // Declared after the stream it watches, so destroyed before it on every path (an
        // exception, or the io_context destroying this frame at stop): from then on the
        // watchdog leaves the socket alone. The normal paths also cancel its wait.
        struct release {
            std::shared_ptr<watchdog> w;
            ~release() {
                if (w) w->finished = true;
            }
        };
        try {
            if (params_.plain_http) {
                auto w = std::make_shared<watchdog>(sock.get_executor(), sock);
                release r{w};
                net::co_spawn(sock.get_executor(), run_watchdog(w), net::detached);
                co_await serve(sock, sock, *w);
                w->finished = true;
                w->timer.cancel();
            } else {
                tls_stream_t ss(std::move(sock), tls_->native_handle());
                auto w = std::make_shared<watchdog>(ss.get_executor(), ss.socket());
                release r{w};
                w->arm(params_.limits.handshake_timeout);
                net::co_spawn(ss.get_executor(), run_watchdog(w), net::detached);
                const auto ec = co_await ss.handshake(tls_role::server);
                if (!ec) {
                    if (co_await serve(ss, ss.socket(), *w)) {
                        // An orderly close gets a close_notify; the peer has a moment to answer it.
                        w->arm(std::chrono::seconds(1));
                        co_await ss.shutdown();
                    }
                } else {
                    service_.stats().malformed.fetch_add(1, std::memory_order_relaxed);
                }
                w->finished = true;
                w->timer.cancel();
            }
        } catch (const std::exception&) {
            // Whatever went wrong (allocation, RNG), the connection ends; the server lives on.
        }
    }

    template <class Stream>
    task<bool> write_all(Stream& s, watchdog& w, std::string_view bytes) {
        w.extend(params_.limits.write_timeout);
        const auto r = co_await write_bytes(s, bytes);
        co_return !r.ec;
    }

    template <class Stream>
    task<> answer_and_close(Stream& s, watchdog& w, unsigned status, std::string_view text, std::string& out) {
        api_response r;
        detail(r, status, text);
        service_.stats().count_status(status);
        build_response(out, r, true, false, 0);
        co_await write_all(s, w, out);
    }

    template <class Stream>
    task<bool> serve(Stream& s, socket_t& sock, watchdog& w) {
        auto& stats = service_.stats();
        const auto& lim = params_.limits;
        beast::flat_buffer buf;
        std::string out;
        out.reserve(1024);
        api_response resp;
        std::optional<http::request_parser<http::string_body>> parser;
        std::shared_ptr<const fault_params> faults;
        std::uint64_t generation = 0;
        bool first = true;
        for (;;) {
            if (const auto g = service_.faults_generation(); g != generation) {
                faults = service_.faults();
                generation = g;
            }
            const bool any_fault = faults->any();
            if (any_fault && faults->close_before_read.enabled() &&
                fires(faults->close_before_read, service_.next_read_index(), uniform01)) {
                stats.count_fault(fault_kind::close_before_read);
                co_return false;
            }
            if (buf.size() == 0) {
                // Waiting for the next request is the keep-alive idle time (or, on a new
                // connection, part of the header time).
                const bool short_idle = !first && faults->idle_timeout.count() > 0;
                w.arm(first ? lim.header_timeout : short_idle ? faults->idle_timeout : lim.idle_timeout);
                auto [ec, n] = co_await read_some(s, buf.prepare(4096));
                if (ec) {
                    if (w.fired && short_idle) stats.count_fault(fault_kind::idle_timeout);
                    else if (w.fired) stats.malformed.fetch_add(1, std::memory_order_relaxed);
                    co_return false;
                }
                buf.commit(n);
            }
            parser.emplace();
            parser->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(lim.max_header_bytes, UINT32_MAX)));
            parser->body_limit(lim.max_body_bytes);
            parser->eager(true);
            // The parser is fed straight from the buffer: a request that arrived whole (the
            // usual case) costs no further I/O operation and no composed-op round trip.
            bool header_seen = false;
            bool timer_set = false;
            for (;;) {
                if (buf.size() > 0) {
                    boost::system::error_code ec;
                    const std::size_t used = parser->put(buf.data(), ec);
                    buf.consume(used);
                    if (ec == http::error::need_more) ec = {};
                    if (ec) {
                        co_await on_read_error(s, w, ec, out);
                        co_return false;
                    }
                    if (parser->is_header_done() && !header_seen) {
                        header_seen = true;
                        auto& h = parser->get();
                        if (!parser->is_done()) {
                            if (auto e = h.find(http::field::expect);
                                e != h.end() && beast::iequals(e->value(), "100-continue")) {
                                if (!co_await write_all(s, w, "HTTP/1.1 100 Continue\r\n\r\n")) co_return false;
                            }
                            w.arm(lim.body_timeout);
                            timer_set = true;
                        }
                    }
                    if (parser->is_done()) break;
                    if (used > 0 && buf.size() > 0) continue;
                }
                if (!timer_set) {
                    w.arm(lim.header_timeout);
                    timer_set = true;
                }
                auto [ec, n] = co_await read_some(s, buf.prepare(16 * 1024));
                if (ec) {
                    co_await on_read_error(s, w, w.fired ? beast::error::timeout : ec, out);
                    co_return false;
                }
                buf.commit(n);
            }
            first = false;
            stats.requests.fetch_add(1, std::memory_order_relaxed);
            auto& req = parser->get();
            api_request ar;
            ar.method = to_method(req.method());
            ar.target = req.target();
            if (auto it = req.find(http::field::authorization); it != req.end()) {
                ar.has_authorization = true;
                ar.authorization = it->value();
            }
            if (auto it = req.find(http::field::content_type); it != req.end()) {
                ar.has_content_type = true;
                ar.content_type = it->value();
            }
            if (auto it = req.find("Idempotency-Key"); it != req.end()) {
                ar.has_idempotency_key = true;
                ar.idempotency_key = it->value();
            }
            ar.body = req.body();
            const bool head_only = ar.method == http_method::head;
            bool keep_alive = req.keep_alive();
            resp.clear();
            const std::uint64_t request_id = stats.requests.load(std::memory_order_relaxed);

            if (ar.target.starts_with("/sandbox/")) {
                service_.handle_admin(ar, resp);
                stats.count_status(resp.status);
                build_response(out, resp, !keep_alive, head_only, request_id);
                if (!co_await write_all(s, w, out)) co_return false;
                if (!keep_alive) co_return true;
                continue;
            }

            fault_plan plan;
            if (any_fault) {
                plan = plan_request_faults(*faults, service_.next_request_index(), uniform01);
                plan.for_each([&](fault_kind k) { stats.count_fault(k); });
            }
            if (plan.delay.count() > 0) {
                w.extend(plan.delay + lim.write_timeout);
                timer_t t(co_await net::this_coro::executor, plan.delay);
                co_await t.async_wait(use_task);
            }
            if (plan.has(fault_kind::close_after_read)) co_return false;
            if (plan.has(fault_kind::throttle)) service_.fault_throttle(*faults, resp);
            else if (plan.has(fault_kind::server_error)) service_.fault_server_error(*faults, resp);
            else service_.handle_api(ar, resp);
            if (plan.has(fault_kind::close_after_create)) co_return false;

            if (plan.has(fault_kind::connection_close)) keep_alive = false;
            stats.count_status(resp.status);
            static constexpr std::string_view garbage = "<html>this is not JSON {\"session_token\": ps_";
            const std::size_t head =
                build_response(out, resp,
                               !keep_alive || plan.has(fault_kind::truncated_body) ||
                                   plan.has(fault_kind::reset_mid_response),
                               head_only, request_id, garbage, plan.has(fault_kind::garbage_body));
            if (plan.has(fault_kind::reset_mid_response)) {
                // Part of the answer, then RST: SO_LINGER 0 makes close() abort the connection.
                co_await write_all(s, w, std::string_view(out).substr(0, std::max<std::size_t>(1, head / 2)));
                boost::system::error_code ec;
                sock.set_option(net::socket_base::linger(true, 0), ec);
                sock.close(ec);
                co_return false;
            }
            if (plan.has(fault_kind::truncated_body)) {
                // The head promises the whole Content-Length; half of the body follows.
                const std::size_t body = out.size() - head;
                co_await write_all(s, w, std::string_view(out).substr(0, head + body / 2));
                co_return false;
            }
            if (plan.has(fault_kind::trickle)) {
                timer_t t(co_await net::this_coro::executor);
                for (std::size_t i = 0; i < out.size(); ++i) {
                    w.extend(faults->trickle_delay + lim.write_timeout);
                    if (!co_await write_all(s, w, std::string_view(out).substr(i, 1))) co_return false;
                    if (i + 1 < out.size() && faults->trickle_delay.count() > 0) {
                        t.expires_after(faults->trickle_delay);
                        co_await t.async_wait(use_task);
                    }
                }
            } else if (!co_await write_all(s, w, out)) {
                co_return false;
            }
            if (!keep_alive) co_return true;
        }
    }

    template <class Stream>
    task<> on_read_error(Stream& s, watchdog& w, boost::system::error_code ec, std::string& out) {
        auto& stats = service_.stats();
        if (ec == http::error::end_of_stream || ec == net::error::eof || ec == net::ssl::error::stream_truncated ||
            ec == net::error::connection_reset)
            co_return;  // the peer went away between or inside requests
        stats.malformed.fetch_add(1, std::memory_order_relaxed);
        if (ec == beast::error::timeout) co_return;
        if (ec == http::error::header_limit) {
            co_await answer_and_close(s, w, 431, "Request header fields too large.", out);
        } else if (ec == http::error::body_limit) {
            co_await answer_and_close(s, w, 413, "Request body too large.", out);
        } else if (ec.category() == http::make_error_code(http::error::bad_method).category()) {
            co_await answer_and_close(s, w, 400, "Malformed HTTP request.", out);
        }
        // TLS and socket errors: nothing sensible can be written.
    }

    std::mutex lifecycle_;
    bool started_ = false;
    bool running_ = false;
    std::optional<ssl::context> tls_;
    std::vector<std::unique_ptr<net::io_context>> ctxs_;
    std::vector<net::executor_work_guard<net::io_context::executor_type>> guards_;
    std::vector<std::thread> threads_;
    std::optional<tcp::acceptor> acceptor_;
    std::atomic<std::size_t> active_{0};
    std::atomic<unsigned short> port_{0};
    std::string bound_host_;
};

}  // namespace sandbox_detail

sandbox::sandbox(sandbox_params p) : impl_(std::make_unique<sandbox_detail::sandbox_impl>(std::move(p))) {}
sandbox::~sandbox() = default;
void sandbox::start() { impl_->start(); }
void sandbox::stop() { impl_->stop(); }
unsigned short sandbox::port() const { return impl_->port(); }
std::string sandbox::base_url() const { return impl_->base_url(); }
std::string sandbox::ca_pem() const { return impl_->ca_pem_; }
std::string sandbox::ca_file() const { return impl_->ca_file_; }
std::string sandbox::bound_address() const { return impl_->bound_address(); }
sandbox_stats sandbox::stats() const { return impl_->service_.stats_snapshot(); }
void sandbox::reset() { impl_->service_.reset(); }
std::vector<ledger_entry> sandbox::ledger() const { return impl_->service_.ledger(); }
void sandbox::set_faults(const fault_params& f) { impl_->service_.set_faults(f); }
fault_params sandbox::faults() const { return *impl_->service_.faults(); }
const sandbox_params& sandbox::params() const noexcept { return impl_->params_; }

}  // namespace catalyst
