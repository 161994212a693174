// The drivers against the real client and an in-process sandbox on 127.0.0.1: every request
// they start is counted exactly once, as a success or as an error of its kind. Bounded by
// request counts, never by time.

#include "core/contract_example.hpp"
#include "driver.hpp"

#include <catalyst/client.hpp>
#include <catalyst/sandbox.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <optional>

using namespace catalyst;
using namespace catalyst::bench;

namespace {

session_request example_request() { return catalyst::detail::contract_example_request(); }

class bench_driver : public ::testing::Test {
protected:
    void SetUp() override {
        server_ = std::make_unique<sandbox>(sandbox_params{});
        server_->start();
    }
    void TearDown() override { server_->stop(); }

    client_params params(std::size_t connections, unsigned threads = 0) const {
        client_params p;
        p.base_url = server_->base_url();
        p.tls.ca_pem = server_->ca_pem();
        p.api_key = "rk_test_123";
        p.max_connections = connections;
        p.threads = threads;
        return p;
    }

    std::unique_ptr<sandbox> server_;
};

}  // namespace

TEST_F(bench_driver, closed_loop_sends_exactly_the_sessions_asked_for) {
    boost::asio::io_context ioc(1);
    std::optional<client> c;
    c.emplace(ioc, params(4));
    const auto r = run_closed_loop(ioc, *c, example_request(), 4, closed_loop_plan{150, nanos(0)});
    EXPECT_EQ(r.started, 150u);
    EXPECT_EQ(r.succeeded, 150u);
    EXPECT_EQ(r.failed, 0u);
    EXPECT_TRUE(r.errors.empty());
    EXPECT_EQ(r.latency.count(), 150u);
    EXPECT_GT(r.latency.min(), 0u);
    EXPECT_GT(r.wall.count(), 0);
    const auto m = c->metrics();
    EXPECT_LE(m.connections_opened, 4u);  // never more connections than chains
    EXPECT_GE(m.connections_opened, 1u);
    EXPECT_EQ(server_->stats().created, 150u);
    c.reset();
    ioc.restart();
    ioc.run_for(std::chrono::seconds(2));
}

TEST_F(bench_driver, fewer_sessions_than_chains_starts_only_those) {
    boost::asio::io_context ioc(1);
    std::optional<client> c;
    c.emplace(ioc, params(8));
    const auto r = run_closed_loop(ioc, *c, example_request(), 8, closed_loop_plan{3, nanos(0)});
    EXPECT_EQ(r.started, 3u);
    EXPECT_EQ(r.succeeded, 3u);
    c.reset();
    ioc.restart();
    ioc.run_for(std::chrono::seconds(2));
}

TEST_F(bench_driver, closed_loop_on_client_threads_merges_every_thread) {
    boost::asio::io_context ioc(1);
    std::optional<client> c;
    c.emplace(params(8, 2));  // completions arrive on the client's two threads
    const auto r = run_closed_loop(ioc, *c, example_request(), 8, closed_loop_plan{200, nanos(0)});
    EXPECT_EQ(r.started, 200u);
    EXPECT_EQ(r.succeeded + r.failed, 200u);
    EXPECT_EQ(r.succeeded, 200u);
    EXPECT_EQ(r.latency.count(), 200u);
    c.reset();
}

TEST_F(bench_driver, a_second_phase_runs_the_context_that_the_first_left_stopped) {
    // With the client on its own thread, the bench's context runs out of work at the end of
    // a phase (the warm-up) and stops; the next phase must restart it, not spin on
    // run_one() returning at once. A handler posted in between shows which one happened.
    boost::asio::io_context ioc(1);
    std::optional<client> c;
    c.emplace(params(4, 1));
    const auto warm = run_closed_loop(ioc, *c, example_request(), 4, closed_loop_plan{20, nanos(0)});
    EXPECT_EQ(warm.succeeded, 20u);
    bool ran = false;
    boost::asio::post(ioc, [&ran] { ran = true; });
    const auto r = run_closed_loop(ioc, *c, example_request(), 4, closed_loop_plan{20, nanos(0)});
    EXPECT_EQ(r.succeeded, 20u);
    EXPECT_TRUE(ran);
    c.reset();
}

TEST_F(bench_driver, open_loop_sends_the_schedule_and_counts_from_the_intended_time) {
    boost::asio::io_context ioc(1);
    std::optional<client> c;
    c.emplace(ioc, params(4));
    // 100 requests at 2000/s, at most 2 outstanding: most leave late and their latency
    // includes the wait for a slot
    const auto r = run_open_loop(ioc, *c, example_request(), open_loop_schedule(2000, 100), nanos(0), 2);
    EXPECT_EQ(r.started, 100u);
    EXPECT_EQ(r.succeeded, 100u);
    EXPECT_EQ(r.latency.count(), 100u);
    EXPECT_EQ(server_->stats().created, 100u);
    c.reset();
    ioc.restart();
    ioc.run_for(std::chrono::seconds(2));
}

TEST_F(bench_driver, failures_are_counted_by_kind) {
    boost::asio::io_context ioc(1);
    auto p = params(2);
    p.api_key = "rk_not_a_key_of_the_sandbox";
    std::optional<client> c;
    c.emplace(ioc, p);
    const auto r = run_closed_loop(ioc, *c, example_request(), 2, closed_loop_plan{10, nanos(0)});
    EXPECT_EQ(r.started, 10u);
    EXPECT_EQ(r.succeeded, 0u);
    EXPECT_EQ(r.failed, 10u);
    ASSERT_EQ(r.errors.count("unauthorized"), 1u);
    EXPECT_EQ(r.errors.at("unauthorized"), 10u);
    EXPECT_EQ(r.latency.count(), 10u);  // failures have a latency too
    c.reset();
    ioc.restart();
    ioc.run_for(std::chrono::seconds(2));
}
