// The client against a hostile server and a careless embedder (issue 10), through the public
// API only:
//  - deadlines: whatever stage the server stalls or trickles at (TLS handshake, after the
//    request, mid-head, mid-body, one byte at a time), with pools of 1 and 64 connections,
//    every call completes by its deadline plus `slack()`, and the server's ledger shows no
//    request read after its call's deadline (plus the same slack);
//  - memory stays flat over many calls made from a foreign thread;
//  - a throwing logger or handler does not kill the process nor cost pool slots;
//  - concurrent async_shutdown calls all complete, once;
//  - no retry that risks a duplicate: without an idempotency key, a failure after the request
//    was sent is never retried and ends as outcome_unknown (429 and 503 are retried); with a
//    key, retries carry the same key;
//  - a server that closes idle keep-alive connections costs no call an error.
//
// Slack: a completion may come `slack()` after the call's deadline: 250 ms normally (timers,
// the completion's post, a loaded CI machine), 1 s under sanitizers. Sizes shrink under
// sanitizers or with CATALYST_HARDENING_QUICK=1 (as the fault matrix does under TSan).
#include "client_fixture.hpp"
#include "support/hostile_server.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <malloc.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CATALYST_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CATALYST_TEST_SANITIZED 1
#endif
#endif
#ifndef CATALYST_TEST_SANITIZED
#define CATALYST_TEST_SANITIZED 0
#endif
#if CATALYST_TEST_SANITIZED
// From <sanitizer/allocator_interface.h> (shipped with clang, not with every gcc).
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#endif

namespace net = boost::asio;
using namespace catalyst;
using namespace catalyst::test;
using namespace std::chrono_literals;
using boost::system::error_code;
using std::chrono::duration_cast;
using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

namespace {

constexpr bool sanitized = CATALYST_TEST_SANITIZED != 0;

bool quick() { return sanitized || std::getenv("CATALYST_HARDENING_QUICK") != nullptr; }

milliseconds slack() { return sanitized ? 1000ms : 250ms; }

hostile_reply act(hostile_action a) {
    hostile_reply r;
    r.action = a;
    return r;
}

long long ms(steady::duration d) { return duration_cast<milliseconds>(d).count(); }

// Calls made at once and their completions, each recorded with its time. Handlers may run on
// any thread and keep the tracker alive (a call that outlives a failed test finds it); `wait`
// is bounded.
class call_tracker : public std::enable_shared_from_this<call_tracker> {
public:
    struct call {
        steady::time_point start{}, deadline{}, done{};
        error_code ec;
        int completions = 0;
        std::string key;
    };

    explicit call_tracker(std::size_t n) : calls_(n) {}

    /// Starts call `i` on `c` with `opts` (its deadline taken from `opts.deadline`).
    void start(client& c, std::size_t i, const request_options& opts) {
        {
            std::lock_guard lock(mu_);
            calls_[i].start = steady::now();
            calls_[i].deadline = calls_[i].start + opts.deadline;
            calls_[i].key = opts.idempotency_key;
        }
        c.async_create_session(valid_request("lead" + std::to_string(i) + "@example.com"), opts,
                               [self = shared_from_this(), i](error_code ec, session) { self->complete(i, ec); });
    }

    void complete(std::size_t i, error_code ec) {
        std::lock_guard lock(mu_);
        auto& r = calls_[i];
        if (r.completions++ == 0) {
            r.done = steady::now();
            r.ec = ec;
            ++done_;
        }
        cv_.notify_all();
    }

    /// Waits until every call completed or `until`; returns how many completed.
    std::size_t wait(steady::time_point until) {
        std::unique_lock lock(mu_);
        cv_.wait_until(lock, until, [&] { return done_ == calls_.size(); });
        return done_;
    }

