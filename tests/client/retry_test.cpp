// Retries: the retry decision without sockets or clocks (status mapping, backoff, budget,
// what a missing idempotency key forbids), then through a client: the caller's key is kept
// and every attempt recorded, a failed connect is retried, an ambiguous failure without a key
// is never retried, every sandbox fault ends in success or its documented error without a
// duplicate session, and a hostile server's answers are retried only when no duplicate can
// follow.
#include "call_tracker.hpp"
#include "client/retry_policy.hpp"
#include "client_fixture.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>

#include <gtest/gtest.h>

#include <future>
#include <ostream>
#include <set>
#include <string>

using namespace catalyst;
using namespace catalyst::detail;
using std::chrono::milliseconds;

namespace {
attempt_outcome status(unsigned s, std::optional<milliseconds> ra = std::nullopt,
                       std::string_view code = {}) {
    attempt_outcome o;
    o.result = attempt_result::response;
    o.status = s;
    o.retry_after = ra;
    o.api_code = code;
    return o;
}
attempt_outcome failure(attempt_result r) {
    attempt_outcome o;
    o.result = r;
    return o;
}
retry_state first(bool key = true) {
    retry_state s;
    s.attempts = 1;
    s.key_makes_retry_safe = key;
    return s;
}
}  // namespace

TEST(status_mapping, every_contract_status) {
    EXPECT_EQ(status_to_errc(400), errc::validation_failed);
    EXPECT_EQ(status_to_errc(401), errc::unauthorized);
    EXPECT_EQ(status_to_errc(403), errc::forbidden);
    EXPECT_EQ(status_to_errc(404), errc::not_found);
    EXPECT_EQ(status_to_errc(409, "duplicate_lead"), errc::duplicate_lead);
    EXPECT_EQ(status_to_errc(409, "idempotency_request_in_progress"), errc::outcome_unknown);
    EXPECT_EQ(status_to_errc(413), errc::payload_too_large);
    EXPECT_EQ(status_to_errc(415), errc::unsupported_media_type);
    EXPECT_EQ(status_to_errc(422), errc::idempotency_conflict);
    EXPECT_EQ(status_to_errc(429), errc::rate_limited);
    EXPECT_EQ(status_to_errc(500), errc::server_error);
    EXPECT_EQ(status_to_errc(503), errc::server_error);
    EXPECT_EQ(status_to_errc(507), errc::server_error);
    EXPECT_EQ(status_to_errc(302), errc::unexpected_status);
    EXPECT_EQ(status_to_errc(418), errc::unexpected_status);
}

TEST(retry_decision, success_statuses) {
    retry_params p;
    EXPECT_EQ(decide(status(201), first(), p, 0.5).action, next_action::succeed);
    EXPECT_EQ(decide(status(200), first(), p, 0.5).action, next_action::succeed);
}

TEST(retry_decision, client_errors_are_final) {
    retry_params p;
    for (unsigned s : {400u, 401u, 403u, 404u, 409u, 413u, 415u, 422u}) {
        auto d = decide(status(s), first(), p, 0.5);
        EXPECT_EQ(d.action, next_action::fail) << s;
        EXPECT_EQ(d.error, status_to_errc(s)) << s;
        EXPECT_FALSE(d.no_retry_reason.empty()) << s;
    }
    EXPECT_EQ(decide(status(501), first(), p, 0.5).action, next_action::fail);
}

TEST(retry_decision, retryable_statuses_back_off_with_jitter) {
    retry_params p;
    p.base_backoff = milliseconds(100);
    p.max_backoff = milliseconds(1000);
    for (unsigned s : {429u, 500u, 502u, 503u, 504u}) {
        auto d = decide(status(s), first(), p, 0.5);
        EXPECT_EQ(d.action, next_action::retry) << s;
        EXPECT_EQ(d.wait, milliseconds(50)) << s;  // half of base, first retry
        EXPECT_EQ(d.reason, s == 429 ? retry_reason::rate_limited : retry_reason::server_error);
    }
    auto in_progress =
        decide(status(409, std::nullopt, "idempotency_request_in_progress"), first(), p, 1.0);
    EXPECT_EQ(in_progress.action, next_action::retry);
    EXPECT_EQ(in_progress.wait, milliseconds(100));
}

TEST(retry_decision, retry_after_is_honoured_and_capped) {
    retry_params p;
    p.max_retry_after = milliseconds(2000);
    auto d = decide(status(429, milliseconds(1500)), first(), p, 0.0);
    EXPECT_EQ(d.action, next_action::retry);
    EXPECT_EQ(d.wait, milliseconds(1500));
    auto too_long = decide(status(503, milliseconds(2500)), first(), p, 0.0);
    EXPECT_EQ(too_long.action, next_action::fail);
    EXPECT_EQ(too_long.error, errc::server_error);
    EXPECT_EQ(too_long.no_retry_reason, "Retry-After beyond max_retry_after");
}

