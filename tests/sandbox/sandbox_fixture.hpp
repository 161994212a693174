#ifndef CATALYST_TESTS_SANDBOX_FIXTURE_HPP
#define CATALYST_TESTS_SANDBOX_FIXTURE_HPP

#include "sandbox/config.hpp"
#include "sandbox/service.hpp"
#include "support/https_test_client.hpp"

#include <catalyst/sandbox.hpp>

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

namespace catalyst::test {

inline constexpr std::string_view allow_campaign = "a1b2c3d4-e5f6-7890-abcd-ef1234567890";
inline constexpr std::string_view reject_campaign = "11111111-1111-4111-8111-111111111111";
inline constexpr std::string_view reuse_campaign = "22222222-2222-4222-8222-222222222222";
inline constexpr std::string_view create_path = "/api/v1/payment-sessions/";

inline boost::json::value json(const http_reply& r) {
    boost::system::error_code ec;
    auto v = boost::json::parse(r.body, ec);
    EXPECT_FALSE(ec) << "not JSON: " << r.body;
    return v;
}

/// The session token of a create answer, "" when it has none.
inline std::string token_of(const http_reply& r) {
    const auto v = json(r);
    if (!v.is_object() || !v.as_object().contains("session_token")) return {};
    return std::string(v.at("session_token").as_string());
}

/// A steady clock that moves only when the test advances it (`sandbox_params::clock`).
/// Copies share the time; thread-safe.
class fake_clock {
  public:
    using time_point = std::chrono::steady_clock::time_point;
    time_point now() const {
        return time_point{} + std::chrono::hours(1) + std::chrono::nanoseconds(ns_->load());
    }
    void advance(std::chrono::nanoseconds d) { ns_->fetch_add(d.count()); }
    std::function<time_point()> source() const {
        return [ns = ns_] {
            return time_point{} + std::chrono::hours(1) + std::chrono::nanoseconds(ns->load());
        };
    }

  private:
    std::shared_ptr<std::atomic<std::int64_t>> ns_ = std::make_shared<std::atomic<std::int64_t>>(0);
};

/// The sandbox's service without sockets, on a fake clock: the requests of a test are handed
/// to it as the server would (admin paths to handle_admin, the rest to handle_api) and come
/// back as an http_reply.
class service_test : public ::testing::Test {
  protected:
    void start(sandbox_params p = {}) {
        if (!p.clock) p.clock = clock_.source();
        svc_ = std::make_unique<sandbox_detail::service>(sandbox_detail::normalize(std::move(p)));
    }

    http_reply request(std::string_view method, std::string_view target, const header_list& headers,
                       std::string_view body) {
        using sandbox_detail::http_method;
        sandbox_detail::api_request r;
        r.method = method == "GET"      ? http_method::get
                   : method == "POST"   ? http_method::post
                   : method == "PUT"    ? http_method::put
                   : method == "DELETE" ? http_method::del
                   : method == "HEAD"   ? http_method::head
                                        : http_method::other;
        r.target = target;
        for (const auto& [name, value] : headers) {
            if (name == "Authorization") {
                r.has_authorization = true;
                r.authorization = value;
            } else if (name == "Content-Type") {
                r.has_content_type = true;
                r.content_type = value;
            } else if (name == "Idempotency-Key") {
                r.has_idempotency_key = true;
                r.idempotency_key = value;
            }
        }
        r.body = body;
        sandbox_detail::api_response out;
        if (target.starts_with("/sandbox/"))
            svc_->handle_admin(r, out);
        else
            svc_->handle_api(r, out);
        http_reply reply;
        reply.status = out.status;
        reply.body = out.body;
        if (!out.content_type.empty() && !out.body.empty())
            reply.headers.emplace_back("Content-Type", std::string(out.content_type));
        std::string_view h = out.headers;
        while (!h.empty()) {
            const auto eol = h.find("\r\n");
            const auto line = h.substr(0, eol);
            const auto colon = line.find(':');
            reply.headers.emplace_back(std::string(line.substr(0, colon)),
                                       std::string(line.substr(colon + 2)));
            h.remove_prefix(eol == std::string_view::npos ? h.size() : eol + 2);
        }
        return reply;
    }

    http_reply post(const std::string& body, const header_list& headers = create_headers()) {
        return request("POST", create_path, headers, body);
    }

    sandbox_stats stats() { return svc_->stats_snapshot(); }
    std::vector<ledger_entry> ledger() { return svc_->ledger(); }

    fake_clock clock_;
    std::unique_ptr<sandbox_detail::service> svc_;
};

/// Starts an in-process sandbox on port 0 and hands out verified HTTPS clients to it.
class sandbox_test : public ::testing::Test {
  protected:
    void TearDown() override {
        if (sb_) sb_->stop();
    }

    void start(sandbox_params p = {}) {
        plain_ = p.plain_http;
        sb_ = std::make_unique<sandbox>(std::move(p));
        sb_->start();
        ASSERT_NE(sb_->port(), 0);
    }

    std::unique_ptr<https_test_client> client(
        std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        test_client_options o;
        o.port = sb_->port();
        o.tls = !plain_;
        o.ca_pem = sb_->ca_pem();
        o.timeout = timeout;
        return std::make_unique<https_test_client>(o);
    }

    /// POST of `body` on a fresh connection.
    http_reply post(const std::string& body, const header_list& headers = create_headers()) {
        auto c = client();
        http_reply r;
        const auto ec = c->request("POST", create_path, headers, body, r);
        EXPECT_FALSE(ec) << ec.message();
        return r;
    }

    /// A request to an admin endpoint (`/sandbox/...`) on a fresh connection, with `token` as
    /// its bearer token when there is one.
    http_reply admin(const std::string& method, const std::string& target,
                     const std::string& token = {}) {
        auto c = client();
        http_reply r;
        header_list h;
        if (!token.empty()) h.push_back({"Authorization", "Bearer " + token});
        const auto ec = c->request(method, target, h, "", r);
        EXPECT_FALSE(ec) << ec.message();
        return r;
    }

    /// `bytes` written as they are (over TLS) on a fresh connection, and the answer read; `ec`
    /// says how the exchange ended.
    http_reply raw_exchange(const std::string& bytes, boost::system::error_code& ec) {
        auto c = client();
        http_reply r;
        ec = c->write(bytes);
        if (!ec) ec = c->read_reply(r);
        return r;
    }

    /// The sandbox still creates a session: whatever a test did to it, no worker is stuck.
    void expect_still_serving() {
        const auto r = post(example_create_body());
        EXPECT_EQ(r.status, 201u) << "the sandbox stopped serving";
    }

    std::unique_ptr<sandbox> sb_;
    bool plain_ = false;
};

}  // namespace catalyst::test

#endif
