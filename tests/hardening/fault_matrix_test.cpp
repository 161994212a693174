// The fault matrix: every sandbox fault, crossed with connection-pool sizes and concurrency
// levels, against the real client over TLS. For every request it checks
//  - exactly one completion, with an outcome documented for that fault;
//  - no session created twice: at most one ledger entry per logical request (each request has
//    its own lead email), and a success's token is that entry, created with the request's key;
//  - nothing leaked: the process's open descriptors return to where they were once the client
//    is gone, the client's connection counters balance (memory: ASan/LSan in the ASan build);
//  - bounded time: every cell finishes within a generous limit (a hang fails the test, it is
//    not a performance assertion).
// CATALYST_HARDENING_QUICK=1 (set by scripts/ci-extra.sh under TSan) runs a smaller matrix.
#include "client/client_fixture.hpp"
#include "hardening_support.hpp"
#include "sandbox/faults.hpp"

#include <catalyst/client.hpp>
#include <catalyst/sandbox.hpp>

#include <boost/asio/executor_work_guard.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace catalyst {
namespace {

using std::chrono::milliseconds;
using namespace std::chrono_literals;

struct fault_case {
    std::string name;
    fault_params faults;
    std::set<errc> allowed;  // besides success
};

fault_trigger every(unsigned n) {
    fault_trigger t;
    t.every_nth = n;
    return t;
}

// Every fault the sandbox has (fault_names()), each firing on every third eligible request
// (so that retries meet both faulty and healthy answers), with the outcomes the client
// documents for it once its retries are exhausted.
std::vector<fault_case> all_faults() {
    std::vector<fault_case> v;
    auto add = [&](std::string name, auto set, std::set<errc> allowed) {
        fault_case c{std::move(name), {}, std::move(allowed)};
        set(c.faults);
        v.push_back(std::move(c));
    };
    // Transport failures after the request was sent: retried (the request carries a key);
    // once attempts run out: the attempt's failure.
    const std::set<errc> ambiguous = {errc::outcome_unknown, errc::protocol_error, errc::timeout};
    add("none", [](fault_params&) {}, {});
    add("latency",
        [](fault_params& f) {
            f.latency = every(2);
            f.latency_min = 1ms;
            f.latency_max = 10ms;
        },
        {});
    add("server_error",
        [](fault_params& f) {
            f.server_error = every(3);
            f.server_error_status = 503;
        },
        {errc::server_error});
    add("server_error_html_502",
        [](fault_params& f) {
            f.server_error = every(3);
            f.server_error_status = 502;
            f.server_error_body = fault_body::html;
        },
        {errc::server_error});
    add("throttle",
        [](fault_params& f) {
            f.throttle = every(4);
            f.throttle_retry_after = 1;
        },
        {errc::rate_limited});
    add(
        "close_before_read", [](fault_params& f) { f.close_before_read = every(3); }, ambiguous);
    add(
        "close_after_read", [](fault_params& f) { f.close_after_read = every(3); }, ambiguous);
    add(
        "close_after_create", [](fault_params& f) { f.close_after_create = every(3); }, ambiguous);
    add(
        "reset_mid_response", [](fault_params& f) { f.reset_mid_response = every(3); }, ambiguous);
    add(
        "truncated_body", [](fault_params& f) { f.truncated_body = every(3); }, ambiguous);
    // A complete answer whose body is not JSON is final (not retried): protocol_error.
    add("garbage_body", [](fault_params& f) { f.garbage_body = every(3); }, {errc::protocol_error});
    add("trickle",
        [](fault_params& f) {
            f.trickle = every(3);
            f.trickle_delay = 0ms;
        },
        {});
    add("connection_close", [](fault_params& f) { f.connection_close = every(2); }, {});
    add(
        "idle_timeout", [](fault_params& f) { f.idle_timeout = 20ms; }, ambiguous);
    return v;
}

struct cell {
    std::size_t pool;
    unsigned concurrency;
    unsigned client_threads;  // 0: the test's io_context; N: the client owns N threads
    idempotency_policy policy;
};

void PrintTo(const fault_case& c, std::ostream* os) {
    *os << c.name;
}

// One request before any measurement: what a process opens once and keeps (OpenSSL's random
// source, the resolver's files) must not count as a leak of the first cell.
void warm_up(sandbox& sb) {
    boost::asio::io_context ctx;
    client cl(ctx, test::trusting(sb));
    bool done = false;
    cl.async_create_session(test::valid_request("warm.up@example.com"),
                            [&](boost::system::error_code, session) { done = true; });
    for (int i = 0; i < 500 && !done; ++i) ctx.run_for(std::chrono::milliseconds(20));
}

class fault_matrix : public ::testing::TestWithParam<fault_case> {
  protected:
    static void SetUpTestSuite() {
        sandbox_params p;
        p.threads = 2;
        sb_ = new sandbox(p);
        sb_->start();
        warm_up(*sb_);
    }
    static void TearDownTestSuite() {
        delete sb_;
        sb_ = nullptr;
    }
    static sandbox* sb_;
};
sandbox* fault_matrix::sb_ = nullptr;

struct outcome {
    std::atomic<int> completions{0};
    errc error{};
    bool ok = false;
    std::string token;
    bool replayed = false;
};

void run_cell(sandbox& sb, const fault_case& fc, const cell& c, unsigned cell_id) {
    SCOPED_TRACE("fault " + fc.name + ", pool " + std::to_string(c.pool) + ", concurrency " +
                 std::to_string(c.concurrency) + ", client threads " +
                 std::to_string(c.client_threads) + ", policy " + std::string(to_string(c.policy)));
    const std::size_t fds_before = hardening::open_fds();
    const unsigned n = std::max(8u, c.concurrency * 2);
    const std::string tag = "c" + std::to_string(cell_id) + "x" + std::to_string(::getpid());
    sb.set_faults(fc.faults);

    client_params p = test::trusting(sb);
    p.max_connections = c.pool;
    p.threads = c.client_threads;
    p.idempotency = c.policy;
    p.attempt_timeout = 5s;
    p.overall_timeout = 30s;
    p.retry.base_backoff = 1ms;
    p.retry.max_backoff = 20ms;
    p.retry.max_retry_after = 2s;
    p.retry.budget_ratio = 0;  // the budget is tested elsewhere; here every retry is allowed

    std::vector<outcome> results(n);
    std::vector<session_request> requests(n);
    std::vector<request_options> options(n);
    std::vector<diagnostics> diags(n);
    for (unsigned i = 0; i < n; ++i) {
        requests[i] = test::valid_request("lead" + std::to_string(i) + "@" + tag + ".example");
        if (c.policy != idempotency_policy::disabled)
            options[i].idempotency_key = "fm-" + tag + "-" + std::to_string(i);
    }
    std::mutex m;
    std::condition_variable cv;
    unsigned done = 0;
    {
        boost::asio::io_context ctx;
        // run_for() on an io_context out of work stops it for good (no restart here): keep it
        // busy until the cell is over, as an application's event loop would be.
        auto guard = boost::asio::make_work_guard(ctx);
        auto cl = c.client_threads ? std::make_unique<client>(p) : std::make_unique<client>(ctx, p);
        if (std::getenv("CATALYST_HARDENING_TRACE"))
            cl->set_logger([](log_level l, std::string_view msg) {
                std::fprintf(stderr, "[%s] %.*s\n", std::string(to_string(l)).c_str(),
                             static_cast<int>(msg.size()), msg.data());
            });
        unsigned next = 0;
        std::function<void()> start_one;
        // Keeps `concurrency` requests in flight (closed loop), in two waves separated by a
        // pause longer than the short idle_timeout fault, so that reused connections go stale.
        start_one = [&] {
            unsigned i;
            {
                std::lock_guard lock(m);
                if (next >= n) return;
                i = next++;
            }
            cl->async_create_session(requests[i], options[i], &diags[i],
                                     [&, i](boost::system::error_code ec, session s) {
                                         auto& r = results[i];
                                         if (r.completions.fetch_add(1) == 0) {
                                             r.ok = !ec;
                                             if (ec) r.error = static_cast<errc>(ec.value());
                                             r.token = s.token;
                                             r.replayed = s.replayed;
                                         }
                                         bool start_next = false;
                                         {
                                             std::lock_guard lock(m);
                                             ++done;
                                             start_next = done != n / 2;
                                             cv.notify_all();
                                         }
                                         if (start_next) start_one();
                                     });
        };
        auto wait_until = [&](unsigned target) {
            const auto limit = std::chrono::steady_clock::now() + 120s;
            std::unique_lock lock(m);
            while (done < target && std::chrono::steady_clock::now() < limit) {
                if (c.client_threads) {
                    cv.wait_for(lock, 50ms);
                } else {
                    lock.unlock();
                    ctx.run_for(20ms);
                    lock.lock();
                }
            }
            return done >= target;
        };
        for (unsigned k = 0; k < std::min(c.concurrency, n / 2); ++k) start_one();
        ASSERT_TRUE(wait_until(n / 2)) << "first wave did not complete (hang)";
        // Time must pass, not an event: a pause longer than the short idle_timeout fault
        // (20 ms), after which the second wave finds the kept-alive connections stale.
        std::this_thread::sleep_for(60ms);
        for (unsigned k = 0; k < c.concurrency; ++k) start_one();
        if (!wait_until(n)) {
            const auto mt = cl->metrics();
            std::string pending;
            for (unsigned i = 0; i < n; ++i)
                if (results[i].completions.load() == 0) pending += " " + std::to_string(i);
            FAIL() << "second wave did not complete (hang): pending" << pending << "; in flight "
                   << mt.in_flight << ", connections opened " << mt.connections_opened
                   << ", closed " << mt.connections_closed << ", queue waits " << mt.queue_waits
                   << ", retries " << mt.retries;
        }

        bool shut = false;
        cl->async_shutdown(2s, [&](boost::system::error_code) {
            std::lock_guard lock(m);
            shut = true;
            cv.notify_all();
        });
        {
            const auto limit = std::chrono::steady_clock::now() + 30s;
            std::unique_lock lock(m);
            while (!shut && std::chrono::steady_clock::now() < limit) {
                if (c.client_threads) {
                    cv.wait_for(lock, 50ms);
                } else {
                    lock.unlock();
                    ctx.run_for(20ms);
                    lock.lock();
                }
            }
            ASSERT_TRUE(shut) << "async_shutdown did not complete";
        }
        const auto mt = cl->metrics();
        EXPECT_EQ(mt.in_flight, 0u);
        cl.reset();
        guard.reset();
        ctx.run_for(50ms);  // anything the destructor posted
        EXPECT_EQ(mt.connections_opened, mt.connections_closed);
        EXPECT_LE(mt.connections_opened, std::max<std::uint64_t>(c.pool, 1) * 64)
            << "connection churn";
    }

    // Outcomes.
    std::map<std::string, unsigned> errors_seen;
    for (unsigned i = 0; i < n; ++i) {
        auto& r = results[i];
        EXPECT_EQ(r.completions.load(), 1) << "request " << i;
        if (!r.ok) {
            ++errors_seen[std::string(to_string(r.error))];
            std::set<errc> allowed = fc.allowed;
            if (c.policy == idempotency_policy::disabled) allowed.insert(errc::outcome_unknown);
            EXPECT_TRUE(allowed.count(r.error))
                << "request " << i << " ended with " << to_string(r.error) << ": "
                << diags[i].to_string();
        } else {
            EXPECT_TRUE(r.token.starts_with("ps_")) << r.token;
        }
    }
    if (fc.name == "none" || fc.name == "latency" || fc.name == "trickle" ||
        fc.name == "connection_close") {
        for (unsigned i = 0; i < n; ++i)
            EXPECT_TRUE(results[i].ok) << "request " << i << " ended with "
                                       << to_string(results[i].error) << ": "
                                       << diags[i].to_string();
    }

    // The ledger: at most one session per logical request, and each success is that one.
    std::map<std::string, std::vector<ledger_entry>> by_email;
    for (auto& e : sb.ledger())
        if (e.email.ends_with("@" + tag + ".example")) by_email[e.email].push_back(e);
    for (unsigned i = 0; i < n; ++i) {
        const std::string email = requests[i].lead.email;
        const auto it = by_email.find(email);
        const std::size_t created = it == by_email.end() ? 0 : it->second.size();
        EXPECT_LE(created, 1u) << "request " << i << ": session created " << created << " times";
        if (results[i].ok) {
            ASSERT_EQ(created, 1u) << "request " << i << " succeeded without a ledger entry";
            EXPECT_EQ(it->second.front().token, results[i].token);
            EXPECT_EQ(it->second.front().idempotency_key, options[i].idempotency_key);
        }
    }

    // Descriptors: the sandbox closes its side when it reads the client's close; give it a
    // bounded moment to do so.
    sb.set_faults({});
    std::size_t fds_after = hardening::open_fds();
    for (int k = 0; k < 500 && fds_after > fds_before; ++k) {
        std::this_thread::sleep_for(10ms);
        fds_after = hardening::open_fds();
    }
    EXPECT_LE(fds_after, fds_before) << "descriptors leaked";
}

TEST_P(fault_matrix, every_request_completes_once_without_duplicates_or_leaks) {
    const bool quick = std::getenv("CATALYST_HARDENING_QUICK") != nullptr;
    std::vector<cell> cells;
    if (quick) {
        cells = {{2, 8, 2, idempotency_policy::automatic}};
    } else {
        cells = {{1, 1, 0, idempotency_policy::automatic},
                 {1, 16, 0, idempotency_policy::automatic},
                 {4, 16, 2, idempotency_policy::automatic},
                 {8, 64, 2, idempotency_policy::automatic},
                 {4, 16, 0, idempotency_policy::disabled}};
    }
    static std::atomic<unsigned> cell_id{0};
    for (const auto& c : cells) {
        run_cell(*sb_, GetParam(), c, cell_id++);
        if (HasFatalFailure()) return;
    }
}

INSTANTIATE_TEST_SUITE_P(hardening, fault_matrix, ::testing::ValuesIn(all_faults()),
                         [](const ::testing::TestParamInfo<fault_case>& i) {
                             return i.param.name;
                         });

// Is the fault called `name` (as fault_names() spells it) enabled in `f`? Unknown: false.
bool enables(const fault_params& f, const std::string& name) {
    if (name == "idle_timeout") return f.idle_timeout.count() > 0;
    for (const auto& row : sandbox_detail::fault_table)
        if (row.name == name) return (f.*row.trigger).enabled();
    return false;
}

// The matrix must cover every fault the sandbox knows: a fault added later without a row
// here fails this test.
TEST(fault_matrix_coverage, every_sandbox_fault_has_a_row) {
    const auto rows = all_faults();
    for (const auto& name : fault_names()) {
        bool covered = false;
        for (const auto& fc : rows) covered = covered || enables(fc.faults, name);
        EXPECT_TRUE(covered) << "no matrix row enables " << name;
    }
}

}  // namespace
}  // namespace catalyst
