// The retry decision, without sockets or clocks.
#include "client/retry_policy.hpp"

#include <gtest/gtest.h>

using namespace catalyst;
using namespace catalyst::detail;
using std::chrono::milliseconds;

namespace {
attempt_outcome status(unsigned s, std::optional<milliseconds> ra = std::nullopt, std::string_view code = {}) {
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
    auto in_progress = decide(status(409, std::nullopt, "idempotency_request_in_progress"), first(), p, 1.0);
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
    EXPECT_NE(decide(failure(attempt_result::stale_connection), s, p, 0.5).action, next_action::retry_now);
}

TEST(retry_decision, final_outcomes) {
    retry_params p;
    EXPECT_EQ(decide(failure(attempt_result::overall_timeout), first(), p, 0.5).error, errc::timeout);
    EXPECT_EQ(decide(failure(attempt_result::protocol_error), first(), p, 0.5).error, errc::protocol_error);
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
    EXPECT_EQ(full_jitter_backoff(p, 5, 1.0), milliseconds(1000));   // 1600 capped
    EXPECT_EQ(full_jitter_backoff(p, 200, 1.0), milliseconds(1000)); // no overflow
    EXPECT_EQ(full_jitter_backoff(p, 3, 7.0), milliseconds(400));    // out-of-range draw clamped
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
        EXPECT_EQ(decide(status(s), first(true), p, 0.5).action, next_action::retry) << s;  // with a key: retried
    }
    for (unsigned s : {429u, 503u}) {
        auto d = decide(status(s), first(false), p, 0.5);
        EXPECT_EQ(d.action, next_action::retry) << s;
    }
    for (auto r : {attempt_result::ambiguous, attempt_result::answer_cut_short, attempt_result::attempt_timeout}) {
        auto d = decide(failure(r), first(false), p, 0.5);
        EXPECT_EQ(d.action, next_action::fail) << static_cast<int>(r);
        EXPECT_EQ(d.error, errc::outcome_unknown) << static_cast<int>(r);
    }
    // With a key an answer cut short is retried; once out of attempts it is still outcome_unknown.
    EXPECT_EQ(decide(failure(attempt_result::answer_cut_short), first(true), p, 0.5).action, next_action::retry);
    auto s = first(true);
    s.attempts = p.max_attempts;
    EXPECT_EQ(decide(failure(attempt_result::answer_cut_short), s, p, 0.5).error, errc::outcome_unknown);
}
