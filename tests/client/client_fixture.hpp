#ifndef CATALYST_TESTS_CLIENT_FIXTURE_HPP
#define CATALYST_TESTS_CLIENT_FIXTURE_HPP

// What the client's tests share: the request they send, client params that trust a loopback
// test server (the in-process sandbox or the hostile server), a fixture that starts a
// sandbox, and a bounded wait for a condition.

#include "core/contract_example.hpp"
#include "support/hostile_server.hpp"

#include <boost/asio/use_future.hpp>

#include <catalyst/cancel_after.hpp>
#include <catalyst/client.hpp>
#include <catalyst/sandbox.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace catalyst::test {

/// The documentation's example request with `email` as the lead's email: calls that must be
/// told apart (the sandbox's ledger, its duplicate rules) differ by it.
inline session_request valid_request(std::string email = "max@example.com") {
    session_request r = detail::contract_example_request();
    r.lead.email = std::move(email);
    return r;
}

/// The server's first answer is followed, `hostile_options::extra_delay` later (the client's
/// connection idle by then), by one nobody asked for; every other answer is plain.
inline void extra_answer_after_the_first(hostile_server& server) {
    server.set_on_request([](const hostile_request& r) {
        hostile_reply reply;
        reply.action = r.seq == 0 ? hostile_action::answer_then_late_extra : hostile_action::answer;
        return reply;
    });
}

/// How a call that must fail ends: its error code, the diagnostics (when given) as the call
/// left them. A call that succeeds fails the test that asked.
inline boost::system::error_code error_of(client& c, const session_request& req,
                                          const request_options& o, diagnostics& d) {
    auto f = c.async_create_session(req, o, d, boost::asio::use_future);
    try {
        f.get();
    } catch (const boost::system::system_error& e) {
        return e.code();
    }
    ADD_FAILURE() << "the call succeeded";
    return {};
}
inline boost::system::error_code error_of(client& c, const session_request& req) {
    diagnostics d;
    return error_of(c, req, request_options{}, d);
}

/// Client params that trust `server` (anything with base_url() and ca_pem(): a sandbox, a
/// hostile_server) with the sandbox's test key, and the library's defaults otherwise.
template <class Server>
client_params trusting(const Server& server) {
    client_params p;
    p.base_url = server.base_url();
    p.api_key = "rk_test_123";
    p.tls.ca_pem = server.ca_pem();
    return p;
}

/// trusting(server) with short retry backoffs (5 to 50 ms), so that tests that retry stay fast.
template <class Server>
client_params params_for(const Server& server) {
    client_params p = trusting(server);
    p.retry.base_backoff = std::chrono::milliseconds(5);
    p.retry.max_backoff = std::chrono::milliseconds(50);
    return p;
}

/// Waits until `pred` holds, polling every 5 ms, at most `limit`; whether it held. Tests wait
/// on what they can observe (a server's counters, a client's metrics) with this, never on a
/// bare sleep.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() >= until) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

/// One call's completion, as run_many records it.
struct call_outcome {
    boost::system::error_code ec;
    session s;
    diagnostics d;
};

/// Makes `n` calls at once on `c` (a client with threads of its own), each lead with its own
/// email unless `distinct_emails` is false, and waits for all of them (60 s at most); checks
/// that every call completes exactly once.
inline std::vector<call_outcome> run_many(client& c, std::size_t n,
                                          const request_options& opts = {},
                                          bool distinct_emails = true) {
    std::vector<call_outcome> out(n);
    std::vector<std::atomic<int>> completions(n);
    std::atomic<std::size_t> left{n};
    std::promise<void> all;
    auto f = all.get_future();
    for (std::size_t i = 0; i < n; ++i) {
        auto req = valid_request(distinct_emails ? "lead" + std::to_string(i) + "@example.com"
                                                 : "same@example.com");
        c.async_create_session(req, opts, out[i].d,
                               [&, i](boost::system::error_code ec, session s) {
                                   completions[i].fetch_add(1);
                                   out[i].ec = ec;
                                   out[i].s = std::move(s);
                                   if (left.fetch_sub(1) == 1) all.set_value();
                               });
    }
    EXPECT_EQ(f.wait_for(std::chrono::seconds(60)), std::future_status::ready)
        << "lost completions: " << left.load();
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(completions[i].load(), 1) << "request " << i;
    return out;
}

/// How many of `v` ended with `ec`.
inline std::size_t count(const std::vector<call_outcome>& v, boost::system::error_code ec) {
    std::size_t n = 0;
    for (const auto& o : v) n += o.ec == ec;
    return n;
}

/// An in-process sandbox on port 0 (started by `start`) and client params that trust it.
/// Suites whose tests need no sandbox may use it too: without `start` it does nothing.
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
    client_params params() const { return params_for(*sb_); }
    std::unique_ptr<sandbox> sb_;
};

}  // namespace catalyst::test

#endif
