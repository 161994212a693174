// Observability hooks: per-call headers (checked, then on the wire), the attempt observer,
// the minimum log level, the server's request id in diagnostics and logs.
#include "client/client_fixture.hpp"
#include "support/hostile_server.hpp"

#include <catalyst/observer.hpp>

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

namespace catalyst::test {
namespace {

using namespace std::chrono_literals;
using boost::system::error_code;

// One call, run to completion on its own io_context (bounded: 10 s).
struct call_result {
    error_code ec;
    session s;
    diagnostics diag;
    bool done = false;
};
call_result run_call(boost::asio::io_context& ctx, client& c, const request_options& opts) {
    call_result r;
    c.async_create_session(valid_request(), opts, r.diag, [&](error_code ec, session s) {
        r.ec = ec;
        r.s = std::move(s);
        r.done = true;
    });
    ctx.restart();
    for (int i = 0; i < 1000 && !r.done; ++i) ctx.run_for(10ms);
    return r;
}

constexpr const char* traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(client_headers, a_per_call_traceparent_reaches_the_server_on_every_attempt) {
    hostile_server server;
    server.set_on_request([](const hostile_request& r) {
        hostile_reply rep;
        if (r.seq == 0) {
            rep.action = hostile_action::status;
            rep.status = 503;
        }
        return rep;
    });
    boost::asio::io_context ctx;
    client c(ctx, params_for(server));
    request_options opts;
    opts.headers = {{"traceparent", traceparent}, {"tracestate", "vendor=1"}};
    auto r = run_call(ctx, c, opts);
    ASSERT_TRUE(r.done);
    ASSERT_FALSE(r.ec) << r.ec.message() << " " << r.diag.to_string();
    const auto ledger = server.ledger();
    ASSERT_EQ(ledger.size(), 2u);
    for (const auto& req : ledger) {
        EXPECT_NE(req.head.find(std::string("\r\ntraceparent: ") + traceparent + "\r\n"), std::string::npos) << req.head;
        EXPECT_NE(req.head.find("\r\ntracestate: vendor=1\r\n"), std::string::npos) << req.head;
    }
}

TEST(client_headers, unsafe_or_reserved_headers_are_refused_before_the_wire_naming_the_field) {
    hostile_server server;
    boost::asio::io_context ctx;
    std::vector<std::string> logged;
    client c(ctx, params_for(server));
    c.set_logger([&](log_level, std::string_view m) { logged.emplace_back(m); });
    struct bad {
        std::string name, value, field;
    };
    const std::vector<bad> cases = {
        {"traceparent", "00-abc\r\nX-Injected: 1", "headers[0].value"},
        {"traceparent", std::string("a\nb"), "headers[0].value"},
        {"traceparent", std::string("a\0b", 3), "headers[0].value"},
        {"trace parent", "x", "headers[0].name"},
        {"", "x", "headers[0].name"},
        {"X-Bad:Name", "x", "headers[0].name"},
        {"Host", "evil.example", "headers[0].name"},
        {"authorization", "Bearer rk_other", "headers[0].name"},
        {"Content-Length", "0", "headers[0].name"},
        {"IDEMPOTENCY-KEY", "k", "headers[0].name"},
        {"Transfer-Encoding", "chunked", "headers[0].name"},
    };
    for (const auto& b : cases) {
        request_options opts;
        opts.headers = {{b.name, b.value}};
        auto r = run_call(ctx, c, opts);
        ASSERT_TRUE(r.done) << b.name;
        EXPECT_EQ(r.ec, errc::validation_failed) << b.name;
        ASSERT_EQ(r.diag.fields.size(), 1u) << b.name;
        EXPECT_EQ(r.diag.fields[0].field, b.field) << b.name;
        EXPECT_EQ(r.diag.attempts, 0u);
    }
    // The second header of a list is named by its index.
    request_options opts;
    opts.headers = {{"traceparent", traceparent}, {"x-ok", "bad\rvalue"}};
    auto r = run_call(ctx, c, opts);
    EXPECT_EQ(r.ec, errc::validation_failed);
    ASSERT_EQ(r.diag.fields.size(), 1u);
    EXPECT_EQ(r.diag.fields[0].field, "headers[1].value");
    EXPECT_EQ(server.requests(), 0u);
    for (const auto& line : logged) {
        EXPECT_EQ(line.find("evil.example"), std::string::npos) << line;
        EXPECT_EQ(line.find("rk_other"), std::string::npos) << line;
        EXPECT_EQ(line.find("X-Injected"), std::string::npos) << line;
    }
}

// Every event, in order, copied out of the observer's call.
struct recorded_event {
    bool start = false;
    unsigned attempt = 0;
    connection_use connection = connection_use::none;
    unsigned status = 0;
    error_code error;
    bool retried = false;
    retry_reason reason = retry_reason::none;
    std::size_t bytes_sent = 0, bytes_received = 0;
    std::chrono::microseconds total{0}, ttfb{0};
    std::string request_id, context;
};

class recording_observer : public client_observer {
public:
    void on_attempt_start(const attempt_start_event& e) override {
        std::lock_guard lock(mu_);
        recorded_event r;
        r.start = true;
        r.attempt = e.attempt;
        r.connection = e.connection;
        r.context = std::string(e.context);
        events_.push_back(std::move(r));
    }
    void on_attempt_end(const attempt_end_event& e) override {
        std::lock_guard lock(mu_);
        recorded_event r;
        r.attempt = e.attempt;
        r.connection = e.connection;
        r.status = e.http_status;
        r.error = e.error;
        r.retried = e.retried;
        r.reason = e.reason;
        r.bytes_sent = e.bytes_sent;
        r.bytes_received = e.bytes_received;
        r.total = e.total;
        r.ttfb = e.time_to_first_byte;
        r.request_id = std::string(e.request_id);
        r.context = std::string(e.context);
        events_.push_back(std::move(r));
    }
    std::vector<recorded_event> events() const {
        std::lock_guard lock(mu_);
        return events_;
    }

private:
    mutable std::mutex mu_;
    std::vector<recorded_event> events_;
};

class client_observe : public client_test {};

TEST_F(client_observe, one_start_and_one_end_per_attempt_in_order_with_status_and_connection) {
    sandbox_params sp;
    sp.faults.server_error.every_nth = 2;  // the second request the sandbox reads is a 503
    sp.faults.server_error_status = 503;
    start(sp);
    auto obs = std::make_shared<recording_observer>();
    auto p = params();
    p.observer = obs;
    boost::asio::io_context ctx;
    client c(ctx, p);
    request_options opts;
    opts.observer_context = "call-1";
    auto first = run_call(ctx, c, opts);
    ASSERT_TRUE(first.done);
    ASSERT_FALSE(first.ec) << first.diag.to_string();
    opts.observer_context = "call-2";
    auto second = run_call(ctx, c, opts);
    ASSERT_TRUE(second.done);
    ASSERT_FALSE(second.ec) << second.diag.to_string();
    EXPECT_EQ(second.diag.attempts, 2u);

    const auto ev = obs->events();
    ASSERT_EQ(ev.size(), 6u);
    // Call 1: one attempt on a new connection.
    EXPECT_TRUE(ev[0].start);
    EXPECT_EQ(ev[0].attempt, 1u);
    EXPECT_EQ(ev[0].connection, connection_use::new_connection);
    EXPECT_EQ(ev[0].context, "call-1");
    EXPECT_FALSE(ev[1].start);
    EXPECT_EQ(ev[1].attempt, 1u);
    EXPECT_EQ(ev[1].status, 201u);
    EXPECT_FALSE(ev[1].error);
    EXPECT_FALSE(ev[1].retried);
    EXPECT_EQ(ev[1].connection, connection_use::new_connection);
    EXPECT_GT(ev[1].bytes_sent, 0u);
    EXPECT_GT(ev[1].bytes_received, 0u);
    EXPECT_GT(ev[1].ttfb.count(), 0);
    EXPECT_GE(ev[1].total, ev[1].ttfb);
    EXPECT_EQ(ev[1].request_id.rfind("sb-", 0), 0u) << ev[1].request_id;
    EXPECT_EQ(ev[1].context, "call-1");
    // Call 2: a 503 on the kept-alive connection, retried, then a 201.
    EXPECT_TRUE(ev[2].start);
    EXPECT_EQ(ev[2].attempt, 1u);
    EXPECT_EQ(ev[2].connection, connection_use::reused);
    EXPECT_FALSE(ev[3].start);
    EXPECT_EQ(ev[3].attempt, 1u);
    EXPECT_EQ(ev[3].status, 503u);
    EXPECT_EQ(ev[3].error, errc::server_error);
    EXPECT_TRUE(ev[3].retried);
    EXPECT_EQ(ev[3].reason, retry_reason::server_error);
    EXPECT_EQ(ev[3].connection, connection_use::reused);
    EXPECT_EQ(ev[3].context, "call-2");
    EXPECT_TRUE(ev[4].start);
    EXPECT_EQ(ev[4].attempt, 2u);
    EXPECT_FALSE(ev[5].start);
    EXPECT_EQ(ev[5].attempt, 2u);
    EXPECT_EQ(ev[5].status, 201u);
    EXPECT_FALSE(ev[5].retried);
    EXPECT_NE(ev[5].request_id, ev[3].request_id);
}

TEST_F(client_observe, a_failed_connect_is_one_attempt_without_a_connection) {
    start();
    auto obs = std::make_shared<recording_observer>();
    auto p = params();
    p.observer = obs;
    const auto port = sb_->port();
    sb_->stop();  // nothing listens there any more
    p.base_url = "https://127.0.0.1:" + std::to_string(port) + "/api/v1";
    p.retry.max_attempts = 2;
    boost::asio::io_context ctx;
    client c(ctx, p);
    auto r = run_call(ctx, c, {});
    ASSERT_TRUE(r.done);
    EXPECT_EQ(r.ec, errc::connect_failed);
    const auto ev = obs->events();
    ASSERT_EQ(ev.size(), 4u);
    for (std::size_t i = 0; i < ev.size(); ++i) {
        EXPECT_EQ(ev[i].start, i % 2 == 0);
        EXPECT_EQ(ev[i].attempt, i / 2 + 1);
    }
    EXPECT_EQ(ev[1].connection, connection_use::none);
    EXPECT_EQ(ev[1].error, errc::connect_failed);
    EXPECT_TRUE(ev[1].retried);
    EXPECT_EQ(ev[1].bytes_sent, 0u);
    EXPECT_FALSE(ev[3].retried);
}

class throwing_observer : public client_observer {
public:
    void on_attempt_start(const attempt_start_event&) override { throw std::runtime_error("observer start"); }
    void on_attempt_end(const attempt_end_event&) override { throw 42; }
};

TEST_F(client_observe, an_observer_that_throws_breaks_nothing) {
    start();
    auto p = params();
    p.observer = std::make_shared<throwing_observer>();
    boost::asio::io_context ctx;
    std::vector<std::string> logged;
    client c(ctx, p);
    c.set_logger([&](log_level, std::string_view m) { logged.emplace_back(m); });
    for (int i = 0; i < 3; ++i) {
        auto r = run_call(ctx, c, {});
        ASSERT_TRUE(r.done);
        EXPECT_FALSE(r.ec) << r.diag.to_string();
    }
    std::size_t complaints = 0;
    for (const auto& l : logged) complaints += l.find("observer") != std::string::npos;
    EXPECT_EQ(complaints, 6u);
}

TEST_F(client_observe, gauges_count_open_connections_and_labels_name_the_client) {
    start();
    auto p = params();
    p.metrics_labels = {{"client", "checkout"}};
    boost::asio::io_context ctx;
    client c(ctx, p);
    EXPECT_EQ(c.metrics().open_connections, 0u);
    auto r = run_call(ctx, c, {});
    ASSERT_TRUE(r.done);
    ASSERT_FALSE(r.ec) << r.diag.to_string();
    const auto m = c.metrics();
    EXPECT_EQ(m.open_connections, 1u);  // kept alive
    EXPECT_EQ(m.queued, 0u);
    EXPECT_EQ(m.backing_off, 0u);
    const auto text = m.to_prometheus();
    EXPECT_NE(text.find("catalyst_client_open_connections{client=\"checkout\"} 1\n"), std::string::npos) << text;
    EXPECT_NE(text.find("catalyst_client_queue_depth{client=\"checkout\"} 0\n"), std::string::npos);
}

TEST_F(client_observe, the_queue_depth_gauge_counts_calls_waiting_for_a_connection) {
    sandbox_params sp;
    sp.faults.latency.every_nth = 1;
    sp.faults.latency_min = std::chrono::milliseconds(300);
    start(sp);
    auto p = params();
    p.max_connections = 1;
    boost::asio::io_context ctx;
    client c(ctx, p);
    int done = 0;
    for (int i = 0; i < 4; ++i)
        c.async_create_session(valid_request(), request_options{}, [&](error_code, session) { ++done; });
    // Once the first call holds the only connection, the three others wait in the queue.
    std::uint64_t max_queued = 0;
    for (int i = 0; i < 300 && done < 4; ++i) {
        ctx.run_for(10ms);
        max_queued = std::max(max_queued, c.metrics().queued);
    }
    EXPECT_EQ(done, 4);
    EXPECT_EQ(max_queued, 3u);
    EXPECT_EQ(c.metrics().queued, 0u);
}

// --- log level and request id ---------------------------------------------------------------

TEST_F(client_observe, the_request_id_is_in_diagnostics_and_in_the_retry_log_line) {
    sandbox_params sp;
    sp.faults.server_error.every_nth = 1;
    start(sp);
    auto p = params();
    p.retry.max_attempts = 2;
    p.min_log_level = log_level::info;  // no "connected to" (debug)
    boost::asio::io_context ctx;
    std::vector<std::string> logged;
    client c(ctx, p);
    c.set_logger([&](log_level, std::string_view m) { logged.emplace_back(m); });
    auto r = run_call(ctx, c, {});
    ASSERT_TRUE(r.done);
    EXPECT_EQ(r.ec, errc::server_error);
    EXPECT_EQ(r.diag.request_id.rfind("sb-", 0), 0u) << r.diag.request_id;
    ASSERT_EQ(logged.size(), 2u);  // the retry, then the failure
    EXPECT_NE(logged[0].find("retrying"), std::string::npos) << logged[0];
    EXPECT_NE(logged[0].find("request id sb-"), std::string::npos) << logged[0];
    EXPECT_NE(logged[1].find("request id " + r.diag.request_id), std::string::npos) << logged[1];
}

TEST_F(client_observe, messages_below_the_minimum_level_never_reach_the_logger) {
    sandbox_params sp;
    sp.faults.server_error.every_nth = 1;
    start(sp);
    auto p = params();
    p.retry.max_attempts = 2;
    p.min_log_level = log_level::warning;
    p.tls.insecure_skip_verify = true;  // a warning per new connection: it must still pass
    boost::asio::io_context ctx;
    std::vector<std::pair<log_level, std::string>> logged;
    client c(ctx, p);
    c.set_logger([&](log_level l, std::string_view m) { logged.emplace_back(l, std::string(m)); });
    auto r = run_call(ctx, c, {});
    ASSERT_TRUE(r.done);
    EXPECT_EQ(r.ec, errc::server_error);
    ASSERT_FALSE(logged.empty());
    for (const auto& [level, msg] : logged) EXPECT_GE(level, log_level::warning) << msg;
}

}  // namespace
}  // namespace catalyst::test
