// Exceptions from user code: a handler or a logger that throws kills neither the process nor
// the client, and costs no pool slot; the client keeps serving afterwards. Both with the
// client's own thread and on the caller's io_context (whose run() the exception of a handler
// leaves, as Asio's rule is; the runner here survives that and counts it).
#include "call_tracker.hpp"
#include "client_fixture.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <thread>

namespace net = boost::asio;
using namespace catalyst;
using namespace catalyst::test;
using namespace std::chrono_literals;
using boost::system::error_code;
using std::chrono::milliseconds;

namespace {

// An io_context run by one thread that survives exceptions escaping run() (Asio's rule for a
// handler that throws on the caller's own io_context) and counts them.
class resilient_runner {
  public:
    resilient_runner()
        : guard_(net::make_work_guard(ioc_)), thread_([this] {
              for (;;) {
                  try {
                      ioc_.run();
                      return;
                  } catch (...) {
                      ++escaped_;
                  }
              }
          }) {}
    ~resilient_runner() {
        guard_.reset();
        ioc_.stop();
        thread_.join();
    }
    net::io_context& ioc() { return ioc_; }
    int escaped() const { return escaped_.load(); }

  private:
    net::io_context ioc_;
    net::executor_work_guard<net::io_context::executor_type> guard_;
    std::atomic<int> escaped_{0};
    std::thread thread_;
};

// `n` calls (distinct leads) that must all succeed within `limit`.
void expect_calls_succeed(client& c, std::size_t n, const char* what, milliseconds limit = 10s) {
    auto tracker = std::make_shared<call_tracker>(n);
    auto& calls = *tracker;
    for (std::size_t i = 0; i < n; ++i) {
        request_options o;
        o.deadline = 5s;
        calls.start(c, i, o);
    }
    EXPECT_EQ(calls.wait(steady::now() + limit), n) << what << ": calls did not complete";
    std::size_t ok = 0;
    for (const auto& r : calls.snapshot()) ok += r.completions == 1 && !r.ec;
    EXPECT_EQ(ok, n) << what;
}

enum class run_mode { owned_thread, executor };

void PrintTo(run_mode m, std::ostream* os) {
    *os << (m == run_mode::owned_thread ? "owned thread" : "executor");
}

class user_exceptions : public ::testing::TestWithParam<run_mode> {
  protected:
    std::unique_ptr<client> make_client(const client_params& p) {
        if (GetParam() == run_mode::owned_thread) return std::make_unique<client>(p);
        runner_ = std::make_unique<resilient_runner>();
        return std::make_unique<client>(runner_->ioc(), p);
    }
    std::unique_ptr<resilient_runner> runner_;  // declared first: outlives the client
};

TEST_P(user_exceptions, a_throwing_handler_kills_nothing_and_costs_no_slot) {
    hostile_server server;
    auto p = params_for(server);
    p.max_connections = 2;
    std::atomic<int> thrown{0};  // declared first: outlives the client and its handlers
    auto c = make_client(p);
    for (int i = 0; i < 4; ++i) {
        c->async_create_session(valid_request("throw" + std::to_string(i) + "@example.com"),
                                request_options{}, [&](error_code, session) {
                                    ++thrown;
                                    throw std::runtime_error("handler throws");
                                });
    }
    EXPECT_TRUE(eventually([&] { return thrown.load() == 4; }))
        << thrown.load() << " of 4 handlers ran";
    expect_calls_succeed(*c, 10, "after throwing handlers");
    const auto m = c->metrics();
    EXPECT_LE(m.connections_opened - m.connections_closed, p.max_connections);
    EXPECT_EQ(m.in_flight, 0u);
}

// Calls that complete in the same turn (a shutdown ends them all at once) have their handlers
// run one after the other from one posted function on the client's own thread: when one of
// them throws, the others still run, each exactly once.
TEST_P(user_exceptions, handlers_of_calls_completed_together_all_run_when_one_throws) {
    hostile_server server;
    server.set_on_request([](const hostile_request&) {
        hostile_reply r;
        r.action = hostile_action::stall_after_request;
        return r;
    });
    auto p = params_for(server);
    p.max_connections = 1;
    constexpr int calls = 8;
    std::atomic<int> ran{0};  // declared first: outlives the client and its handlers
    std::array<std::atomic<int>, calls> runs_of{};
    auto c = make_client(p);
    for (int i = 0; i < calls; ++i) {
        c->async_create_session(valid_request("batch" + std::to_string(i) + "@example.com"), request_options{},
                                [&, i](error_code ec, session) {
                                    EXPECT_EQ(ec, catalyst::errc::shutting_down);
                                    ++runs_of[static_cast<std::size_t>(i)];
                                    ++ran;
                                    throw std::runtime_error("handler throws");
                                });
    }
    ASSERT_TRUE(eventually([&] { return server.requests() == 1; }));  // one on the wire, seven queued
    c->async_shutdown(std::chrono::milliseconds(0), [](error_code) {});
    EXPECT_TRUE(eventually([&] { return ran.load() == calls; })) << ran.load() << " of " << calls << " handlers ran";
    for (int i = 0; i < calls; ++i) EXPECT_EQ(runs_of[static_cast<std::size_t>(i)].load(), 1) << "call " << i;
}

TEST_P(user_exceptions, a_throwing_logger_kills_nothing_and_costs_no_slot) {
    hostile_server server;
    auto p = params_for(server);
    p.max_connections = 2;
    p.max_requests_per_connection = 2;  // new connections (and their log lines) keep coming
    std::atomic<int> logged{0};         // declared first: the client may log while it is destroyed
    auto c = make_client(p);
    c->set_logger([&](log_level, std::string_view) {
        ++logged;
        throw std::runtime_error("logger throws");
    });
    expect_calls_succeed(*c, 12, "with a throwing logger");
    EXPECT_GT(logged.load(), 0) << "the logger was never called: the test proves nothing";
    if (runner_) {
        EXPECT_EQ(runner_->escaped(), 0) << "a logger's exception escaped io_context::run()";
    }
    c->set_logger({});
    expect_calls_succeed(*c, 6, "after the throwing logger was removed");
    const auto m = c->metrics();
    EXPECT_LE(m.connections_opened - m.connections_closed, p.max_connections);
    EXPECT_EQ(m.in_flight, 0u);
}

INSTANTIATE_TEST_SUITE_P(modes, user_exceptions,
                         ::testing::Values(run_mode::owned_thread, run_mode::executor),
                         [](const auto& info) {
                             return info.param == run_mode::owned_thread
                                        ? std::string("owned_thread")
                                        : std::string("executor");
                         });

}  // namespace
