// The client against the in-process sandbox: completion styles, volume, faults, timeouts,
// cancellation, TLS failures, backpressure, shutdown, configuration errors, logging.
#include "client_fixture.hpp"

#include <catalyst/config.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <functional>
#include <future>
#include <mutex>
#include <set>
#include <thread>

namespace net = boost::asio;
using namespace catalyst;
using namespace catalyst::test;
using namespace std::chrono_literals;
using boost::system::error_code;

namespace {

struct outcome {
    error_code ec;
    session s;
    diagnostics d;
};

// Runs `n` calls on a client with owned threads; every completion is recorded once.
std::vector<outcome> run_many(client& c, std::size_t n, const request_options& opts = {}, bool distinct_emails = true) {
    std::vector<outcome> out(n);
    std::vector<std::atomic<int>> completions(n);
    std::atomic<std::size_t> left{n};
    std::promise<void> all;
    auto f = all.get_future();
    for (std::size_t i = 0; i < n; ++i) {
        auto req = valid_request(distinct_emails ? "lead" + std::to_string(i) + "@example.com" : "same@example.com");
        c.async_create_session(req, opts, out[i].d, [&, i](error_code ec, session s) {
            completions[i].fetch_add(1);
            out[i].ec = ec;
            out[i].s = std::move(s);
            if (left.fetch_sub(1) == 1) all.set_value();
        });
    }
    EXPECT_EQ(f.wait_for(60s), std::future_status::ready) << "lost completions: " << left.load();
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(completions[i].load(), 1) << "request " << i;
    return out;
}

std::size_t count(const std::vector<outcome>& v, error_code ec) {
    std::size_t n = 0;
    for (const auto& o : v) n += o.ec == ec;
    return n;
}

/// A TCP listener on 127.0.0.1 that accepts and holds connections but never says a word (a
/// server stalled before the TLS handshake), on its own thread until destroyed.
class silent_listener {
public:
    silent_listener() {
        accept();
        thread_ = std::thread([this] { ctx_.run_for(30s); });
    }
    ~silent_listener() {
        ctx_.stop();
        thread_.join();
    }
    std::string base_url() const {
        return "https://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/api/v1";
    }

private:
    void accept() {
        acceptor_.async_accept([this](error_code ec, net::ip::tcp::socket s) {
            if (ec) return;
            held_.push_back(std::move(s));
            accept();
        });
    }
    net::io_context ctx_;
    net::ip::tcp::acceptor acceptor_{ctx_, {net::ip::make_address("127.0.0.1"), 0}};
    std::vector<net::ip::tcp::socket> held_;
    std::thread thread_;
};

}  // namespace

// --- completion styles -----------------------------------------------------------------------

TEST_F(client_test, callback_on_the_callers_io_context) {
    start();
    net::io_context ioc;
    client c(ioc, params());
    error_code got;
    session s;
    bool called = false;
    c.async_create_session(valid_request(), [&](error_code ec, session r) {
        called = true;
        got = ec;
        s = std::move(r);
        c.async_shutdown(0ms, [](error_code) {});
    });
    EXPECT_FALSE(called);  // never inline
    ioc.run_for(20s);
    ASSERT_TRUE(called);
    ASSERT_FALSE(got) << got.message();
    EXPECT_EQ(s.token.rfind("ps_", 0), 0u);
    EXPECT_EQ(s.status, session_status::pending);
    EXPECT_FALSE(s.payment_url.empty());
    EXPECT_FALSE(s.replayed);
    EXPECT_EQ(sb_->stats().created, 1u);
}

TEST_F(client_test, future_with_owned_threads) {
    start();
    auto p = params();
    p.threads = 2;
    client c(p);
    std::vector<std::future<session>> fs;
    for (int i = 0; i < 10; ++i)
        fs.push_back(c.async_create_session(valid_request("f" + std::to_string(i) + "@example.com"), net::use_future));
    std::set<std::string> tokens;
    for (auto& f : fs) tokens.insert(f.get().token);
    EXPECT_EQ(tokens.size(), 10u);
    EXPECT_EQ(sb_->stats().created, 10u);
}

TEST_F(client_test, future_carries_the_error_as_an_exception) {
    start();
    client c(params());
    auto bad = valid_request("not-an-email");
    auto f = c.async_create_session(bad, net::use_future);
    try {
        f.get();
        FAIL() << "no exception";
    } catch (const boost::system::system_error& e) {
        EXPECT_EQ(e.code(), errc::validation_failed);
    }
}