TEST(retry_decision, attempts_budget_and_deadline_stop_retries) {
    retry_params p;
    p.max_attempts = 3;
    auto s = first();
    s.attempts = 3;
    auto d = decide(status(503), s, p, 0.5);
    EXPECT_EQ(d.action, next_action::fail);
    EXPECT_EQ(d.error, errc::server_error);
    EXPECT_EQ(d.no_retry_reason, "max attempts reached");

    s = first();
    s.budget_allows = false;
    EXPECT_EQ(decide(status(503), s, p, 0.5).no_retry_reason, "retry budget exhausted");

    s = first();
    s.remaining = milliseconds(10);
    auto late = decide(status(429, milliseconds(20)), s, p, 0.5);
    EXPECT_EQ(late.action, next_action::fail);
    EXPECT_EQ(late.error, errc::rate_limited);
    EXPECT_EQ(late.no_retry_reason, "overall deadline too close");
}

TEST(retry_decision, connect_failures_retry_tls_rejections_never) {
    retry_params p;
    auto c = decide(failure(attempt_result::connect_failed), first(false), p, 0.5);
    EXPECT_EQ(c.action, next_action::retry);
    EXPECT_EQ(c.reason, retry_reason::connect_failed);
    auto h = decide(failure(attempt_result::tls_handshake_failed), first(false), p, 0.5);
    EXPECT_EQ(h.action, next_action::retry);
    auto t = decide(failure(attempt_result::tls_rejected), first(), p, 0.5);
    EXPECT_EQ(t.action, next_action::fail);
    EXPECT_EQ(t.error, errc::tls_failed);
    auto s = first();
    s.attempts = p.max_attempts;
    auto exhausted = decide(failure(attempt_result::connect_failed), s, p, 0.5);
    EXPECT_EQ(exhausted.error, errc::connect_failed);
}

TEST(retry_decision, ambiguous_needs_a_key) {
    retry_params p;
    auto no_key = decide(failure(attempt_result::ambiguous), first(false), p, 0.5);
    EXPECT_EQ(no_key.action, next_action::fail);
    EXPECT_EQ(no_key.error, errc::outcome_unknown);
    auto with_key = decide(failure(attempt_result::ambiguous), first(true), p, 0.5);
    EXPECT_EQ(with_key.action, next_action::retry);
    EXPECT_EQ(with_key.reason, retry_reason::ambiguous_failure);

    auto timeout_no_key = decide(failure(attempt_result::attempt_timeout), first(false), p, 0.5);
    EXPECT_EQ(timeout_no_key.error, errc::outcome_unknown);
    auto timeout_key = decide(failure(attempt_result::attempt_timeout), first(true), p, 0.5);
    EXPECT_EQ(timeout_key.action, next_action::retry);
    auto s = first(true);
    s.attempts = p.max_attempts;
    EXPECT_EQ(decide(failure(attempt_result::attempt_timeout), s, p, 0.5).error, errc::timeout);
}

TEST(retry_decision, stale_connection_is_resent_at_once_a_bounded_number_of_times) {
    retry_params p;
    auto s = first();
    s.attempts = 0;
    auto d = decide(failure(attempt_result::stale_connection), s, p, 0.5);
    EXPECT_EQ(d.action, next_action::retry_now);
    EXPECT_EQ(d.reason, retry_reason::stale_connection);
    s.stale_retries = max_stale_retries;
    EXPECT_NE(decide(failure(attempt_result::stale_connection), s, p, 0.5).action,
              next_action::retry_now);
}

TEST(retry_decision, final_outcomes) {
    retry_params p;
    EXPECT_EQ(decide(failure(attempt_result::overall_timeout), first(), p, 0.5).error,
              errc::timeout);
    EXPECT_EQ(decide(failure(attempt_result::protocol_error), first(), p, 0.5).error,
              errc::protocol_error);
    EXPECT_EQ(decide(failure(attempt_result::cancelled), first(), p, 0.5).error, errc::cancelled);
}

TEST(backoff, full_jitter_range_grows_and_caps) {
    retry_params p;
    p.base_backoff = milliseconds(100);
    p.max_backoff = milliseconds(1000);
    EXPECT_EQ(full_jitter_backoff(p, 1, 0.0), milliseconds(0));
    EXPECT_EQ(full_jitter_backoff(p, 1, 0.999999), milliseconds(99));
    EXPECT_EQ(full_jitter_backoff(p, 2, 0.5), milliseconds(100));
    EXPECT_EQ(full_jitter_backoff(p, 3, 0.5), milliseconds(200));
    EXPECT_EQ(full_jitter_backoff(p, 5, 1.0), milliseconds(1000));    // 1600 capped
    EXPECT_EQ(full_jitter_backoff(p, 200, 1.0), milliseconds(1000));  // no overflow
    EXPECT_EQ(full_jitter_backoff(p, 3, 7.0), milliseconds(400));     // out-of-range draw clamped
}

