// The call state machine without sockets or clocks: every input with a time of the test's
// choosing, every output checked. Covers each phase against each input that can reach it
// (cancel and stop at every phase, deadlines in the queue and during a backoff, requeues), and
// the orderings a review asks about: a cancel or a stop that lands while a connection holds the
// call and the connection then gives it back unsent.
#include "client/call_fsm.hpp"
#include "support/fake_clock.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace catalyst;
using namespace catalyst::detail;
using namespace std::chrono_literals;
namespace net = boost::asio;
using time_point = std::chrono::steady_clock::time_point;

namespace {

using catalyst::test::t0;

struct call_state_machine : ::testing::Test {
    retry_params retry;
    call_fsm fsm;
    time_point deadline = t0 + 10s;

    void fresh(bool key = true, time_point d = t0 + 10s) {
        deadline = d;
        fsm.reset(deadline, &retry, key);
    }
    void SetUp() override { fresh(); }

    // Drives a fresh call to `p` (at t0).
    void reach(call_phase p) {
        if (p == call_phase::idle) return;
        ASSERT_EQ(fsm.submit(true).step, call_step::enqueue);
        if (p == call_phase::queued) return;
        ASSERT_EQ(fsm.dispatch(t0).step, call_step::send);
        if (p == call_phase::dispatched) return;
        ASSERT_TRUE(fsm.wire());
        if (p == call_phase::on_wire) return;
        if (p == call_phase::backing_off) {
            ASSERT_EQ(fsm.attempt_ended(status(503), t0, true, 0.5).step, call_step::back_off);
            return;
        }
        ASSERT_EQ(fsm.attempt_ended(status(201), t0, true, 0.5).step, call_step::complete);
    }