TEST_F(client_test, coroutine_and_deferred) {
    start();
    net::io_context ioc;
    client c(ioc, params());
    session a, b;
    error_code failure;
    net::co_spawn(
        ioc,
        [&]() -> net::awaitable<void> {
            // Named requests, not temporaries: GCC 12 mishandles temporaries that live across
            // a co_await in one full-expression.
            const auto r1 = valid_request("co1@example.com");
            a = co_await c.async_create_session(r1, net::use_awaitable);
            const auto r2 = valid_request("co2@example.com");
            auto op = c.async_create_session(r2, net::deferred);
            b = co_await std::move(op)(net::use_awaitable);
            const auto r3 = valid_request("bad");
            auto [ec, s] = co_await c.async_create_session(r3, net::as_tuple(net::use_awaitable));
            failure = ec;
            co_await c.async_shutdown(0ms, net::use_awaitable);
        },
        [](std::exception_ptr e) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& x) {
                    ADD_FAILURE() << x.what();
                }
            }
        });
    ioc.run_for(20s);
    EXPECT_EQ(a.token.rfind("ps_", 0), 0u);
    EXPECT_EQ(b.token.rfind("ps_", 0), 0u);
    EXPECT_NE(a.token, b.token);
    EXPECT_EQ(failure, errc::validation_failed);
}