TEST(retry_budget, share_of_active_plus_minimum) {
    retry_params p;
    p.budget_ratio = 0.2;
    p.budget_min_concurrency = 2;
    EXPECT_TRUE(retry_budget_allows(p, 0, 1));
    EXPECT_FALSE(retry_budget_allows(p, 0, 2));
    EXPECT_TRUE(retry_budget_allows(p, 100, 21));
    EXPECT_FALSE(retry_budget_allows(p, 100, 22));
    p.budget_ratio = 0;
    EXPECT_TRUE(retry_budget_allows(p, 1, 1000));
}

// Without an idempotency key, nothing that may have been processed is retried: a 500, 502 or
// 504 (a gateway's "processed, answer lost"), a reset, a timeout, an answer cut short all end
// as outcome_unknown. 429 and 503 say "not processed" and stay retried.
TEST(retry_decision, without_a_key_no_retry_risks_a_duplicate) {
    retry_params p;
    for (unsigned s : {500u, 502u, 504u}) {
        auto d = decide(status(s), first(false), p, 0.5);
        EXPECT_EQ(d.action, next_action::fail) << s;
        EXPECT_EQ(d.error, errc::outcome_unknown) << s;
        EXPECT_FALSE(d.no_retry_reason.empty()) << s;
        EXPECT_EQ(decide(status(s), first(true), p, 0.5).action, next_action::retry)
            << s;  // with a key: retried
    }
    for (unsigned s : {429u, 503u}) {
        auto d = decide(status(s), first(false), p, 0.5);
        EXPECT_EQ(d.action, next_action::retry) << s;
    }
    for (auto r : {attempt_result::ambiguous, attempt_result::answer_cut_short,
                   attempt_result::attempt_timeout}) {
        auto d = decide(failure(r), first(false), p, 0.5);
        EXPECT_EQ(d.action, next_action::fail) << static_cast<int>(r);
        EXPECT_EQ(d.error, errc::outcome_unknown) << static_cast<int>(r);
    }
    // With a key an answer cut short is retried; once out of attempts it is still outcome_unknown.
    EXPECT_EQ(decide(failure(attempt_result::answer_cut_short), first(true), p, 0.5).action,
              next_action::retry);
    auto s = first(true);
    s.attempts = p.max_attempts;
    EXPECT_EQ(decide(failure(attempt_result::answer_cut_short), s, p, 0.5).error,
              errc::outcome_unknown);
}

// --- through a client ------------------------------------------------------------------------

