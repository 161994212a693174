#ifndef CATALYST_TESTS_SANDBOX_FIXTURE_HPP
#define CATALYST_TESTS_SANDBOX_FIXTURE_HPP

#include "support/https_test_client.hpp"

#include <catalyst/sandbox.hpp>

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <memory>
#include <string>

namespace catalyst::test {

inline constexpr std::string_view allow_campaign = "a1b2c3d4-e5f6-7890-abcd-ef1234567890";
inline constexpr std::string_view reject_campaign = "11111111-1111-4111-8111-111111111111";
inline constexpr std::string_view reuse_campaign = "22222222-2222-4222-8222-222222222222";
inline constexpr std::string_view create_path = "/api/v1/payment-sessions/";

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

    std::unique_ptr<https_test_client> client(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
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

    static boost::json::value json(const http_reply& r) {
        boost::system::error_code ec;
        auto v = boost::json::parse(r.body, ec);
        EXPECT_FALSE(ec) << "not JSON: " << r.body;
        return v;
    }

    static std::string token_of(const http_reply& r) {
        const auto v = json(r);
        if (!v.is_object() || !v.as_object().contains("session_token")) return {};
        return std::string(v.at("session_token").as_string());
    }

    std::unique_ptr<sandbox> sb_;
    bool plain_ = false;
};

}  // namespace catalyst::test

#endif