TEST_F(client_test, cancel_after_with_every_token_kind) {
    sandbox_params sp;
    sp.faults.latency.every_nth = 1;
    sp.faults.latency_min = 2000ms;
    start(sp);
    auto p = params();
    p.idempotency = idempotency_policy::disabled;
    net::io_context ioc;
    client c(ioc, p);
    std::atomic<int> cancelled{0};
    // callback
    c.async_create_session(valid_request("c1@example.com"), catalyst::cancel_after(50ms, [&](error_code ec, session) {
                               EXPECT_EQ(ec, errc::cancelled);
                               ++cancelled;
                           }));
    // coroutine, and deferred through cancel_after
    net::co_spawn(
        ioc,
        [&]() -> net::awaitable<void> {
            const auto r2 = valid_request("c2@example.com");
            auto [ec, s] = co_await c.async_create_session(r2, catalyst::cancel_after(50ms, net::as_tuple(net::use_awaitable)));
            EXPECT_EQ(ec, errc::cancelled);
            ++cancelled;
            const auto r3 = valid_request("c3@example.com");
            auto op = c.async_create_session(r3, catalyst::cancel_after(50ms, net::deferred));
            auto [ec2, s2] = co_await std::move(op)(net::as_tuple(net::use_awaitable));
            EXPECT_EQ(ec2, errc::cancelled);
            ++cancelled;
        },
        net::detached);
    auto work = net::make_work_guard(ioc);
    std::thread t([&] { ioc.run_for(20s); });
    // future
    auto f = c.async_create_session(valid_request("c4@example.com"), catalyst::cancel_after(50ms, net::use_future));
    try {
        f.get();
        ADD_FAILURE() << "not cancelled";
    } catch (const boost::system::system_error& e) {
        EXPECT_EQ(e.code(), errc::cancelled);
        ++cancelled;
    }
    for (int i = 0; i < 400 && cancelled < 4; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_EQ(cancelled.load(), 4);
    std::promise<void> down;
    c.async_shutdown(0ms, [&](error_code) { down.set_value(); });
    EXPECT_EQ(down.get_future().wait_for(20s), std::future_status::ready);
    work.reset();
    t.join();
    // Each cancelled exchange closed its connection: nothing in flight is left behind.
    const auto m = c.metrics();
    EXPECT_EQ(m.in_flight, 0u);
    EXPECT_EQ(m.failures_by_errc[static_cast<int>(errc::cancelled)], 4u);
    EXPECT_EQ(m.connections_opened, m.connections_closed);
}

TEST_F(client_test, cancel_after_that_does_not_fire) {
    start();
    client c(params());
    auto s = c.async_create_session(valid_request(), catalyst::cancel_after(10s, net::use_future)).get();
    EXPECT_EQ(s.token.rfind("ps_", 0), 0u);
}

TEST_F(client_test, handler_runs_on_a_bound_executor) {
    start();
    net::io_context other;  // declared first: it must outlive the client's threads
    client c(params());
    std::thread::id ran_on;
    c.async_create_session(valid_request(), net::bind_executor(other, [&](error_code ec, session) {
                               EXPECT_FALSE(ec) << ec.message();
                               ran_on = std::this_thread::get_id();
                           }));
    // No work guard: the pending operation itself keeps `other` busy until it completes.
    other.run_for(20s);
    EXPECT_EQ(ran_on, std::this_thread::get_id());
}

// --- volume ----------------------------------------------------------------------------------

TEST_F(client_test, thousands_of_sessions_through_a_small_pool) {
    start();
    auto p = params();
    p.max_connections = 8;
    p.threads = 1;
    client c(p);
    auto out = run_many(c, 5000);
    std::set<std::string> tokens;
    for (const auto& o : out) {
        ASSERT_FALSE(o.ec) << o.ec.message() << " " << o.d.to_string();
        tokens.insert(o.s.token);
    }
    EXPECT_EQ(tokens.size(), 5000u);
    const auto st = sb_->stats();
    EXPECT_EQ(st.created, 5000u);
    EXPECT_LE(st.connections, 8u);
    const auto m = c.metrics();
    EXPECT_EQ(m.requests, 5000u);
    EXPECT_EQ(m.successes, 5000u);
    EXPECT_LE(m.connections_opened, 8u);
    EXPECT_EQ(m.latency_count, 5000u);
    EXPECT_EQ(m.in_flight, 0u);
}

TEST_F(client_test, tls_sessions_are_resumed_when_reconnecting) {
    sandbox_params sp;
    sp.faults.connection_close.every_nth = 1;
    start(sp);
    auto p = params();
    p.max_connections = 1;
    p.threads = 1;
    client c(p);
    auto out = run_many(c, 6);
    for (const auto& o : out) EXPECT_FALSE(o.ec) << o.ec.message();
    const auto m = c.metrics();
    EXPECT_EQ(m.connections_opened, 6u);
    EXPECT_GE(m.tls_handshakes_full, 1u);
    EXPECT_GE(m.tls_handshakes_resumed, 4u);
}

TEST_F(client_test, server_closing_after_every_third_response) {
    sandbox_params sp;
    sp.faults.connection_close.every_nth = 3;
    start(sp);
    auto p = params();
    p.max_connections = 4;
    p.threads = 1;
    client c(p);
    auto out = run_many(c, 300);
    EXPECT_EQ(count(out, {}), 300u);
    EXPECT_EQ(sb_->stats().created, 300u);
    EXPECT_GE(c.metrics().connections_opened, 100u);
}

// --- faults ----------------------------------------------------------------------------------

struct fault_case {
    const char* name;
    void (*apply)(fault_params&);
    bool all_succeed;   // else: the documented error for the faulted ones
    errc error;
};

class client_fault_test : public client_test, public ::testing::WithParamInterface<fault_case> {};

TEST_P(client_fault_test, ends_in_success_or_the_documented_error_without_duplicates) {
    const auto& fc = GetParam();
    sandbox_params sp;
    fc.apply(sp.faults);
    start(sp);
    auto p = params();
    p.max_connections = 4;
    p.threads = 1;
    p.attempt_timeout = 300ms;
    // A fault on every 3rd request hits a given attempt with a chance of about 1 in 3: with 6
    // attempts, one call in 60 lost all of them in about 1 run of 60 (seen in CI under ASan,
    // and on the code before the TLS stream alike); with 12, about 1 run in 10 000.
    p.retry.max_attempts = 12;
    p.retry.budget_ratio = 0;  // this test is about each fault, not about the budget
    client c(p);
    const std::size_t n = 60;
    auto out = run_many(c, n);
    std::size_t ok = count(out, {});
    if (fc.all_succeed) {
        for (const auto& o : out) EXPECT_FALSE(o.ec) << fc.name << ": " << o.ec.message() << " " << o.d.to_string();
    } else {
        EXPECT_GT(n - ok, 0u) << fc.name;
        for (const auto& o : out) {
            if (o.ec) {
                EXPECT_EQ(o.ec, fc.error) << fc.name << ": " << o.d.to_string();
            }
        }
    }
    // No session created twice: one ledger entry per idempotency key, none without one.
    const auto ledger = sb_->ledger();
    std::set<std::string> keys;
    for (const auto& e : ledger) {
        EXPECT_FALSE(e.idempotency_key.empty());
        EXPECT_TRUE(keys.insert(e.idempotency_key).second) << fc.name << ": duplicate for one key";
    }
    EXPECT_LE(ledger.size(), n);
    EXPECT_GE(ledger.size(), ok);
    const auto m = c.metrics();
    EXPECT_EQ(m.successes + m.failures, n);
    EXPECT_EQ(m.in_flight, 0u);
}

INSTANTIATE_TEST_SUITE_P(
    faults, client_fault_test,
    ::testing::Values(
        fault_case{"server_error_503", [](fault_params& f) { f.server_error.every_nth = 3; }, true, {}},
        fault_case{"server_error_500_html",
                   [](fault_params& f) {
                       f.server_error.every_nth = 3;
                       f.server_error_status = 500;
                       f.server_error_body = fault_body::html;
                   },
                   true, {}},
        fault_case{"server_error_502_empty",
                   [](fault_params& f) {
                       f.server_error.every_nth = 3;
                       f.server_error_status = 502;
                       f.server_error_body = fault_body::empty;
                   },
                   true, {}},
        fault_case{"server_error_504_retry_after",
                   [](fault_params& f) {
                       f.server_error.every_nth = 3;
                       f.server_error_status = 504;
                       f.server_error_retry_after = 0;
                   },
                   true, {}},
        fault_case{"throttle", [](fault_params& f) {
                       f.throttle.every_nth = 4;
                       f.throttle_retry_after = 0;
                   }, true, {}},
        fault_case{"close_before_read", [](fault_params& f) { f.close_before_read.every_nth = 3; }, true, {}},
        fault_case{"close_after_read", [](fault_params& f) { f.close_after_read.every_nth = 3; }, true, {}},
        fault_case{"close_after_create", [](fault_params& f) { f.close_after_create.every_nth = 3; }, true, {}},
        fault_case{"reset_mid_response", [](fault_params& f) { f.reset_mid_response.every_nth = 3; }, true, {}},
        // An answer cut short may follow a created session: retried with the key (replayed),
        // never reported as a protocol error.
        fault_case{"truncated_body", [](fault_params& f) { f.truncated_body.every_nth = 3; }, true, {}},
        fault_case{"garbage_body", [](fault_params& f) { f.garbage_body.every_nth = 3; }, false, errc::protocol_error},
        fault_case{"trickle", [](fault_params& f) { f.trickle.every_nth = 10; }, true, {}},
        fault_case{"connection_close", [](fault_params& f) { f.connection_close.every_nth = 2; }, true, {}},
        fault_case{"latency_over_attempt_timeout",
                   [](fault_params& f) {
                       f.latency.every_nth = 5;
                       f.latency_min = 1000ms;
                   },
                   true, {}},
        fault_case{"short_server_idle_timeout", [](fault_params& f) { f.idle_timeout = 1ms; }, true, {}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(client_test, ambiguous_failure_without_a_key_is_outcome_unknown) {
    sandbox_params sp;
    sp.faults.close_after_create.every_nth = 1;
    start(sp);
    auto p = params();
    p.idempotency = idempotency_policy::disabled;
    client c(p);
    diagnostics d;
    auto f = c.async_create_session(valid_request(), request_options{}, d, net::use_future);
    try {
        f.get();
        FAIL();
    } catch (const boost::system::system_error& e) {
        EXPECT_EQ(e.code(), errc::outcome_unknown);
    }
    EXPECT_EQ(d.attempts, 1u);
    EXPECT_FALSE(d.no_retry_reason.empty());
    EXPECT_EQ(sb_->stats().created, 1u);  // exactly the one the client could not confirm
}

TEST_F(client_test, retries_keep_the_callers_key_and_are_recorded) {
    sandbox_params sp;
    sp.faults.server_error.every_nth = 1;
    sp.faults.server_error_status = 503;
    start(sp);
    auto p = params();
    p.retry.max_attempts = 3;
    client c(p);
    request_options o;
    o.idempotency_key = "batch-line-42";
    diagnostics d;
    auto f = c.async_create_session(valid_request(), o, d, net::use_future);
    EXPECT_THROW(f.get(), boost::system::system_error);
    EXPECT_EQ(d.attempts, 3u);
    EXPECT_EQ(d.http_status, 503u);
    ASSERT_EQ(d.history.size(), 3u);
    EXPECT_EQ(d.history[0].reason, retry_reason::server_error);
    EXPECT_EQ(d.no_retry_reason, "max attempts reached");
    EXPECT_EQ(c.metrics().retries_by_reason[static_cast<int>(retry_reason::server_error)], 2u);

    // Now let it through: the same key creates once, and a repeat is a replay.
    sb_->set_faults({});
    auto s1 = c.async_create_session(valid_request(), o, net::use_future).get();
    auto s2 = c.async_create_session(valid_request(), o, net::use_future).get();
    EXPECT_EQ(s1.token, s2.token);
    EXPECT_TRUE(s2.replayed);
    const auto ledger = sb_->ledger();
    ASSERT_EQ(ledger.size(), 1u);
    EXPECT_EQ(ledger[0].idempotency_key, "batch-line-42");
}

TEST_F(client_test, api_errors_map_to_codes_with_diagnostics) {
    start();
    client c(params());
    // 409 duplicate_lead from the reject campaign, on the second lead with one email.
    auto r = valid_request("dup@example.com");
    r.campaign_id = "11111111-1111-4111-8111-111111111111";
    c.async_create_session(r, net::use_future).get();
    diagnostics d;
    auto f = c.async_create_session(r, request_options{}, d, net::use_future);
    try {
        f.get();
        FAIL();
    } catch (const boost::system::system_error& e) {
        EXPECT_EQ(e.code(), errc::duplicate_lead);
    }
    EXPECT_EQ(d.http_status, 409u);
    EXPECT_EQ(d.api_code, "duplicate_lead");
    EXPECT_EQ(d.attempts, 1u);
    EXPECT_FALSE(d.detail.empty());

    // 200 reuse.
    auto u = valid_request("reuse@example.com");
    u.campaign_id = "22222222-2222-4222-8222-222222222222";
    auto first = c.async_create_session(u, net::use_future).get();
    auto again = c.async_create_session(u, net::use_future).get();
    EXPECT_TRUE(again.reused);
    EXPECT_EQ(first.token, again.token);

    // 404 unknown campaign; 401 bad key.
    auto unknown = valid_request();
    unknown.campaign_id = "33333333-3333-4333-8333-333333333333";
    diagnostics d404;
    auto f404 = c.async_create_session(unknown, request_options{}, d404, net::use_future);
    EXPECT_THROW(f404.get(), boost::system::system_error);
    EXPECT_EQ(d404.http_status, 404u);

    auto p = params();
    p.api_key = "rk_wrong_key_0000";
    client bad(p);
    auto f401 = bad.async_create_session(valid_request(), net::use_future);
    try {
        f401.get();
        FAIL();
    } catch (const boost::system::system_error& e) {
        EXPECT_EQ(e.code(), errc::unauthorized);
    }
}

// --- timeouts and cancellation ---------------------------------------------------------------

TEST_F(client_test, attempt_and_overall_timeouts) {
    sandbox_params sp;
    sp.faults.latency.every_nth = 1;
    sp.faults.latency_min = 1500ms;
    start(sp);
    auto p = params();
    p.attempt_timeout = 100ms;
    p.retry.max_attempts = 2;
    client c(p);
    diagnostics d;
    auto f = c.async_create_session(valid_request(), request_options{}, d, net::use_future);
    try {
        f.get();
        FAIL();
    } catch (const boost::system::system_error& e) {
        EXPECT_EQ(e.code(), errc::timeout);
    }
    EXPECT_EQ(d.attempts, 2u);
    EXPECT_EQ(d.history.at(0).reason, retry_reason::attempt_timeout);

    request_options o;
    o.deadline = 250ms;
    auto p2 = params();
    p2.attempt_timeout = 10s;
    client c2(p2);
    diagnostics d2;
    auto f2 = c2.async_create_session(valid_request(), o, d2, net::use_future);
    try {
        f2.get();
        FAIL();
    } catch (const boost::system::system_error& e) {
        EXPECT_EQ(e.code(), errc::timeout);
    }
    EXPECT_EQ(d2.attempts, 1u);
    const auto m = c2.metrics();
    EXPECT_EQ(m.connections_opened, m.connections_closed);  // the timed-out connection was closed
}

TEST_F(client_test, tls_handshake_timeout_against_a_silent_server) {
    start();  // only for the fixture; the target is a listener that never speaks
    silent_listener server;
    auto p = params();
    p.base_url = server.base_url();
    p.tls_handshake_timeout = 100ms;
    p.retry.max_attempts = 2;
    client c(p);
    diagnostics d;
    auto f = c.async_create_session(valid_request(), request_options{}, d, net::use_future);
    EXPECT_THROW(f.get(), boost::system::system_error);
    EXPECT_EQ(d.attempts, 2u);
    EXPECT_NE(d.detail.find("timed out"), std::string::npos) << d.detail;
}

TEST_F(client_test, connect_failure_is_retried_then_reported) {
    start();
    unsigned short port;
    {
        net::io_context tmp;
        net::ip::tcp::acceptor a(tmp, {net::ip::make_address("127.0.0.1"), 0});
        port = a.local_endpoint().port();
    }
    auto p = params();
    p.base_url = "https://127.0.0.1:" + std::to_string(port) + "/api/v1";
    p.retry.max_attempts = 3;
    client c(p);
    diagnostics d;
    auto f = c.async_create_session(valid_request(), request_options{}, d, net::use_future);
    try {
        f.get();
        FAIL();
    } catch (const boost::system::system_error& e) {
        EXPECT_EQ(e.code(), errc::connect_failed);
    }
    EXPECT_EQ(d.attempts, 3u);
    EXPECT_EQ(d.history.at(0).reason, retry_reason::connect_failed);
}

TEST_F(client_test, cancellation_mid_flight_and_while_queued) {
    sandbox_params sp;
    sp.faults.latency.every_nth = 1;
    sp.faults.latency_min = 800ms;
    start(sp);
    auto p = params();
    p.max_connections = 1;
    net::io_context ioc;
    client c(ioc, p);
    net::cancellation_signal in_flight, queued;
    error_code e1, e2;
    int done = 0;
    c.async_create_session(valid_request("a@example.com"), net::bind_cancellation_slot(in_flight.slot(), [&](error_code ec, session) {
                               e1 = ec;
                               ++done;
                           }));
    c.async_create_session(valid_request("b@example.com"), net::bind_cancellation_slot(queued.slot(), [&](error_code ec, session) {
                               e2 = ec;
                               ++done;
                           }));
    net::steady_timer t1(ioc, 50ms), t2(ioc, 150ms);
    t1.async_wait([&](error_code) { queued.emit(net::cancellation_type::terminal); });
    t2.async_wait([&](error_code) { in_flight.emit(net::cancellation_type::terminal); });
    // A third request goes through the pool after both cancellations.
    error_code e3 = errc::timeout;
    net::steady_timer t3(ioc, 300ms);
    t3.async_wait([&](error_code) {
        sb_->set_faults({});
        c.async_create_session(valid_request("c@example.com"), [&](error_code ec, session) {
            e3 = ec;
            ++done;
            c.async_shutdown(0ms, [](error_code) {});
        });
    });
    ioc.run_for(20s);
    EXPECT_EQ(done, 3);
    EXPECT_EQ(e1, errc::cancelled);
    EXPECT_EQ(e2, errc::cancelled);
    EXPECT_FALSE(e3) << e3.message();
    const auto m = c.metrics();
    EXPECT_EQ(m.connections_opened, 2u);  // the cancelled exchange's connection was closed
    EXPECT_EQ(m.connections_closed, 2u);
}

TEST_F(client_test, total_cancellation_is_refused_once_sent) {
    sandbox_params sp;
    sp.faults.latency.every_nth = 1;
    sp.faults.latency_min = 300ms;
    start(sp);
    net::io_context ioc;
    client c(ioc, params());
    net::cancellation_signal sig;
    error_code got = errc::timeout;
    c.async_create_session(valid_request(), net::bind_cancellation_slot(sig.slot(), [&](error_code ec, session) {
                               got = ec;
                               c.async_shutdown(0ms, [](error_code) {});
                           }));
    // Emitted once the sandbox has the request (`total` is honoured while connecting: a fixed
    // delay would race the connection under a slow sanitizer).
    net::steady_timer t(ioc);
    std::function<void()> when_sent = [&] {
        t.expires_after(5ms);
        t.async_wait([&](error_code) {
            if (sb_->stats().requests == 0) return when_sent();
            sig.emit(net::cancellation_type::total);
        });
    };
    when_sent();
    ioc.run_for(20s);
    EXPECT_FALSE(got) << got.message();
}

// `total` while the connection is still being opened (nothing sent): the call is cancelled at
// once instead of waiting for the handshake to time out.
TEST_F(client_test, total_cancellation_is_honoured_while_connecting) {
    start();  // only for the fixture; the target is a listener that never speaks TLS
    silent_listener server;
    auto p = params();
    p.base_url = server.base_url();
    p.tls_handshake_timeout = 10s;
    net::io_context ioc;
    client c(ioc, p);
    net::cancellation_signal sig;
    error_code got;
    bool done = false;
    diagnostics d;
    const auto start_at = std::chrono::steady_clock::now();
    c.async_create_session(valid_request(), request_options{}, d,
                           net::bind_cancellation_slot(sig.slot(), [&](error_code ec, session) {
                               got = ec;
                               done = true;
                           }));
    net::steady_timer t(ioc, 200ms);
    t.async_wait([&](error_code) { sig.emit(net::cancellation_type::total); });
    for (int i = 0; i < 400 && !done; ++i) ioc.run_for(25ms);
    EXPECT_TRUE(done);
    EXPECT_EQ(got, errc::cancelled) << d.to_string();
    EXPECT_LT(std::chrono::steady_clock::now() - start_at, 5s);
}

// --- TLS -------------------------------------------------------------------------------------

TEST_F(client_test, unknown_ca_is_tls_failed_and_never_retried) {
    start();
    auto p = params();
    p.tls.ca_pem.clear();  // the system store does not know the sandbox's CA
    client c(p);
    diagnostics d;
    auto f = c.async_create_session(valid_request(), request_options{}, d, net::use_future);
    try {
        f.get();
        FAIL();
    } catch (const boost::system::system_error& e) {
        EXPECT_EQ(e.code(), errc::tls_failed);
    }
    EXPECT_EQ(d.attempts, 1u);
    EXPECT_NE(d.detail.find("certificate"), std::string::npos) << d.detail;
    EXPECT_EQ(sb_->stats().requests, 0u);
}

TEST_F(client_test, wrong_host_name_is_tls_failed_and_never_retried) {
    start();
    auto p = params();
    p.tls.server_name = "api.catalystpay.com";
    client c(p);
    diagnostics d;
    auto f = c.async_create_session(valid_request(), request_options{}, d, net::use_future);
    try {
        f.get();
        FAIL();
    } catch (const boost::system::system_error& e) {
        EXPECT_EQ(e.code(), errc::tls_failed);
    }
    EXPECT_EQ(d.attempts, 1u);
    EXPECT_EQ(c.metrics().retries, 0u);
}

TEST_F(client_test, localhost_name_is_verified_and_resolved) {
    start();
    auto p = params();
    p.base_url = "https://localhost:" + std::to_string(sb_->port()) + "/api/v1";
    client c(p);
    diagnostics d;
    auto f = c.async_create_session(valid_request(), request_options{}, d, net::use_future);
    // localhost may resolve to ::1 first where the sandbox only listens on 127.0.0.1:
    // every address is tried in turn.
    EXPECT_EQ(f.get().token.rfind("ps_", 0), 0u);
}

// --- backpressure, shutdown, configuration ---------------------------------------------------

TEST_F(client_test, full_queue_fails_fast) {
    sandbox_params sp;
    sp.faults.latency.every_nth = 1;
    sp.faults.latency_min = 300ms;
    start(sp);
    auto p = params();
    p.max_connections = 1;
    p.queue_limit = 2;
    p.threads = 1;
    client c(p);
    auto out = run_many(c, 8);
    EXPECT_EQ(count(out, errc::queue_full), 5u);  // 1 in flight, 2 waiting, 5 refused
    EXPECT_EQ(count(out, {}), 3u);
    EXPECT_EQ(c.metrics().failures_by_errc[static_cast<int>(errc::queue_full)], 5u);
}

TEST_F(client_test, graceful_shutdown_lets_in_flight_requests_finish) {
    sandbox_params sp;
    sp.faults.latency.every_nth = 1;
    sp.faults.latency_min = 200ms;
    start(sp);
    auto p = params();
    p.threads = 1;
    client c(p);
    std::vector<std::future<session>> fs;
    for (int i = 0; i < 5; ++i) fs.push_back(c.async_create_session(valid_request("g" + std::to_string(i) + "@example.com"), net::use_future));
    std::this_thread::sleep_for(50ms);
    auto down = c.async_shutdown(5s, net::use_future);
    for (auto& f : fs) EXPECT_EQ(f.get().token.rfind("ps_", 0), 0u);
    down.get();
    auto late = c.async_create_session(valid_request(), net::use_future);
    try {
        late.get();
        FAIL();
    } catch (const boost::system::system_error& e) {
        EXPECT_EQ(e.code(), errc::shutting_down);
    }
    const auto m = c.metrics();
    EXPECT_EQ(m.connections_opened, m.connections_closed);
}

TEST_F(client_test, shutdown_grace_expiry_cancels_in_flight) {
    sandbox_params sp;
    sp.faults.latency.every_nth = 1;
    sp.faults.latency_min = 2000ms;
    start(sp);
    auto p = params();
    p.threads = 1;
    p.max_connections = 2;
    client c(p);
    std::vector<std::future<session>> fs;
    for (int i = 0; i < 4; ++i) fs.push_back(c.async_create_session(valid_request("h" + std::to_string(i) + "@example.com"), net::use_future));
    std::this_thread::sleep_for(50ms);
    c.async_shutdown(100ms, net::use_future).get();
    for (auto& f : fs) {
        try {
            f.get();
            ADD_FAILURE() << "completed despite the shutdown";
        } catch (const boost::system::system_error& e) {
            EXPECT_EQ(e.code(), errc::shutting_down);
        }
    }
}

TEST_F(client_test, destructor_with_requests_in_flight_completes_them) {
    sandbox_params sp;
    sp.faults.latency.every_nth = 1;
    sp.faults.latency_min = 2000ms;
    start(sp);
    std::atomic<int> completed{0};
    {
        auto p = params();
        p.threads = 2;
        client c(p);
        for (int i = 0; i < 6; ++i)
            c.async_create_session(valid_request("d" + std::to_string(i) + "@example.com"), [&](error_code ec, session) {
                EXPECT_EQ(ec, errc::shutting_down);
                ++completed;
            });
        std::this_thread::sleep_for(50ms);
    }
    EXPECT_EQ(completed.load(), 6);
}

TEST_F(client_test, bad_configuration_is_refused_naming_the_field) {
    start();
    for (const char* url : {"not a url", "http://127.0.0.1/api/v1", "https:///api/v1"}) {
        auto p = params();
        p.base_url = url;
        try {
            client c(p);
            ADD_FAILURE() << url;
        } catch (const config_error& e) {
            EXPECT_EQ(e.key(), "base_url") << url;
        }
    }
    auto p = params();
    p.api_key = "rk_abc\r\nX-Evil: 1";
    EXPECT_THROW(client c(p), config_error);
    auto q = params();
    q.tls.ca_pem = "not a certificate";
    EXPECT_THROW(client c(q), config_error);
}

TEST_F(client_test, invalid_requests_never_reach_the_wire) {
    start();
    client c(params());
    auto r = valid_request("nope");
    r.lead.country = "XX";
    diagnostics d;
    auto f = c.async_create_session(r, request_options{}, d, net::use_future);
    EXPECT_THROW(f.get(), boost::system::system_error);
    EXPECT_EQ(d.attempts, 0u);
    std::set<std::string> fields;
    for (const auto& e : d.fields) fields.insert(e.field);
    EXPECT_TRUE(fields.count("lead.email"));
    EXPECT_TRUE(fields.count("lead.country"));
    request_options bad_key;
    bad_key.idempotency_key = "has space";
    diagnostics d2;
    auto f2 = c.async_create_session(valid_request(), bad_key, d2, net::use_future);
    EXPECT_THROW(f2.get(), boost::system::system_error);
    ASSERT_EQ(d2.fields.size(), 1u);
    EXPECT_EQ(d2.fields[0].field, "idempotency_key");
    EXPECT_EQ(sb_->stats().requests, 0u);
}

TEST_F(client_test, logger_never_sees_secrets_or_personal_data) {
    sandbox_params sp;
    sp.faults.server_error.every_nth = 2;
    sp.faults.close_before_read.every_nth = 3;
    start(sp);
    auto p = params();
    p.threads = 1;
    p.max_connections = 2;
    client c(p);
    std::mutex m;
    std::vector<std::string> lines;
    c.set_logger([&](log_level, std::string_view msg) {
        std::lock_guard lock(m);
        lines.emplace_back(msg);
    });
    request_options o;
    o.idempotency_key = "secret-key-0123456789";
    auto r = valid_request("private.person@example.com");
    r.lead.first_name = "Zebediah";
    r.lead.last_name = "Quackenbush";
    r.lead.phone = "+49301234567";
    for (int i = 0; i < 10; ++i) {
        o.idempotency_key = "secret-key-" + std::to_string(i) + "-0123456789";
        try {
            c.async_create_session(r, o, net::use_future).get();
        } catch (const boost::system::system_error&) {
        }
    }
    std::lock_guard lock(m);
    EXPECT_FALSE(lines.empty());
    for (const auto& l : lines) {
        for (const char* secret : {"rk_test_123", "secret-key", "private.person", "Zebediah", "Quackenbush", "+4930"})
            EXPECT_EQ(l.find(secret), std::string::npos) << l;
    }
}

TEST_F(client_test, metrics_render_after_real_traffic) {
    start();
    client c(params());
    c.async_create_session(valid_request(), net::use_future).get();
    const auto text = c.metrics().to_prometheus();
    EXPECT_NE(text.find("catalyst_client_successes_total 1\n"), std::string::npos) << text;
    EXPECT_NE(text.find("catalyst_client_connections_opened_total 1\n"), std::string::npos) << text;
    EXPECT_NE(text.find("catalyst_client_request_duration_seconds_count 1\n"), std::string::npos) << text;
}

TEST_F(client_test, pacing_spaces_requests_out) {
    start();
    auto p = params();
    p.threads = 1;
    p.rate.rate_per_second = 50;
    p.rate.burst = 1;
    client c(p);
    const auto t0 = std::chrono::steady_clock::now();
    auto out = run_many(c, 11);
    const auto elapsed = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(count(out, {}), 11u);
    // 1 at once, then 10 at 20 ms intervals: a lower bound only (never an upper one).
    EXPECT_GE(elapsed, 190ms);
}

TEST_F(client_test, cancellation_emitted_right_after_the_call_is_honoured) {
    start();
    net::io_context ioc;
    client c(ioc, params());
    net::cancellation_signal sig;
    error_code got;
    int calls = 0;
    net::post(ioc, [&] {
        c.async_create_session(valid_request(), net::bind_cancellation_slot(sig.slot(), [&](error_code ec, session) {
                                   got = ec;
                                   ++calls;
                                   c.async_shutdown(0ms, [](error_code) {});
                               }));
        sig.emit(net::cancellation_type::terminal);
    });
    ioc.run_for(20s);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(got, errc::cancelled);
    EXPECT_EQ(sb_->stats().requests, 0u);
}

TEST_F(client_test, calls_and_cancellations_from_many_threads) {
    sandbox_params sp;
    sp.threads = 2;
    start(sp);
    auto p = params();
    p.threads = 2;
    p.max_connections = 8;
    client c(p);
    constexpr int per_thread = 150;
    constexpr int n_threads = 4;
    std::vector<std::atomic<int>> completions(per_thread * n_threads);
    std::atomic<int> ok{0}, cancelled{0}, other{0}, left{per_thread * n_threads};
    std::promise<void> all;
    std::shared_future<void> all_done = all.get_future().share();
    std::vector<std::thread> callers;
    for (int t = 0; t < n_threads; ++t) {
        callers.emplace_back([&, t] {
            std::vector<std::unique_ptr<net::cancellation_signal>> signals;
            for (int i = 0; i < per_thread; ++i) {
                const int id = t * per_thread + i;
                auto req = valid_request("mt" + std::to_string(id) + "@example.com");
                auto handler = [&, id](error_code ec, session) {
                    completions[id].fetch_add(1);
                    (!ec ? ok : ec == errc::cancelled ? cancelled : other).fetch_add(1);
                    if (left.fetch_sub(1) == 1) all.set_value();
                };
                if (i % 3 == 0) {
                    signals.push_back(std::make_unique<net::cancellation_signal>());
                    c.async_create_session(req, net::bind_cancellation_slot(signals.back()->slot(), handler));
                    signals.back()->emit(net::cancellation_type::terminal);  // from this foreign thread
                } else {
                    c.async_create_session(req, handler);
                }
            }
            // The signals must outlive their operations.
            all_done.wait_for(60s);
        });
    }
    for (auto& th : callers) th.join();
    ASSERT_EQ(left.load(), 0);
    for (auto& n : completions) EXPECT_EQ(n.load(), 1);
    EXPECT_EQ(other.load(), 0);
    EXPECT_EQ(cancelled.load(), per_thread * n_threads / 3);  // every cancelled call, none else
    // A call cancelled mid-flight may still have created its session; nothing else did.
    const auto created = sb_->stats().created;
    EXPECT_GE(created, static_cast<std::uint64_t>(ok.load()));
    EXPECT_LE(created, static_cast<std::uint64_t>(ok.load() + cancelled.load()));
}
