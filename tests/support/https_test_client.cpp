#include "support/https_test_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <optional>

namespace catalyst::test {

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using boost::system::error_code;

std::string http_reply::header(std::string_view name) const {
    for (const auto& [k, v] : headers)
        if (boost::beast::iequals(k, name)) return v;
    return {};
}

bool http_reply::has_header(std::string_view name) const {
    for (const auto& kv : headers)
        if (boost::beast::iequals(kv.first, name)) return true;
    return false;
}

struct https_test_client::impl {
    test_client_options opt;
    net::io_context ioc;
    std::optional<ssl::context> tls_ctx;
    std::optional<ssl::stream<tcp::socket>> tls;
    std::optional<tcp::socket> plain;
    boost::beast::flat_buffer rbuf;

    tcp::socket& socket() { return tls ? tls->next_layer() : *plain; }

    // Runs one started operation to completion or timeout; cancels it on timeout.
    template <class Start>
    error_code run(std::size_t& n, Start&& start) {
        bool done = false;
        error_code result;
        start([&](error_code ec, std::size_t bytes) {
            done = true;
            result = ec;
            n = bytes;
        });
        ioc.restart();
        ioc.run_for(opt.timeout);
        if (!done) {
            error_code ignored;
            socket().cancel(ignored);
            socket().close(ignored);
            ioc.restart();
            ioc.run();
            return make_error_code(boost::system::errc::timed_out);
        }
        return result;
    }

