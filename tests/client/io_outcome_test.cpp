// The classification of how an attempt's I/O ended, without sockets.
#include "client/io_outcome.hpp"

#include <gtest/gtest.h>

using namespace catalyst;
using namespace catalyst::detail;

namespace {
attempt_outcome outcome_of(attempt_result r) {
    attempt_outcome o;
    o.result = r;
    return o;
}
io_event at(io_step step) {
    io_event e;
    e.step = step;
    return e;
}
}  // namespace

TEST(io_outcome, nothing_sent_before_the_write) {
    EXPECT_EQ(classify(at(io_step::resolve)), attempt_result::connect_failed);
    EXPECT_EQ(classify(at(io_step::connect)), attempt_result::connect_failed);
    auto timed_out = at(io_step::connect);
    timed_out.deadline_passed = true;
    EXPECT_EQ(classify(timed_out), attempt_result::connect_failed);  // per-address limit: next address / retry
    timed_out.overall_passed = true;
    EXPECT_EQ(classify(timed_out), attempt_result::overall_timeout);
    auto hs = at(io_step::handshake);
    EXPECT_EQ(classify(hs), attempt_result::tls_handshake_failed);
    hs.tls_refused = true;
    EXPECT_EQ(classify(hs), attempt_result::tls_rejected);
    hs.tls_refused = false;
    hs.deadline_passed = true;
    EXPECT_EQ(classify(hs), attempt_result::tls_handshake_failed);
    hs.overall_passed = true;
    EXPECT_EQ(classify(hs), attempt_result::overall_timeout);
    // The deadline passed before writing: nothing on the wire, a plain timeout.
    auto late = at(io_step::before_send);
    late.deadline_passed = late.overall_passed = true;
    EXPECT_EQ(classify(late), attempt_result::overall_timeout);
    EXPECT_EQ(decide(outcome_of(classify(late)), retry_state{}, retry_params{}, 0.5).error, errc::timeout);
}

TEST(io_outcome, sent_with_no_answer) {
    auto e = at(io_step::read);
    EXPECT_EQ(classify(e), attempt_result::ambiguous);
    e.reused = e.eof_like = true;
    EXPECT_EQ(classify(e), attempt_result::ambiguous);  // no key: EOF on reuse is not resent
    e.key_makes_retry_safe = true;
    EXPECT_EQ(classify(e), attempt_result::stale_connection);
    auto w = at(io_step::write);
    EXPECT_EQ(classify(w), attempt_result::ambiguous);
    w.reused = w.eof_like = true;
    EXPECT_EQ(classify(w), attempt_result::stale_connection);  // the request did not fully leave
}

TEST(io_outcome, answer_cut_short_is_not_a_protocol_error) {
    auto e = at(io_step::read);
    e.answer_bytes = 17;
    e.eof_like = true;
    EXPECT_EQ(classify(e), attempt_result::answer_cut_short);
    e.reused = true;
    e.key_makes_retry_safe = true;
    EXPECT_EQ(classify(e), attempt_result::answer_cut_short);  // never taken for a stale connection
    // Without a key: outcome_unknown (the session may exist), not retried.
    retry_state st;
    st.attempts = 1;
    auto d = decide(outcome_of(classify(e)), st, retry_params{}, 0.5);
    EXPECT_EQ(d.action, next_action::fail);
    EXPECT_EQ(d.error, errc::outcome_unknown);
}

TEST(io_outcome, timeouts_after_sending_are_ambiguous_whichever_deadline) {
    for (auto step : {io_step::write, io_step::read}) {
        auto e = at(step);
        e.deadline_passed = true;
        EXPECT_EQ(classify(e), attempt_result::attempt_timeout);
        e.overall_passed = true;  // the call's own deadline: the session may still exist
        EXPECT_EQ(classify(e), attempt_result::attempt_timeout);
        e.answer_bytes = 3;
        EXPECT_EQ(classify(e), attempt_result::attempt_timeout);
        retry_state st;
        st.attempts = 1;
        EXPECT_EQ(decide(outcome_of(classify(e)), st, retry_params{}, 0.5).error, errc::outcome_unknown);
    }
}

TEST(io_outcome, abort_wins_over_everything) {
    for (auto step : {io_step::resolve, io_step::connect, io_step::handshake, io_step::before_send, io_step::write,
                      io_step::read}) {
        auto e = at(step);
        e.aborted = e.deadline_passed = e.overall_passed = true;
        e.answer_bytes = 1;
        EXPECT_EQ(classify(e), attempt_result::cancelled);
    }
}

TEST(io_outcome, step_deadline_is_the_sooner) {
    const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
    const auto later = t0 + std::chrono::seconds(1);
    EXPECT_EQ(step_deadline(t0, later), t0);
    EXPECT_EQ(step_deadline(later, t0), t0);
    EXPECT_EQ(step_deadline(t0, std::chrono::steady_clock::time_point::max()), t0);
}