    static attempt_outcome status(unsigned s) {
        attempt_outcome o;
        o.result = attempt_result::response;
        o.status = s;
        return o;
    }
    static attempt_outcome io(attempt_result r) {
        attempt_outcome o;
        o.result = r;
        return o;
    }
};

constexpr auto terminal = net::cancellation_type::terminal;
constexpr auto partial = net::cancellation_type::partial;
constexpr auto total = net::cancellation_type::total;

TEST_F(call_state_machine, a_submitted_call_waits_in_the_queue_with_its_deadline) {
    const auto a = fsm.submit(true);
    EXPECT_EQ(a.step, call_step::enqueue);
    EXPECT_FALSE(a.front);
    EXPECT_EQ(a.at, deadline);
    EXPECT_EQ(fsm.phase(), call_phase::queued);
    EXPECT_EQ(fsm.wake_at(), deadline);
}

TEST_F(call_state_machine, a_call_submitted_during_shutdown_completes_at_once) {
    const auto a = fsm.submit(false);
    EXPECT_EQ(a.step, call_step::complete);
    EXPECT_EQ(a.error, errc::shutting_down);
    EXPECT_EQ(fsm.phase(), call_phase::done);
}

TEST_F(call_state_machine, a_full_queue_refuses_the_call) {
    reach(call_phase::queued);
    const auto a = fsm.overflow();
    EXPECT_EQ(a.step, call_step::complete);
    EXPECT_EQ(a.error, errc::queue_full);
}

TEST_F(call_state_machine, nothing_is_dispatched_after_the_deadline) {
    reach(call_phase::queued);
    const auto a = fsm.dispatch(deadline);
    EXPECT_EQ(a.step, call_step::complete);
    EXPECT_EQ(a.error, errc::timeout);
    EXPECT_FALSE(fsm.sent());
}

TEST_F(call_state_machine, the_queue_deadline_fires_only_when_due) {
    reach(call_phase::queued);
    EXPECT_EQ(fsm.timer(deadline - 1ms).step, call_step::none);
    EXPECT_EQ(fsm.phase(), call_phase::queued);
    const auto a = fsm.timer(deadline);
    EXPECT_EQ(a.step, call_step::complete);
    EXPECT_EQ(a.error, errc::timeout);
    EXPECT_EQ(a.why, "overall deadline passed while waiting for a connection");
}

TEST_F(call_state_machine, a_call_without_deadline_has_no_timer) {
    fresh(true, time_point::max());
    reach(call_phase::queued);
    EXPECT_EQ(fsm.wake_at(), time_point::max());
    EXPECT_EQ(fsm.dispatch(t0 + 1000h).step, call_step::send);
}

TEST_F(call_state_machine, wire_marks_the_call_sent) {
    reach(call_phase::dispatched);
    EXPECT_FALSE(fsm.sent());
    EXPECT_TRUE(fsm.wire());
    EXPECT_TRUE(fsm.sent());
    EXPECT_EQ(fsm.phase(), call_phase::on_wire);
    EXPECT_FALSE(fsm.wire());  // once per attempt
}

// --- cancellation at every phase -------------------------------------------------------------

TEST_F(call_state_machine, cancel_while_queued_or_backing_off_completes_at_once) {
    for (auto p : {call_phase::queued, call_phase::backing_off}) {
        fresh();
        reach(p);
        const auto a = fsm.cancel(terminal);
        EXPECT_EQ(a.step, call_step::complete) << phase_name(p);
        EXPECT_EQ(a.error, errc::cancelled);
        EXPECT_EQ(a.why, "cancelled by the caller");
        EXPECT_EQ(fsm.phase(), call_phase::done);
    }
}

TEST_F(call_state_machine, cancel_while_a_connection_holds_the_call_aborts_its_exchange) {
    for (auto p : {call_phase::dispatched, call_phase::on_wire}) {
        fresh();
        reach(p);
        const auto a = fsm.cancel(terminal);
        EXPECT_EQ(a.step, call_step::abort) << phase_name(p);
        EXPECT_EQ(a.error, errc::cancelled);
        EXPECT_EQ(fsm.ending(), errc::cancelled);
        EXPECT_EQ(fsm.cancel(terminal).step, call_step::none);  // once
    }
}

TEST_F(call_state_machine, cancel_before_the_start_or_after_the_end_does_nothing) {
    EXPECT_EQ(fsm.cancel(terminal).step, call_step::none);
    reach(call_phase::done);
    EXPECT_EQ(fsm.cancel(terminal).step, call_step::none);
}

// The lost cancel: a terminal cancel lands while the call is being handed to a connection;
// the connection then turns out stale (too old, a FIN at the peek) and gives the call back
// unsent. The call must complete `cancelled`, never go back to the queue and to the wire.
TEST_F(call_state_machine, a_cancel_that_lands_during_the_hand_over_survives_a_requeue) {
    reach(call_phase::dispatched);
    ASSERT_EQ(fsm.cancel(terminal).step, call_step::abort);
    const auto a = fsm.requeue(t0 + 1ms);
    EXPECT_EQ(a.step, call_step::complete);
    EXPECT_EQ(a.error, errc::cancelled);
    EXPECT_FALSE(fsm.sent());
}

TEST_F(call_state_machine, a_cancelled_call_is_never_written) {
    reach(call_phase::dispatched);
    fsm.cancel(terminal);
    EXPECT_FALSE(fsm.wire());
    EXPECT_FALSE(fsm.sent());
    // The connection then reports the attempt unsent.
    const auto a = fsm.attempt_ended(io(attempt_result::cancelled), t0, true, 0.5);
    EXPECT_EQ(a.step, call_step::complete);
    EXPECT_EQ(a.error, errc::cancelled);
}

TEST_F(call_state_machine, a_cancel_pending_when_the_attempt_ends_wins_over_a_retry) {
    reach(call_phase::on_wire);
    fsm.cancel(terminal);
    // The connection was aborted, but its attempt ended first with a retryable answer.
    const auto a = fsm.attempt_ended(status(503), t0, true, 0.5);
    EXPECT_EQ(a.step, call_step::complete);
    EXPECT_EQ(a.error, errc::cancelled);
}

TEST_F(call_state_machine, a_complete_answer_stands_against_a_late_cancel) {
    reach(call_phase::on_wire);
    fsm.cancel(terminal);
    const auto a = fsm.attempt_ended(status(201), t0, true, 0.5);
    EXPECT_EQ(a.step, call_step::complete);
    EXPECT_EQ(a.error, errc{});  // the session exists: the caller gets it
}

TEST_F(call_state_machine, total_cancellation_only_while_nothing_was_sent) {
    reach(call_phase::dispatched);
    EXPECT_EQ(fsm.cancel(total).step, call_step::abort);
    fresh();
    reach(call_phase::on_wire);
    EXPECT_EQ(fsm.cancel(total).step, call_step::none);
    EXPECT_EQ(fsm.cancel(partial).step, call_step::abort);
    // Backing off after a first send: still `sent`, so total is refused there too.
    fresh();
    reach(call_phase::backing_off);
    EXPECT_EQ(fsm.cancel(total).step, call_step::none);
    EXPECT_EQ(fsm.cancel(terminal).step, call_step::complete);
}

// --- stop (hard stop, or the end of the shutdown grace) at every phase -------------------

TEST_F(call_state_machine, stop_at_every_phase) {
    struct want {
        call_phase p;
        call_step step;
    };
    for (auto w :
         {want{call_phase::idle, call_step::none}, want{call_phase::queued, call_step::complete},
          want{call_phase::dispatched, call_step::abort},
          want{call_phase::on_wire, call_step::abort},
          want{call_phase::backing_off, call_step::complete},
          want{call_phase::done, call_step::none}}) {
        fresh();
        reach(w.p);
        const auto a = fsm.stop();
        EXPECT_EQ(a.step, w.step) << phase_name(w.p);
        if (a.step != call_step::none) {
            EXPECT_EQ(a.error, errc::shutting_down) << phase_name(w.p);
        }
    }
}

// After a hard stop a call handed to a connection that was asked to close comes back: it
// must end, not go to another connection.
TEST_F(call_state_machine, a_call_given_back_after_a_stop_ends) {
    reach(call_phase::dispatched);
    ASSERT_EQ(fsm.stop().step, call_step::abort);
    const auto a = fsm.requeue(t0);
    EXPECT_EQ(a.step, call_step::complete);
    EXPECT_EQ(a.error, errc::shutting_down);
    EXPECT_FALSE(fsm.wire());
}

TEST_F(call_state_machine, the_first_ending_wins) {
    reach(call_phase::on_wire);
    fsm.cancel(terminal);
    EXPECT_EQ(fsm.stop().step, call_step::none);
    EXPECT_EQ(fsm.attempt_ended(io(attempt_result::cancelled), t0, true, 0.5).error,
              errc::cancelled);
}

// --- requeues (nothing of the attempt was written) --------------------------------------------

TEST_F(call_state_machine, a_requeue_goes_to_the_front_and_costs_no_attempt) {
    reach(call_phase::dispatched);
    const auto a = fsm.requeue(t0 + 1ms);
    EXPECT_EQ(a.step, call_step::enqueue);
    EXPECT_TRUE(a.front);
    EXPECT_EQ(fsm.attempts(), 0u);
}

TEST_F(call_state_machine, a_requeue_after_the_deadline_times_out) {
    reach(call_phase::dispatched);
    const auto a = fsm.requeue(deadline);
    EXPECT_EQ(a.step, call_step::complete);
    EXPECT_EQ(a.error, errc::timeout);
}

TEST_F(call_state_machine, inputs_that_do_not_apply_to_the_phase_change_nothing) {
    reach(call_phase::queued);
    EXPECT_EQ(fsm.requeue(t0).step, call_step::none);
    EXPECT_EQ(fsm.attempt_ended(status(201), t0, true, 0.5).step, call_step::none);
    EXPECT_FALSE(fsm.wire());
    EXPECT_EQ(fsm.phase(), call_phase::queued);
    EXPECT_EQ(fsm.submit(true).step, call_step::none);
}

// --- attempts ends: the retry decisions through the state machine -----------------------------

TEST_F(call_state_machine, success_completes) {
    reach(call_phase::on_wire);
    const auto a = fsm.attempt_ended(status(201), t0, true, 0.5);
    EXPECT_EQ(a.step, call_step::complete);
    EXPECT_EQ(a.error, errc{});
    EXPECT_EQ(fsm.attempts(), 1u);
}

TEST_F(call_state_machine, a_throttle_backs_off_then_goes_back_to_the_front) {
    reach(call_phase::on_wire);
    auto o = status(429);
    o.retry_after = 2s;
    const auto a = fsm.attempt_ended(o, t0, true, 0.5);
    ASSERT_EQ(a.step, call_step::back_off);
    EXPECT_TRUE(a.retry);
    EXPECT_EQ(a.reason, retry_reason::rate_limited);
    EXPECT_EQ(a.at, t0 + 2s);
    EXPECT_EQ(fsm.wake_at(), t0 + 2s);
    EXPECT_EQ(fsm.timer(t0 + 1s).step, call_step::none);  // early wake-up
    const auto b = fsm.timer(t0 + 2s);
    EXPECT_EQ(b.step, call_step::enqueue);
    EXPECT_TRUE(b.front);
    EXPECT_EQ(fsm.phase(), call_phase::queued);
}

TEST_F(call_state_machine, a_backoff_that_ends_after_the_deadline_times_out) {
    retry.base_backoff = 100ms;
    fresh(true, t0 + 150ms);
    reach(call_phase::on_wire);
    const auto a = fsm.attempt_ended(status(503), t0, true, 0.99);
    ASSERT_EQ(a.step, call_step::back_off);
    // The deadline passes while it backs off (the timer fires late).
    const auto b = fsm.timer(t0 + 200ms);
    EXPECT_EQ(b.step, call_step::complete);
    EXPECT_EQ(b.error, errc::timeout);
    EXPECT_EQ(b.why, "overall deadline passed");
}

TEST_F(call_state_machine, a_stale_connection_is_resent_at_once_without_counting_an_attempt) {
    reach(call_phase::on_wire);
    const auto a = fsm.attempt_ended(io(attempt_result::stale_connection), t0, true, 0.5);
    EXPECT_EQ(a.step, call_step::enqueue);
    EXPECT_TRUE(a.front);
    EXPECT_TRUE(a.retry);
    EXPECT_EQ(a.reason, retry_reason::stale_connection);
    EXPECT_EQ(fsm.attempts(), 0u);
    EXPECT_EQ(fsm.stale_retries(), 1u);
}

TEST_F(call_state_machine, stale_resends_are_bounded) {
    reach(call_phase::on_wire);
    for (unsigned i = 0; i < max_stale_retries; ++i) {
        ASSERT_EQ(fsm.attempt_ended(io(attempt_result::stale_connection), t0, true, 0.5).step,
                  call_step::enqueue);
        ASSERT_EQ(fsm.dispatch(t0).step, call_step::send);
        ASSERT_TRUE(fsm.wire());
    }
    // Past the bound a stale connection is an ordinary retry (backoff, counted).
    EXPECT_EQ(fsm.attempt_ended(io(attempt_result::stale_connection), t0, true, 0.5).step,
              call_step::back_off);
}

TEST_F(call_state_machine, an_ambiguous_failure_without_a_key_is_never_retried) {
    fresh(false);
    reach(call_phase::on_wire);
    const auto a = fsm.attempt_ended(io(attempt_result::ambiguous), t0, true, 0.5);
    EXPECT_EQ(a.step, call_step::complete);
    EXPECT_EQ(a.error, errc::outcome_unknown);
    EXPECT_FALSE(a.why.empty());
}

TEST_F(call_state_machine, an_ambiguous_failure_with_a_key_is_retried) {
    reach(call_phase::on_wire);
    EXPECT_EQ(fsm.attempt_ended(io(attempt_result::ambiguous), t0, true, 0.5).step,
              call_step::back_off);
}

TEST_F(call_state_machine, max_attempts_and_the_budget_end_the_retries) {
    retry.max_attempts = 2;
    fresh();
    reach(call_phase::on_wire);
    ASSERT_EQ(fsm.attempt_ended(status(503), t0, true, 0.0).step, call_step::back_off);
    ASSERT_EQ(fsm.timer(t0).step, call_step::enqueue);
    ASSERT_EQ(fsm.dispatch(t0).step, call_step::send);
    ASSERT_TRUE(fsm.wire());
    const auto a = fsm.attempt_ended(status(503), t0, true, 0.0);
    EXPECT_EQ(a.step, call_step::complete);
    EXPECT_EQ(a.error, errc::server_error);
    EXPECT_EQ(a.why, "max attempts reached");
    EXPECT_EQ(fsm.attempts(), 2u);

    fresh();
    reach(call_phase::on_wire);
    const auto b = fsm.attempt_ended(status(503), t0, false, 0.0);
    EXPECT_EQ(b.step, call_step::complete);
    EXPECT_EQ(b.why, "retry budget exhausted");
}

TEST_F(call_state_machine, a_tls_refusal_is_final) {
    reach(call_phase::dispatched);
    const auto a = fsm.attempt_ended(io(attempt_result::tls_rejected), t0, true, 0.5);
    EXPECT_EQ(a.step, call_step::complete);
    EXPECT_EQ(a.error, errc::tls_failed);
}

TEST_F(call_state_machine, a_connect_failure_before_sending_is_retried) {
    reach(call_phase::dispatched);
    EXPECT_EQ(fsm.attempt_ended(io(attempt_result::connect_failed), t0, true, 0.5).step,
              call_step::back_off);
    EXPECT_FALSE(fsm.sent());
}

// With an adaptive rate a throttle costs no attempt: the call waits its own Retry-After (or
// none), then the rate decides; only its overall deadline bounds it.
TEST_F(call_state_machine, a_rate_paced_call_is_not_charged_for_throttles) {
    retry.max_attempts = 1;
    fsm.reset(deadline, &retry, true, /*rate_paced=*/true);
    reach(call_phase::on_wire);
    for (int i = 0; i < 5; ++i) {
        auto o = status(429);
        const auto a = fsm.attempt_ended(o, t0, true, 0.5);
        ASSERT_EQ(a.step, call_step::enqueue) << i;
        EXPECT_TRUE(a.front);
        EXPECT_EQ(a.reason, retry_reason::rate_limited);
        ASSERT_EQ(fsm.dispatch(t0).step, call_step::send);
        ASSERT_TRUE(fsm.wire());
    }
    EXPECT_EQ(fsm.attempts(), 0u);
    auto o = status(503);
    o.retry_after = 1s;
    const auto b = fsm.attempt_ended(o, t0, true, 0.5);
    ASSERT_EQ(b.step, call_step::back_off);
    EXPECT_EQ(b.at, t0 + 1s);
    ASSERT_EQ(fsm.timer(t0 + 1s).step, call_step::enqueue);
    ASSERT_EQ(fsm.dispatch(t0 + 1s).step, call_step::send);
    ASSERT_TRUE(fsm.wire());
    // A Retry-After that ends past the deadline ends the call.
    o.retry_after = 20s;
    const auto c = fsm.attempt_ended(o, t0 + 1s, true, 0.5);
    EXPECT_EQ(c.step, call_step::complete);
    EXPECT_EQ(c.error, errc::rate_limited);
    // A 500 is an ordinary attempt.
    fresh();
    fsm.reset(deadline, &retry, true, true);
    reach(call_phase::on_wire);
    EXPECT_EQ(fsm.attempt_ended(status(500), t0, true, 0.5).step, call_step::complete);
    EXPECT_EQ(fsm.attempts(), 1u);
}

// Without an overall deadline nothing else would bound it: throttles are attempts then.
TEST_F(call_state_machine, a_rate_paced_call_without_deadline_counts_throttles) {
    retry.max_attempts = 1;
    fsm.reset(time_point::max(), &retry, true, true);
    reach(call_phase::on_wire);
    const auto a = fsm.attempt_ended(status(429), t0, true, 0.5);
    EXPECT_EQ(a.step, call_step::complete);
    EXPECT_EQ(a.error, errc::rate_limited);
}

// A whole life with every deadline: queued past nothing, an attempt timeout, a backoff, a
// second attempt whose deadline passes in the queue.
TEST_F(call_state_machine, one_deadline_spans_every_attempt) {
    retry.base_backoff = 100ms;
    fresh(true, t0 + 1s);
    reach(call_phase::on_wire);
    const auto a = fsm.attempt_ended(io(attempt_result::attempt_timeout), t0 + 500ms, true, 1.0);
    ASSERT_EQ(a.step, call_step::back_off);
    ASSERT_EQ(fsm.timer(a.at).step, call_step::enqueue);
    EXPECT_EQ(fsm.wake_at(), t0 + 1s);  // queued again: the same overall deadline
    const auto b = fsm.timer(t0 + 1s);
    EXPECT_EQ(b.step, call_step::complete);
    EXPECT_EQ(b.error, errc::timeout);
    EXPECT_EQ(fsm.attempts(), 1u);
}

}  // namespace
