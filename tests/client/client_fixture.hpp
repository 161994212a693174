#ifndef CATALYST_TESTS_CLIENT_FIXTURE_HPP
#define CATALYST_TESTS_CLIENT_FIXTURE_HPP

#include <catalyst/cancel_after.hpp>
#include <catalyst/client.hpp>
#include <catalyst/sandbox.hpp>

#include "support/hostile_server.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace catalyst::test {

inline session_request valid_request(std::string email = "max@example.com") {
    session_request r;
    r.campaign_id = "a1b2c3d4-e5f6-7890-abcd-ef1234567890";
    r.customer_ip = "203.0.113.50";
    r.lead.first_name = "Max";
    r.lead.last_name = "Mustermann";
    r.lead.email = std::move(email);
    r.lead.country = "DE";
    return r;
}

/// Client params that trust a hostile test server, with short backoffs.
inline client_params params_for(const hostile_server& s) {
    client_params p;
    p.base_url = s.base_url();
    p.api_key = "rk_test_123";
    p.tls.ca_pem = s.ca_pem();
    p.retry.base_backoff = std::chrono::milliseconds(5);
    p.retry.max_backoff = std::chrono::milliseconds(50);
    return p;
}

/// An in-process sandbox on port 0 and client params that trust it.
class client_test : public ::testing::Test {
protected:
    void TearDown() override {
        if (sb_) sb_->stop();
    }
    void start(sandbox_params p = {}) {
        sb_ = std::make_unique<sandbox>(std::move(p));
        sb_->start();
        ASSERT_NE(sb_->port(), 0);
    }
    client_params params() const {
        client_params p;
        p.base_url = sb_->base_url();
        p.api_key = "rk_test_123";
        p.tls.ca_pem = sb_->ca_pem();
        p.retry.base_backoff = std::chrono::milliseconds(5);
        p.retry.max_backoff = std::chrono::milliseconds(50);
        return p;
    }
    std::unique_ptr<sandbox> sb_;
};

}  // namespace catalyst::test

#endif
