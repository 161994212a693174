// Every fault's observable effect on the wire, and its count in the stats.

#include "sandbox/sandbox_fixture.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/http/error.hpp>

#include <chrono>
#include <thread>

using namespace catalyst;
using namespace catalyst::test;
using namespace std::chrono_literals;

namespace {

class fault_injection : public sandbox_test {
  protected:
    void start_with(const fault_params& f) {
        sandbox_params p;
        p.faults = f;
        start(p);
    }
    std::uint64_t injected(const std::string& name) {
        const auto s = sb_->stats();
        const auto it = s.faults_injected.find(name);
        return it == s.faults_injected.end() ? 0 : it->second;
    }
};

struct server_error_case {
    unsigned status;
    unsigned retry_after;
    fault_body body;
};

class server_error_fault : public fault_injection,
                           public ::testing::WithParamInterface<server_error_case> {};

TEST_P(server_error_fault, answers_the_status_without_creating) {
    const auto& c = GetParam();
    fault_params f;
    f.server_error.every_nth = 1;
    f.server_error_status = c.status;
    f.server_error_retry_after = c.retry_after;
    f.server_error_body = c.body;
    start_with(f);
    const auto r = post(example_create_body());
    EXPECT_EQ(r.status, c.status);
    if (c.retry_after)
        EXPECT_EQ(r.header("Retry-After"), std::to_string(c.retry_after));
    else
        EXPECT_FALSE(r.has_header("Retry-After"));
    switch (c.body) {
        case fault_body::json:
            EXPECT_TRUE(json(r).as_object().contains("detail"));
            break;
        case fault_body::html:
            EXPECT_NE(r.header("Content-Type").find("text/html"), std::string::npos);
            EXPECT_NE(r.body.find("<html>"), std::string::npos);
            break;
        case fault_body::empty:
            EXPECT_TRUE(r.body.empty());
            EXPECT_EQ(r.header("Content-Length"), "0");
            break;
    }
    EXPECT_EQ(sb_->stats().created, 0u);
    EXPECT_EQ(injected("server_error"), 1u);
}

INSTANTIATE_TEST_SUITE_P(every_status, server_error_fault,
                         ::testing::Values(server_error_case{500, 0, fault_body::json},
                                           server_error_case{502, 0, fault_body::html},
                                           server_error_case{503, 2, fault_body::json},
                                           server_error_case{503, 0, fault_body::empty},
                                           server_error_case{504, 1, fault_body::html}));

TEST_F(fault_injection, every_nth_counts_eligible_requests_only) {
    fault_params f;
    f.server_error.every_nth = 3;
    start_with(f);
    auto c = client();
    std::vector<unsigned> statuses;
    for (int i = 0; i < 6; ++i) {
        http_reply r;
        ASSERT_FALSE(c->request("POST", create_path, create_headers(), example_create_body(), r));
        statuses.push_back(r.status);
        // Admin requests in between do not count.
        ASSERT_FALSE(c->request("GET", "/sandbox/stats", {}, "", r));
        EXPECT_EQ(r.status, 200u);
    }
    EXPECT_EQ(statuses, (std::vector<unsigned>{201, 201, 503, 201, 201, 503}));
    EXPECT_EQ(sb_->stats().created, 4u);
    EXPECT_EQ(injected("server_error"), 2u);
}

TEST_F(fault_injection, probability_one_and_zero) {
    fault_params f;
    f.throttle.probability = 1.0;
    f.throttle_retry_after = 7;
    start_with(f);
    const auto r = post(example_create_body());
    ASSERT_EQ(r.status, 429u);
    EXPECT_EQ(r.header("Retry-After"), "7");
    EXPECT_EQ(json(r).at("detail").as_string(),
              "Request was throttled. Expected available in 7 seconds.");
    EXPECT_EQ(injected("throttle"), 1u);
    EXPECT_EQ(sb_->stats().rate_limited, 0u);  // an injected 429 is a fault, not the limiter

    f.throttle.probability = 0.0;
    sb_->set_faults(f);
    EXPECT_EQ(post(example_create_body()).status, 201u);
}

TEST_F(fault_injection, latency_delays_the_answer) {
    fault_params f;
    f.latency.every_nth = 1;
    f.latency_min = 60ms;
    start_with(f);
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = post(example_create_body());
    const auto elapsed = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(r.status, 201u);
    EXPECT_GE(elapsed, 60ms);  // a timer never fires early: a lower bound is safe
    EXPECT_EQ(injected("latency"), 1u);
}

TEST_F(fault_injection, close_before_reading_the_request) {
    fault_params f;
    f.close_before_read.every_nth = 1;
    start_with(f);
    auto c = client();
    ASSERT_FALSE(c->connect());
    http_reply r;
    const auto ec = c->request("POST", create_path, create_headers(), example_create_body(), r);
    EXPECT_TRUE(is_closed_by_peer(ec)) << ec.message();
    EXPECT_EQ(r.status, 0u);
    EXPECT_EQ(sb_->stats().created, 0u);
    EXPECT_EQ(sb_->stats().requests, 0u);
    EXPECT_GE(injected("close_before_read"), 1u);
}

TEST_F(fault_injection, close_before_read_on_a_kept_alive_connection) {
    fault_params f;
    f.close_before_read.every_nth = 2;  // read 1 is served, the server closes instead of read 2
    start_with(f);
    auto c = client();
    http_reply r;
    ASSERT_FALSE(c->request("POST", create_path, create_headers(), example_create_body(), r));
    EXPECT_EQ(r.status, 201u);
    EXPECT_TRUE(r.keep_alive);
    const auto ec = c->request("POST", create_path, create_headers(), example_create_body(), r);
    EXPECT_TRUE(is_closed_by_peer(ec)) << ec.message();
    EXPECT_EQ(sb_->stats().created, 1u);
    EXPECT_EQ(injected("close_before_read"), 1u);
}

TEST_F(fault_injection, close_after_reading_creates_nothing) {
    fault_params f;
    f.close_after_read.every_nth = 1;
    start_with(f);
    auto c = client();
    http_reply r;
    const auto ec = c->request("POST", create_path, create_headers(), example_create_body(), r);
    EXPECT_TRUE(is_closed_by_peer(ec)) << ec.message();
    EXPECT_EQ(sb_->stats().requests, 1u);
    EXPECT_EQ(sb_->stats().created, 0u);
    EXPECT_EQ(injected("close_after_read"), 1u);
}

TEST_F(fault_injection, close_after_create_then_idempotent_retry_replays) {
    fault_params f;
    f.close_after_create.every_nth = 1;
    start_with(f);
    auto c = client();
    http_reply r;
    const auto ec =
        c->request("POST", create_path, create_headers("rk_your_api_key", "ambiguous-1"),
                   example_create_body(), r);
    EXPECT_TRUE(is_closed_by_peer(ec)) << ec.message();
    ASSERT_EQ(sb_->stats().created, 1u);
    const auto ledger = sb_->ledger();
    ASSERT_EQ(ledger.size(), 1u);

    sb_->set_faults({});
    const auto retry =
        post(example_create_body(), create_headers("rk_your_api_key", "ambiguous-1"));
    ASSERT_EQ(retry.status, 201u);
    EXPECT_EQ(retry.header("Idempotent-Replayed"), "true");
    EXPECT_EQ(token_of(retry), ledger[0].token);
    EXPECT_EQ(sb_->stats().created, 1u);  // nothing created twice
    EXPECT_EQ(injected("close_after_create"), 1u);
}

TEST_F(fault_injection, reset_in_the_middle_of_the_response) {
    fault_params f;
    f.reset_mid_response.every_nth = 1;
    start_with(f);
    auto c = client();
    http_reply r;
    const auto ec = c->request("POST", create_path, create_headers(), example_create_body(), r);
    EXPECT_EQ(ec, boost::asio::error::connection_reset) << ec.message();
    EXPECT_EQ(sb_->stats().created, 1u);
    EXPECT_EQ(injected("reset_mid_response"), 1u);
}

TEST_F(fault_injection, truncated_body) {
    fault_params f;
    f.truncated_body.every_nth = 1;
    start_with(f);
    auto c = client();
    ASSERT_FALSE(c->write(
        "POST /api/v1/payment-sessions/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        "rk_your_api_key\r\n"
        "Content-Type: application/json\r\nContent-Length: " +
        std::to_string(example_create_body().size()) + "\r\n\r\n" + example_create_body()));
    std::string raw;
    const auto ec = c->read_until_close(raw);
    EXPECT_TRUE(is_closed_by_peer(ec)) << ec.message();
    const auto head_end = raw.find("\r\n\r\n");
    ASSERT_NE(head_end, std::string::npos) << raw;
    const auto cl_pos = raw.find("Content-Length: ");
    ASSERT_NE(cl_pos, std::string::npos);
    const auto promised = std::stoul(raw.substr(cl_pos + 16));
    EXPECT_LT(raw.size() - head_end - 4, promised);
    EXPECT_GT(promised, 0u);
    EXPECT_EQ(injected("truncated_body"), 1u);

    // Through the parser, the same thing is a partial message.
    auto c2 = client();
    http_reply r;
    const auto ec2 = c2->request("POST", create_path, create_headers(), example_create_body(), r);
    EXPECT_EQ(ec2, boost::beast::http::error::partial_message) << ec2.message();
}

TEST_F(fault_injection, garbage_body_keeps_the_status) {
    fault_params f;
    f.garbage_body.every_nth = 1;
    start_with(f);
    const auto r = post(example_create_body());
    EXPECT_EQ(r.status, 201u);
    boost::system::error_code ec;
    boost::json::parse(r.body, ec);
    EXPECT_TRUE(ec) << "expected a non-JSON body, got " << r.body;
    EXPECT_FALSE(r.body.empty());
    EXPECT_EQ(sb_->stats().created, 1u);
    EXPECT_EQ(injected("garbage_body"), 1u);
}

TEST_F(fault_injection, trickle_sends_the_same_answer_slowly) {
    fault_params f;
    f.trickle.every_nth = 1;
    f.trickle_delay = 0ms;
    start_with(f);
    auto c = client();
    http_reply r;
    ASSERT_FALSE(c->request("POST", create_path, create_headers(), example_create_body(), r));
    EXPECT_EQ(r.status, 201u);
    EXPECT_EQ(token_of(r).substr(0, 3), "ps_");
    ASSERT_FALSE(c->request("POST", create_path, create_headers(), example_create_body(),
                            r));  // still keep-alive
    EXPECT_EQ(r.status, 201u);
    EXPECT_EQ(injected("trickle"), 2u);
}

TEST_F(fault_injection, connection_close_on_every_nth_response) {
    fault_params f;
    f.connection_close.every_nth = 2;
    start_with(f);
    auto c = client();
    http_reply r;
    ASSERT_FALSE(c->request("POST", create_path, create_headers(), example_create_body(), r));
    EXPECT_TRUE(r.keep_alive);
    ASSERT_FALSE(c->request("POST", create_path, create_headers(), example_create_body(), r));
    EXPECT_EQ(r.status, 201u);
    EXPECT_FALSE(r.keep_alive);
    EXPECT_EQ(r.header("Connection"), "close");
    std::string rest;
    EXPECT_TRUE(is_closed_by_peer(c->read_until_close(rest)));
    EXPECT_TRUE(rest.empty());
    EXPECT_EQ(injected("connection_close"), 1u);
    EXPECT_EQ(sb_->stats().created, 2u);
}

TEST_F(fault_injection, short_idle_keep_alive_timeout) {
    fault_params f;
    f.idle_timeout = 100ms;
    start_with(f);
    auto c = client();
    http_reply r;
    ASSERT_FALSE(c->request("POST", create_path, create_headers(), example_create_body(), r));
    ASSERT_EQ(r.status, 201u);
    std::string rest;
    const auto ec = c->read_until_close(rest);  // the server closes the idle connection
    EXPECT_TRUE(is_closed_by_peer(ec)) << ec.message();
    // The server counts right after closing: give that a bounded moment.
    for (int i = 0; i < 200 && injected("idle_timeout") == 0; ++i) std::this_thread::sleep_for(5ms);
    EXPECT_EQ(injected("idle_timeout"), 1u);
}

TEST_F(fault_injection, changed_at_run_time_through_the_admin_endpoint) {
    start();
    EXPECT_EQ(post(example_create_body()).status, 201u);
    auto admin = client();
    http_reply r;
    ASSERT_FALSE(admin->request("PUT", "/sandbox/faults", {{"Content-Type", "application/json"}},
                                R"({"server_error":{"every_nth":1,"status":502,"body":"empty"}})",
                                r));
    ASSERT_EQ(r.status, 200u);
    EXPECT_EQ(post(example_create_body()).status, 502u);
    ASSERT_FALSE(admin->request("PUT", "/sandbox/faults", {}, "{}", r));
    ASSERT_EQ(r.status, 200u);
    EXPECT_EQ(post(example_create_body()).status, 201u);
    ASSERT_FALSE(admin->request("GET", "/sandbox/stats", {}, "", r));
    EXPECT_EQ(json(r).at("faults_injected").at("server_error").as_int64(), 1);
}

}  // namespace