namespace {

namespace net = boost::asio;
using namespace catalyst::test;
using namespace std::chrono_literals;
using boost::system::error_code;

using retry = client_test;

TEST_F(retry, ambiguous_failure_without_a_key_is_outcome_unknown) {
    sandbox_params sp;
    sp.faults.close_after_create.every_nth = 1;
    start(sp);
    auto p = params();
    p.idempotency = idempotency_policy::disabled;
    client c(p);
    diagnostics d;
    EXPECT_EQ(error_of(c, valid_request(), request_options{}, d), errc::outcome_unknown);
    EXPECT_EQ(d.attempts, 1u);
    EXPECT_FALSE(d.no_retry_reason.empty());
    EXPECT_EQ(sb_->stats().created, 1u);  // exactly the one the client could not confirm
}

TEST_F(retry, retries_keep_the_callers_key_and_are_recorded) {
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

TEST_F(retry, connect_failure_is_retried_then_reported) {
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
    EXPECT_EQ(error_of(c, valid_request(), request_options{}, d), errc::connect_failed);
    EXPECT_EQ(d.attempts, 3u);
    EXPECT_EQ(d.history.at(0).reason, retry_reason::connect_failed);
}

// --- every fault of the sandbox ----------------------------------------------------------------

struct fault_case {
    const char* name;
    void (*apply)(fault_params&);
    bool all_succeed;  // else: the documented error for the faulted ones
    errc error;
};

class retry_under_faults : public client_test, public ::testing::WithParamInterface<fault_case> {};

TEST_P(retry_under_faults, ends_in_success_or_the_documented_error_without_duplicates) {
    const auto& fc = GetParam();
    sandbox_params sp;
    fc.apply(sp.faults);
    start(sp);
    auto p = params();
    p.max_connections = 4;
    p.threads = 1;
    p.attempt_timeout = 300ms;
    // A fault on every 3rd request hits a given attempt with a chance of about 1 in 3: with 6
    // attempts, one call in 60 lost all of them in about 1 run of 60 (seen in CI under ASan);
    // with 12, about 1 run in 10 000.
    p.retry.max_attempts = 12;
    p.retry.budget_ratio = 0;  // this test is about each fault, not about the budget
    client c(p);
    const std::size_t n = 60;
    auto out = run_many(c, n);
    std::size_t ok = count(out, {});
    if (fc.all_succeed) {
        for (const auto& o : out)
            EXPECT_FALSE(o.ec) << fc.name << ": " << o.ec.message() << " " << o.d.to_string();
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
    faults, retry_under_faults,
    ::testing::Values(
        fault_case{
            "server_error_503", [](fault_params& f) { f.server_error.every_nth = 3; }, true, {}},
        fault_case{"server_error_500_html",
                   [](fault_params& f) {
                       f.server_error.every_nth = 3;
                       f.server_error_status = 500;
                       f.server_error_body = fault_body::html;
                   },
                   true,
                   {}},
        fault_case{"server_error_502_empty",
                   [](fault_params& f) {
                       f.server_error.every_nth = 3;
                       f.server_error_status = 502;
                       f.server_error_body = fault_body::empty;
                   },
                   true,
                   {}},
        fault_case{"server_error_504_retry_after",
                   [](fault_params& f) {
                       f.server_error.every_nth = 3;
                       f.server_error_status = 504;
                       f.server_error_retry_after = 0;
                   },
                   true,
                   {}},
        fault_case{"throttle",
                   [](fault_params& f) {
                       f.throttle.every_nth = 4;
                       f.throttle_retry_after = 0;
                   },
                   true,
                   {}},
        fault_case{"close_before_read",
                   [](fault_params& f) { f.close_before_read.every_nth = 3; },
                   true,
                   {}},
        fault_case{"close_after_read",
                   [](fault_params& f) { f.close_after_read.every_nth = 3; },
                   true,
                   {}},
        fault_case{"close_after_create",
                   [](fault_params& f) { f.close_after_create.every_nth = 3; },
                   true,
                   {}},
        fault_case{"reset_mid_response",
                   [](fault_params& f) { f.reset_mid_response.every_nth = 3; },
                   true,
                   {}},
        // An answer cut short may follow a created session: retried with the key (replayed),
        // never reported as a protocol error.
        fault_case{
            "truncated_body", [](fault_params& f) { f.truncated_body.every_nth = 3; }, true, {}},
        fault_case{"garbage_body", [](fault_params& f) { f.garbage_body.every_nth = 3; }, false,
                   errc::protocol_error},
        fault_case{"trickle", [](fault_params& f) { f.trickle.every_nth = 10; }, true, {}},
        fault_case{"connection_close",
                   [](fault_params& f) { f.connection_close.every_nth = 2; },
                   true,
                   {}},
        fault_case{"latency_over_attempt_timeout",
                   [](fault_params& f) {
                       f.latency.every_nth = 5;
                       f.latency_min = 1000ms;
                   },
                   true,
                   {}},
        fault_case{
            "short_server_idle_timeout", [](fault_params& f) { f.idle_timeout = 1ms; }, true, {}}),
    [](const auto& info) { return std::string(info.param.name); });

// --- what may create a duplicate -------------------------------------------------------------

// No retry that risks a duplicate: without an idempotency key, a failure after the request
// was sent is never retried and ends as outcome_unknown (429 and 503 are retried); with a
// key, retries carry the same key.
struct duplicate_case {
    const char* name;
    hostile_reply reply;
    std::string key;  // "" = no Idempotency-Key is sent (policy disabled)
    bool retried;     // expect max_attempts requests, else exactly one
    errc expected;
};

void PrintTo(const duplicate_case& c, std::ostream* os) {
    *os << c.name;
}

class retry_duplicate_risk : public ::testing::TestWithParam<duplicate_case> {};

TEST_P(retry_duplicate_risk, retried_only_when_no_duplicate_can_follow) {
    const auto& param = GetParam();
    hostile_options so;
    so.on_request = [r = param.reply](const hostile_request&) { return r; };
    hostile_server server(so);
    auto p = params_for(server);
    p.idempotency =
        param.key.empty() ? idempotency_policy::disabled : idempotency_policy::caller_keys_only;
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
        EXPECT_EQ(ledger.size(), 1u)
            << "a request that may have created a session was sent again: " << d.to_string();
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
    outcomes, retry_duplicate_risk,
    ::testing::Values(
        // Sent without a key, and the session may exist: never retried, outcome_unknown.
        duplicate_case{"no_key_500", with_status(500), "", false, errc::outcome_unknown},
        duplicate_case{"no_key_502", with_status(502), "", false, errc::outcome_unknown},
        duplicate_case{"no_key_504", with_status(504), "", false, errc::outcome_unknown},
        duplicate_case{"no_key_reset_after_request", act(hostile_action::reset_after_request), "",
                       false, errc::outcome_unknown},
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

}  // namespace