    std::vector<call> snapshot() const {
        std::lock_guard lock(mu_);
        return calls_;
    }

private:
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::vector<call> calls_;
    std::size_t done_ = 0;
};

// Waits (bounded) until `pred` holds; returns whether it did.
template <class Pred>
bool eventually(Pred pred, milliseconds limit = 5000ms) {
    const auto until = steady::now() + limit;
    while (!pred()) {
        if (steady::now() >= until) return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

// Bytes the allocator holds for live allocations (glibc's count, or the sanitizer's).
std::size_t live_heap_bytes() {
#if CATALYST_TEST_SANITIZED
    return __sanitizer_get_current_allocated_bytes();
#else
    return mallinfo2().uordblks;
#endif
}

// Resident set size of this process in bytes.
std::size_t rss_bytes() {
    std::FILE* f = std::fopen("/proc/self/statm", "r");
    if (!f) return 0;
    unsigned long size = 0, resident = 0;
    const int n = std::fscanf(f, "%lu %lu", &size, &resident);
    std::fclose(f);
    return n == 2 ? resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE)) : 0;
}

// --- deadlines under stalls ------------------------------------------------------------------

struct stall_case {
    const char* name;
    hostile_action action;  // stall_handshake: at accept; otherwise after the request was read
    std::size_t pool;
};

void PrintTo(const stall_case& c, std::ostream* os) { *os << c.name << ", pool " << c.pool; }

class stall_test : public ::testing::TestWithParam<stall_case> {};

TEST_P(stall_test, every_call_ends_by_its_deadline_and_nothing_is_written_after_it) {
    const auto& param = GetParam();
    hostile_options so;
    if (param.action == hostile_action::stall_handshake) {
        so.on_connect = [](std::size_t) { return hostile_action::stall_handshake; };
    } else {
        so.on_request = [a = param.action](const hostile_request&) { return act(a); };
    }
    so.trickle_interval = 20ms;  // 64 connections: ~3 200 one-byte TLS records a second, not a CPU hog
    hostile_server server(so);

    auto p = params_for(server);
    p.max_connections = param.pool;
    p.attempt_timeout = 300ms;
    p.retry.max_attempts = 4;  // retries (with a key) happen inside the deadline
    const milliseconds deadline = 1500ms;
    const std::size_t n = param.pool == 1 ? (quick() ? 20 : 50) : (quick() ? 64 : 200);

    auto tracker = std::make_shared<call_tracker>(n);
    auto& calls = *tracker;
    {
        client c(p);
        const auto first = steady::now();
        for (std::size_t i = 0; i < n; ++i) {
            request_options o;
            o.deadline = deadline;
            o.idempotency_key = "stall-" + std::to_string(i);
            calls.start(c, i, o);
        }
        const std::size_t done = calls.wait(first + deadline + slack() + 5s);
        EXPECT_EQ(done, n) << done << " of " << n << " calls completed within deadline + slack + 5 s";

        const auto snap = calls.snapshot();
        long long worst = 0;
        std::map<std::string, std::size_t> by_key;
        std::map<std::string, std::size_t> codes;
        for (std::size_t i = 0; i < n; ++i) {
            const auto& r = snap[i];
            by_key[r.key] = i;
            if (r.completions == 0) continue;
            worst = std::max(worst, ms(r.done - r.start));
            EXPECT_EQ(r.completions, 1) << "call " << i;
            codes[r.ec.message()]++;
            // Nothing answered: a timeout, or (once sent) a call whose outcome is unknown; a
            // stalled handshake may also end as a TLS or connect failure.
            const bool expected = r.ec == errc::timeout || r.ec == errc::outcome_unknown ||
                                  (param.action == hostile_action::stall_handshake &&
                                   (r.ec == errc::tls_failed || r.ec == errc::connect_failed));
            EXPECT_TRUE(expected) << "call " << i << ": " << r.ec.message();
        }
        std::string summary;
        for (const auto& [k, v] : codes) summary += k + ": " + std::to_string(v) + "; ";
        EXPECT_LE(worst, ms(deadline + slack())) << "slowest completion " << worst << " ms; " << summary;

        // The server read every request before the call's deadline (plus the slack: the
        // server notes the time it finished reading, a little after the client wrote).
        std::size_t late = 0;
        long long latest = -1'000'000;
        for (const auto& e : server.ledger()) {
            auto it = by_key.find(e.idempotency_key);
            ASSERT_NE(it, by_key.end()) << "request with an unknown key " << e.idempotency_key;
            const auto& r = snap[it->second];
            latest = std::max(latest, ms(e.read_at - r.deadline));
            if (e.read_at > r.deadline + slack()) ++late;
        }
        EXPECT_EQ(late, 0u) << late << " requests reached the server after their call's deadline + slack (latest "
                            << latest << " ms after)";
        std::printf("[ stall ] %s pool %zu: %zu/%zu done, slowest %lld ms (deadline %lld), %zu requests seen, %s\n",
                    param.name, param.pool, done, n, worst, static_cast<long long>(deadline.count()),
                    server.requests(), summary.c_str());
    }
}

INSTANTIATE_TEST_SUITE_P(
    stages, stall_test,
    ::testing::Values(stall_case{"handshake", hostile_action::stall_handshake, 1},
                      stall_case{"handshake", hostile_action::stall_handshake, 64},
                      stall_case{"after_request", hostile_action::stall_after_request, 1},
                      stall_case{"after_request", hostile_action::stall_after_request, 64},
                      stall_case{"partial_head", hostile_action::stall_partial_head, 1},
                      stall_case{"partial_head", hostile_action::stall_partial_head, 64},
                      stall_case{"in_body", hostile_action::stall_in_body, 1},
                      stall_case{"in_body", hostile_action::stall_in_body, 64},
                      stall_case{"trickle", hostile_action::trickle, 1},
                      stall_case{"trickle", hostile_action::trickle, 64}),
    [](const auto& info) { return std::string(info.param.name) + "_pool" + std::to_string(info.param.pool); });

// A cold start opens connections in turns: at most max_opening_connections handshakes at once
// (each holds some 40 KB of buffers while it lasts), the other calls wait in the queue and
// still end by their deadline.
TEST(opening_test, at_most_max_opening_connections_are_opened_at_once) {
    for (const std::size_t cap : {std::size_t{4}, std::size_t{64}}) {
        hostile_options so;
        so.on_connect = [](std::size_t) { return hostile_action::stall_handshake; };  // every handshake stalls
        hostile_server server(so);
        auto p = params_for(server);
        p.max_connections = 64;
        p.max_opening_connections = cap;
        constexpr std::size_t n = 20;
        const milliseconds deadline = 800ms;
        auto calls = std::make_shared<call_tracker>(n);
        client c(p);
        const auto first = steady::now();
        for (std::size_t i = 0; i < n; ++i) {
            request_options o;
            o.deadline = deadline;
            calls->start(c, i, o);
        }
        const std::size_t expected = std::min(cap, n);
        EXPECT_TRUE(eventually([&] { return server.connections_accepted() >= expected; }, 2000ms))
            << "cap " << cap << ": " << server.connections_accepted() << " connections accepted";
        std::this_thread::sleep_for(200ms);  // while every handshake stalls, no more may start
        if (steady::now() < first + deadline) {
            EXPECT_EQ(server.connections_accepted(), expected) << "cap " << cap;
        }
        EXPECT_EQ(calls->wait(first + deadline + slack() + 2s), n) << "cap " << cap;
        for (const auto& r : calls->snapshot()) {
            EXPECT_LE(ms(r.done - r.start), ms(deadline + slack())) << "cap " << cap << ": " << r.ec.message();
        }
    }
}

// A call resent after a stale keep-alive connection, then held back by pacing, keeps its
// deadline: it completes by it, and is not written after it. (Today the resend goes back to
// the queue without its deadline timer and waits for the next pacing token.)
TEST(client_adversity, a_resent_call_keeps_its_deadline) {
    hostile_options so;
    so.idle_close = 200ms;  // the connection is closed (FIN) long before the second call
    hostile_server server(so);
    auto p = params_for(server);
    p.max_connections = 1;
    p.rate.rate_per_second = 1;  // one token a second
    p.rate.burst = 1;
    auto tracker = std::make_shared<call_tracker>(2);
    auto& calls = *tracker;
    client c(p);
    request_options first;
    first.deadline = 5s;
    first.idempotency_key = "first";
    calls.start(c, 0, first);
    ASSERT_TRUE(eventually([&] { return calls.snapshot()[0].completions == 1; }));
    EXPECT_FALSE(calls.snapshot()[0].ec) << calls.snapshot()[0].ec.message();
    std::this_thread::sleep_for(1200ms);  // the server closed the idle connection; a token is back

    request_options second;
    second.deadline = 400ms;
    second.idempotency_key = "second";
    calls.start(c, 1, second);
    calls.wait(steady::now() + second.deadline + slack() + 3s);
    const auto r = calls.snapshot()[1];
    ASSERT_EQ(r.completions, 1) << "the call never completed";
    EXPECT_LE(ms(r.done - r.start), ms(second.deadline + slack())) << r.ec.message();
    std::size_t seen = 0;
    for (const auto& e : server.ledger()) {
        if (e.idempotency_key != "second") continue;
        ++seen;
        EXPECT_LE(ms(e.read_at - r.start), ms(second.deadline + slack())) << "written after the call's deadline";
    }
    std::printf("[ resend ] second call: %s after %lld ms; the server read it %zu times, accepted %zu connections\n",
                r.ec ? r.ec.message().c_str() : "success", ms(r.done - r.start), seen, server.connections_accepted());
}

// --- memory -----------------------------------------------------------------------------------

// Calls from a thread that is not the client's: the call objects must not pile up on the
// client's thread (today's free list grows by ~0.5 KB per call). Measured twice, after a
// warm-up and at the end: the live heap (the allocator's own count: glibc's, or the
// sanitizer's, whose quarantine and shadow make RSS meaningless) and, without sanitizers, RSS.
TEST(client_adversity, memory_stays_flat_over_calls_from_a_foreign_thread) {
    struct window_state {
        std::mutex mu;
        std::condition_variable cv;
        std::size_t in_flight = 0, completed = 0, failed = 0;
    };
    auto st = std::make_shared<window_state>();  // handlers keep it alive
    hostile_options so;
    so.keep_ledger = false;  // the server's own record would grow
    hostile_server server(so);
    auto p = params_for(server);
    p.max_connections = 8;
    client c(p);  // owns its thread; calls come from this (the main) thread

    const std::size_t total = sanitized ? 20'000 : quick() ? 40'000 : 200'000;
    const std::size_t warmup = total / 10;
    const std::size_t window = 64;
    const auto req = valid_request();
    const request_options opts;
    std::size_t heap_warm = 0, rss_warm = 0;
    const auto limit = steady::now() + 100s;
    bool stuck = false;
    auto wait_idle = [&] {
        std::unique_lock lock(st->mu);
        return st->cv.wait_until(lock, limit, [&] { return st->in_flight == 0; });
    };
    for (std::size_t i = 0; i < total && !stuck; ++i) {
        {
            std::unique_lock lock(st->mu);
            if (!st->cv.wait_until(lock, limit, [&] { return st->in_flight < window; })) stuck = true;
            ++st->in_flight;
        }
        c.async_create_session(req, opts, [st](error_code ec, session) {
            std::lock_guard lock(st->mu);
            --st->in_flight;
            ++st->completed;
            st->failed += ec ? 1 : 0;
            st->cv.notify_all();
        });
        if (i + 1 == warmup) {
            stuck = !wait_idle();
            heap_warm = live_heap_bytes();
            rss_warm = rss_bytes();
        }
    }
    stuck = !wait_idle() || stuck;
    const std::size_t heap_end = live_heap_bytes(), rss_end = rss_bytes();
    ASSERT_FALSE(stuck) << "calls stopped completing";
    {
        std::lock_guard lock(st->mu);
        EXPECT_EQ(st->completed, total);
        EXPECT_EQ(st->failed, 0u);
    }
    const double mb = 1024.0 * 1024.0;
    const double heap_growth = (static_cast<double>(heap_end) - static_cast<double>(heap_warm)) / mb;
    const double rss_growth = (static_cast<double>(rss_end) - static_cast<double>(rss_warm)) / mb;
    const double per_call = heap_growth * mb / static_cast<double>(total - warmup);
    std::printf("[ memory ] %zu calls: live heap %.1f -> %.1f MB (%+.1f MB, %.0f B/call), RSS %.1f -> %.1f MB (%+.1f MB)\n",
                total, static_cast<double>(heap_warm) / mb, static_cast<double>(heap_end) / mb, heap_growth, per_call,
                static_cast<double>(rss_warm) / mb, static_cast<double>(rss_end) / mb, rss_growth);
    ASSERT_GT(heap_warm, 0u) << "no allocator counter on this platform";
    EXPECT_LT(per_call, 64.0) << "the live heap grew by " << heap_growth << " MB over " << total - warmup << " calls";
    EXPECT_LT(heap_growth, 20.0);
    if (!sanitized) {
        EXPECT_LT(rss_growth, 20.0) << "resident memory grew by " << rss_growth << " MB";
    }
}

// --- exceptions from user code ----------------------------------------------------------------

// An io_context run by one thread that survives exceptions escaping run() (Asio's rule for a
// handler that throws on the caller's own io_context) and counts them.
class resilient_runner {
public:
    resilient_runner() : guard_(net::make_work_guard(ioc_)), thread_([this] {
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

void PrintTo(run_mode m, std::ostream* os) { *os << (m == run_mode::owned_thread ? "owned thread" : "executor"); }

class user_exception_test : public ::testing::TestWithParam<run_mode> {
protected:
    std::unique_ptr<client> make_client(const client_params& p) {
        if (GetParam() == run_mode::owned_thread) return std::make_unique<client>(p);
        runner_ = std::make_unique<resilient_runner>();
        return std::make_unique<client>(runner_->ioc(), p);
    }
    std::unique_ptr<resilient_runner> runner_;  // declared first: outlives the client
};

TEST_P(user_exception_test, a_throwing_handler_kills_nothing_and_costs_no_slot) {
    hostile_server server;
    auto p = params_for(server);
    p.max_connections = 2;
    std::atomic<int> thrown{0};  // declared first: outlives the client and its handlers
    auto c = make_client(p);
    for (int i = 0; i < 4; ++i) {
        c->async_create_session(valid_request("throw" + std::to_string(i) + "@example.com"), request_options{},
                                [&](error_code, session) {
                                    ++thrown;
                                    throw std::runtime_error("handler throws");
                                });
    }
    EXPECT_TRUE(eventually([&] { return thrown.load() == 4; })) << thrown.load() << " of 4 handlers ran";
    expect_calls_succeed(*c, 10, "after throwing handlers");
    const auto m = c->metrics();
    EXPECT_LE(m.connections_opened - m.connections_closed, p.max_connections);
    EXPECT_EQ(m.in_flight, 0u);
}

TEST_P(user_exception_test, a_throwing_logger_kills_nothing_and_costs_no_slot) {
    hostile_server server;
    auto p = params_for(server);
    p.max_connections = 2;
    p.max_requests_per_connection = 2;  // new connections (and their log lines) keep coming
    std::atomic<int> logged{0};  // declared first: the client may log while it is destroyed
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

INSTANTIATE_TEST_SUITE_P(modes, user_exception_test, ::testing::Values(run_mode::owned_thread, run_mode::executor),
                         [](const auto& info) {
                             return info.param == run_mode::owned_thread ? std::string("owned_thread")
                                                                         : std::string("executor");
                         });

// --- shutdown ---------------------------------------------------------------------------------

// One shutdown (the control) and several at once from several threads, with calls in flight.
class shutdown_test : public ::testing::TestWithParam<std::size_t> {};

TEST_P(shutdown_test, concurrent_shutdowns_all_complete_exactly_once) {
    hostile_options so;
    so.on_request = [](const hostile_request&) { return act(hostile_action::stall_after_request); };
    hostile_server server(so);
    auto p = params_for(server);
    p.max_connections = 4;
    constexpr std::size_t calls_n = 4;
    const std::size_t shutdowns = GetParam();
    auto tracker = std::make_shared<call_tracker>(calls_n);
    auto& calls = *tracker;
    auto done = std::make_shared<std::array<std::atomic<int>, 8>>();  // handlers keep it alive
    {
        client c(p);
        for (std::size_t i = 0; i < calls_n; ++i) {
            request_options o;
            o.deadline = 30s;
            calls.start(c, i, o);
        }
        ASSERT_TRUE(eventually([&] { return server.requests() == calls_n; })) << server.requests() << " requests seen";
        std::atomic<bool> go{false};
        std::vector<std::thread> threads;
        for (std::size_t i = 0; i < shutdowns; ++i) {
            threads.emplace_back([&, i] {
                while (!go.load()) std::this_thread::yield();
                c.async_shutdown(200ms, [done, i](error_code) { ++(*done)[i]; });
            });
        }
        go = true;
        for (auto& t : threads) t.join();
        EXPECT_TRUE(eventually([&] {
            for (std::size_t i = 0; i < shutdowns; ++i)
                if ((*done)[i].load() == 0) return false;
            return true;
        }, 5s)) << "some shutdown handlers never ran";
        EXPECT_EQ(calls.wait(steady::now() + 2s), calls_n);
    }
    for (std::size_t i = 0; i < shutdowns; ++i) EXPECT_EQ((*done)[i].load(), 1) << "shutdown " << i << " of " << shutdowns;
    for (const auto& r : calls.snapshot()) {
        EXPECT_EQ(r.completions, 1);
        EXPECT_EQ(r.ec, errc::shutting_down) << r.ec.message();
    }
}

INSTANTIATE_TEST_SUITE_P(callers, shutdown_test, ::testing::Values(std::size_t{1}, std::size_t{4}),
                         [](const auto& info) { return std::to_string(info.param) + "_at_once"; });

// --- duplicate risk ---------------------------------------------------------------------------

struct duplicate_case {
    const char* name;
    hostile_reply reply;
    std::string key;       // "" = no Idempotency-Key is sent (policy disabled)
    bool retried;          // expect max_attempts requests, else exactly one
    errc expected;
};

void PrintTo(const duplicate_case& c, std::ostream* os) { *os << c.name; }

class duplicate_test : public ::testing::TestWithParam<duplicate_case> {};

TEST_P(duplicate_test, retried_only_when_no_duplicate_can_follow) {
    const auto& param = GetParam();
    hostile_options so;
    so.on_request = [r = param.reply](const hostile_request&) { return r; };
    hostile_server server(so);
    auto p = params_for(server);
    p.idempotency = param.key.empty() ? idempotency_policy::disabled : idempotency_policy::caller_keys_only;
    p.attempt_timeout = 300ms;
    p.retry.max_attempts = 3;
    diagnostics d;  // declared first: outlives the call even when the test gives up on it
    client c(p);
    request_options o;
    o.idempotency_key = param.key;
    o.deadline = 10s;
    auto f = c.async_create_session(valid_request(), o, d, net::use_future);
    ASSERT_EQ(f.wait_for(15s), std::future_status::ready) << "the call never completed";
    error_code ec;
    try {
        f.get();
    } catch (const boost::system::system_error& e) {
        ec = e.code();
    }
    EXPECT_EQ(ec, error_code(param.expected)) << ec.message() << " (" << d.to_string() << ")";
    const auto ledger = server.ledger();
    if (param.retried) {
        EXPECT_EQ(ledger.size(), p.retry.max_attempts) << d.to_string();
    } else {
        EXPECT_EQ(ledger.size(), 1u) << "a request that may have created a session was sent again: " << d.to_string();
    }
    for (const auto& e : ledger) EXPECT_EQ(e.idempotency_key, param.key);
}

hostile_reply with_status(unsigned status) {
    hostile_reply r;
    r.action = hostile_action::status;
    r.status = status;
    return r;
}

INSTANTIATE_TEST_SUITE_P(
    outcomes, duplicate_test,
    ::testing::Values(
        // Sent without a key, and the session may exist: never retried, outcome_unknown.
        duplicate_case{"no_key_500", with_status(500), "", false, errc::outcome_unknown},
        duplicate_case{"no_key_502", with_status(502), "", false, errc::outcome_unknown},
        duplicate_case{"no_key_504", with_status(504), "", false, errc::outcome_unknown},
        duplicate_case{"no_key_reset_after_request", act(hostile_action::reset_after_request), "", false,
                       errc::outcome_unknown},
        duplicate_case{"no_key_timeout", act(hostile_action::stall_after_request), "", false,
                       errc::outcome_unknown},
        duplicate_case{"no_key_eof_mid_body", act(hostile_action::eof_mid_body), "", false,
                       errc::outcome_unknown},
        // Not processed: retried even without a key.
        duplicate_case{"no_key_429", with_status(429), "", true, errc::rate_limited},
        duplicate_case{"no_key_503", with_status(503), "", true, errc::server_error},
        // With a key, an ambiguous status is retried with that same key.
        duplicate_case{"key_502", with_status(502), "dup-key-502", true, errc::server_error}),
    [](const auto& info) { return std::string(info.param.name); });

// --- idle keep-alive connections closed by the server -------------------------------------------

class idle_close_test : public ::testing::TestWithParam<bool> {};

// The server closes a connection idle for 1 s (no Connection: close); calls 1.5 s apart over
// a kept-alive pool must not fail for requests the server never saw. No key is sent, so a
// resend is not allowed to hide the problem.
TEST_P(idle_close_test, a_server_closing_idle_connections_costs_no_call) {
    hostile_options so;
    so.idle_close = 1s;
    if (GetParam()) so.keep_alive_header = "timeout=1";
    hostile_server server(so);
    auto p = params_for(server);
    p.idempotency = idempotency_policy::disabled;
    p.max_connections = 4;
    constexpr int calls = 3;
    std::array<diagnostics, calls> diags;  // declared first: they outlive the calls
    client c(p);
    for (int i = 0; i < calls; ++i) {
        if (i > 0) std::this_thread::sleep_for(1500ms);
        diagnostics& d = diags[i];
        request_options o;
        o.deadline = 5s;
        auto f = c.async_create_session(valid_request("idle" + std::to_string(i) + "@example.com"), o, d,
                                        net::use_future);
        ASSERT_EQ(f.wait_for(10s), std::future_status::ready) << "call " << i << " never completed";
        try {
            f.get();
        } catch (const boost::system::system_error& e) {
            ADD_FAILURE() << "call " << i << ": " << e.code().message() << " (" << d.to_string() << ")";
        }
    }
    EXPECT_EQ(server.requests(), static_cast<std::size_t>(calls));
}

INSTANTIATE_TEST_SUITE_P(keep_alive_header, idle_close_test, ::testing::Bool(),
                         [](const auto& info) { return info.param ? std::string("announced") : std::string("silent"); });

// A TLS 1.3 server may send a session ticket at any time, also to an idle connection: the
// idle watch sees the socket readable, but a record without data is no reason to drop the
// connection (and open a new one, with a handshake, for the next call).
TEST(client_adversity, a_session_ticket_on_an_idle_connection_keeps_it) {
    hostile_options so;
    so.ticket_after_answer = 150ms;  // after the idle watch started (50 ms)
    hostile_server server(so);
    auto p = params_for(server);
    p.max_connections = 1;
    client c(p);
    for (int i = 0; i < 3; ++i) {
        if (i > 0) std::this_thread::sleep_for(400ms);
        request_options o;
        o.deadline = 5s;
        auto f = c.async_create_session(valid_request("ticket" + std::to_string(i) + "@example.com"), o, net::use_future);
        ASSERT_EQ(f.wait_for(10s), std::future_status::ready) << "call " << i << " never completed";
        EXPECT_NO_THROW(f.get()) << "call " << i;
    }
    EXPECT_EQ(server.requests(), 3u);
    EXPECT_EQ(server.connections_accepted(), 1u) << "an idle connection was dropped for a session ticket";
}

// An idle connection is watched: the server's FIN is seen while the connection waits, and it
// is closed at once (counted, its descriptor released), not only when a call would reuse it
// or at idle_timeout (30 s here). Then the next call opens a new one and succeeds; no key is
// sent, so a resend cannot hide a request written to the closed connection.
TEST(client_adversity, an_idle_connection_closed_by_the_server_is_closed_at_once) {
    hostile_options so;
    so.idle_close = 300ms;
    hostile_server server(so);
    auto p = params_for(server);
    p.idempotency = idempotency_policy::disabled;
    p.max_connections = 1;
    p.idle_timeout = 30s;
    std::array<diagnostics, 2> diags;  // declared first: they outlive the calls
    client c(p);
    auto call = [&](int i) {
        request_options o;
        o.deadline = 5s;
        auto f = c.async_create_session(valid_request("watched" + std::to_string(i) + "@example.com"), o, diags[i],
                                        net::use_future);
        if (f.wait_for(10s) != std::future_status::ready) return std::string("never completed");
        try {
            f.get();
        } catch (const boost::system::system_error& e) {
            return e.code().message() + " (" + diags[i].to_string() + ")";
        }
        return std::string();
    };
    ASSERT_EQ(call(0), "");
    ASSERT_EQ(c.metrics().connections_opened, 1u);
    // The server closes after 300 ms idle; the client must notice well before any reuse.
    const bool closed = eventually(
        [&] {
            const auto m = c.metrics();
            return m.connections_closed == m.connections_opened && m.open_connections == 0;
        },
        sanitized ? 1800ms : 800ms);
    const auto m = c.metrics();
    EXPECT_TRUE(closed) << "the idle connection was not closed after the server's FIN: opened "
                        << m.connections_opened << ", closed " << m.connections_closed << ", open "
                        << m.open_connections;
    EXPECT_EQ(call(1), "");
    EXPECT_EQ(c.metrics().connections_opened, 2u);
    EXPECT_EQ(c.metrics().failures_by_errc[static_cast<std::size_t>(errc::outcome_unknown)], 0u);
    EXPECT_EQ(server.requests(), 2u);
}

}  // namespace