    error_code read_some() {
        std::size_t n = 0;
        auto buf = rbuf.prepare(16 * 1024);
        error_code ec = run(n, [&](auto h) {
            if (tls) tls->async_read_some(buf, std::move(h));
            else plain->async_read_some(buf, std::move(h));
        });
        if (!ec) rbuf.commit(n);
        return ec;
    }
};

https_test_client::https_test_client(test_client_options o) : impl_(std::make_unique<impl>()) { impl_->opt = std::move(o); }
https_test_client::~https_test_client() = default;

void https_test_client::set_timeout(std::chrono::milliseconds t) { impl_->opt.timeout = t; }

std::string https_test_client::tls_version() const {
    return impl_->tls ? std::string(SSL_get_version(impl_->tls->native_handle())) : std::string();
}

bool https_test_client::is_open() const { return (impl_->tls || impl_->plain) && impl_->socket().is_open(); }

void https_test_client::close() {
    if (impl_->tls || impl_->plain) {
        error_code ignored;
        impl_->socket().close(ignored);
    }
    impl_->tls.reset();
    impl_->plain.reset();
    impl_->rbuf.clear();
}

error_code https_test_client::connect() {
    close();
    auto& m = *impl_;
    error_code ec;
    const auto addr = net::ip::make_address(m.opt.host, ec);
    if (ec) return ec;
    const tcp::endpoint ep(addr, m.opt.port);
    if (m.opt.tls) {
        if (!m.tls_ctx) {
            m.tls_ctx.emplace(ssl::context::tls_client);
            m.tls_ctx->set_verify_mode(ssl::verify_peer);
            if (m.opt.max_tls_version) SSL_CTX_set_max_proto_version(m.tls_ctx->native_handle(), m.opt.max_tls_version);
            if (m.opt.min_tls_version) SSL_CTX_set_min_proto_version(m.tls_ctx->native_handle(), m.opt.min_tls_version);
            if (!m.opt.ca_pem.empty()) m.tls_ctx->add_certificate_authority(net::buffer(m.opt.ca_pem), ec);
            if (ec) return ec;
        }
        m.tls.emplace(m.ioc, *m.tls_ctx);
        m.tls->set_verify_callback(ssl::host_name_verification(m.opt.verify_name));
        error_code addr_ec;
        net::ip::make_address(m.opt.verify_name, addr_ec);
        if (addr_ec) SSL_set_tlsext_host_name(m.tls->native_handle(), m.opt.verify_name.c_str());
    } else {
        m.plain.emplace(m.ioc);
    }
    std::size_t n = 0;
    ec = m.run(n, [&](auto h) { m.socket().async_connect(ep, [h = std::move(h)](error_code e) mutable { h(e, 0); }); });
    if (ec) {
        close();
        return ec;
    }
    if (m.tls) {
        ec = m.run(n, [&](auto h) {
            m.tls->async_handshake(ssl::stream_base::client, [h = std::move(h)](error_code e) mutable { h(e, 0); });
        });
        if (ec) {
            close();
            return ec;
        }
    }
    return {};
}

error_code https_test_client::write(std::string_view bytes) {
    if (!is_open()) {
        if (auto ec = connect()) return ec;
    }
    auto& m = *impl_;
    std::size_t n = 0;
    return m.run(n, [&](auto h) {
        if (m.tls) net::async_write(*m.tls, net::buffer(bytes.data(), bytes.size()), std::move(h));
        else net::async_write(*m.plain, net::buffer(bytes.data(), bytes.size()), std::move(h));
    });
}

error_code https_test_client::write_below_tls(std::string_view bytes) {
    if (!is_open()) return net::error::not_connected;
    auto& m = *impl_;
    std::size_t n = 0;
    return m.run(n, [&](auto h) { net::async_write(m.socket(), net::buffer(bytes.data(), bytes.size()), std::move(h)); });
}

error_code https_test_client::read_reply(http_reply& out) {
    out = http_reply{};
    if (!is_open()) return net::error::not_connected;
    auto& m = *impl_;
    http::response_parser<http::string_body> p;
    p.eager(true);
    p.body_limit(64 * 1024 * 1024);
    error_code ec;
    for (;;) {
        if (m.rbuf.size() > 0) {
            const std::size_t used = p.put(m.rbuf.data(), ec);
            m.rbuf.consume(used);
            if (ec == http::error::need_more) ec = {};
            if (ec) return ec;
            if (p.is_done()) break;
            if (used > 0 && m.rbuf.size() > 0) continue;
        }
        ec = m.read_some();
        if (ec) {
            if ((ec == net::error::eof || ec == ssl::error::stream_truncated) && p.got_some()) {
                error_code eof_ec;
                p.put_eof(eof_ec);
                if (eof_ec) return eof_ec;
                if (!p.is_done()) return ec;
                break;
            }
            return ec;
        }
    }
    auto& res = p.get();
    out.status = res.result_int();
    out.body = std::move(res.body());
    for (const auto& f : res) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    out.keep_alive = res.keep_alive();
    return {};
}

error_code https_test_client::request(std::string_view method, std::string_view target, const header_list& headers,
                                      std::string_view body, http_reply& out) {
    std::string req;
    req.reserve(256 + body.size());
    req.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ").append(impl_->opt.verify_name);
    req += "\r\n";
    for (const auto& [k, v] : headers) req.append(k).append(": ").append(v).append("\r\n");
    if (!body.empty() || method == "POST" || method == "PUT") req.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
    req += "\r\n";
    req.append(body);
    if (auto ec = write(req)) return ec;
    return read_reply(out);
}

error_code https_test_client::read_until_close(std::string& raw) {
    raw.clear();
    if (!is_open()) return net::error::not_connected;
    auto& m = *impl_;
    for (;;) {
        const auto d = m.rbuf.data();
        raw.append(static_cast<const char*>(d.data()), d.size());
        m.rbuf.consume(d.size());
        if (auto ec = m.read_some()) {
            const auto rest = m.rbuf.data();
            raw.append(static_cast<const char*>(rest.data()), rest.size());
            m.rbuf.consume(rest.size());
            return ec;
        }
    }
}

std::string example_create_body(std::string_view email, std::string_view campaign_id) {
    std::string b = R"({"campaign_id":")";
    b += campaign_id;
    b += R"(","customer_ip":"203.0.113.50","lead":{"first_name":"Max","last_name":"Mustermann","email":")";
    b += email;
    b += R"(","country":"DE"}})";
    return b;
}

header_list create_headers(std::string_view api_key, std::string_view idempotency_key) {
    header_list h{{"Authorization", "Bearer " + std::string(api_key)}, {"Content-Type", "application/json"}};
    if (!idempotency_key.empty()) h.emplace_back("Idempotency-Key", std::string(idempotency_key));
    return h;
}

bool is_closed_by_peer(const error_code& ec) {
    return ec == net::error::eof || ec == ssl::error::stream_truncated || ec == net::error::connection_reset ||
           ec == net::error::broken_pipe || ec == http::error::partial_message || ec == http::error::end_of_stream;
}

}  // namespace catalyst::test
