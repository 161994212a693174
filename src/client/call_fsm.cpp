#include "client/call_fsm.hpp"

namespace catalyst::detail {

namespace net = boost::asio;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

namespace {
bool has(net::cancellation_type_t set, net::cancellation_type_t t) noexcept {
    return (set & t) != net::cancellation_type::none;
}

std::string_view why_ended(errc e) noexcept {
    return e == errc::cancelled ? "cancelled by the caller" : "the client is shutting down";
}
}  // namespace

std::string_view phase_name(call_phase p) noexcept {
    switch (p) {
    case call_phase::idle: return "idle";
    case call_phase::queued: return "queued";
    case call_phase::dispatched: return "dispatched";
    case call_phase::on_wire: return "on_wire";
    case call_phase::backing_off: return "backing_off";
    case call_phase::done: return "done";
    }
    return "?";
}

void call_fsm::reset(time_point deadline, const retry_params* retry, bool key_makes_retry_safe,
                     bool rate_paced) noexcept {
    *this = call_fsm{};
    deadline_ = deadline;
    retry_ = retry;
    key_safe_ = key_makes_retry_safe;
    rate_paced_ = rate_paced;
}

call_action call_fsm::complete(errc e, std::string_view why, retry_reason r) noexcept {
    phase_ = call_phase::done;
    call_action a;
    a.step = call_step::complete;
    a.error = e;
    a.why = why;
    a.reason = r;
    return a;
}

call_action call_fsm::enqueue(bool front) noexcept {
    phase_ = call_phase::queued;
    call_action a;
    a.step = call_step::enqueue;
    a.front = front;
    a.at = deadline_;
    return a;
}

call_action call_fsm::end_pending() noexcept { return complete(*ending_, why_ended(*ending_)); }

call_action call_fsm::submit(bool accepting) noexcept {
    if (phase_ != call_phase::idle) return {};
    if (!accepting) return complete(errc::shutting_down, why_ended(errc::shutting_down));
    return enqueue(false);
}

call_action call_fsm::overflow() noexcept {
    if (phase_ != call_phase::queued) return {};
    return complete(errc::queue_full, "the wait queue is full (queue_limit)");
}

call_action call_fsm::refuse(errc e, std::string_view why) noexcept {
    if (phase_ != call_phase::queued) return {};
    return complete(e, why);
}

call_action call_fsm::dispatch(time_point now) noexcept {
    if (phase_ != call_phase::queued) return {};
    if (now >= deadline_) return complete(errc::timeout, "overall deadline passed while waiting for a connection");
    phase_ = call_phase::dispatched;
    call_action a;
    a.step = call_step::send;
    return a;
}

bool call_fsm::wire() noexcept {
    if (phase_ != call_phase::dispatched || ending_) return false;
    phase_ = call_phase::on_wire;
    sent_ = true;
    return true;
}

call_action call_fsm::requeue(time_point now) noexcept {
    if (phase_ != call_phase::dispatched) return {};
    if (ending_) return end_pending();
    if (now >= deadline_) return complete(errc::timeout, "overall deadline passed while waiting for a connection");
    return enqueue(true);
}

call_action call_fsm::attempt_ended(const attempt_outcome& o, time_point now, bool budget_allows,
                                    double uniform01) noexcept {
    if (phase_ != call_phase::dispatched && phase_ != call_phase::on_wire) return {};
    const bool throttled = o.result == attempt_result::response && (o.status == 429 || o.status == 503);
    if (throttled && rate_paced_ && deadline_ != time_point::max()) {
        // The rate decides when it goes again (the throttle slowed it down); its own
        // Retry-After, if any, it waits first (capped as any Retry-After is).
        if (ending_) return end_pending();
        call_action a;
        const auto wait = o.retry_after ? std::min(*o.retry_after, retry_->max_retry_after) : milliseconds(0);
        if (wait.count() > 0) {
            if (now + wait >= deadline_)
                return complete(errc::rate_limited, "overall deadline too close", retry_reason::rate_limited);
            phase_ = call_phase::backing_off;
            backoff_until_ = now + wait;
            a.step = call_step::back_off;
            a.at = backoff_until_;
        } else {
            a = enqueue(true);
        }
        a.retry = true;
        a.reason = retry_reason::rate_limited;
        return a;
    }
    if (o.result != attempt_result::stale_connection) ++attempts_;
    retry_state st;
    st.attempts = attempts_;
    st.stale_retries = stale_retries_;
    st.key_makes_retry_safe = key_safe_;
    if (deadline_ != time_point::max())
        st.remaining = deadline_ > now ? duration_cast<milliseconds>(deadline_ - now) : milliseconds(0);
    st.budget_allows = budget_allows;
    const retry_decision d = decide(o, st, *retry_, uniform01);
    // A complete answer stands even when a cancel or a stop came meanwhile: the session
    // exists. Anything else ends the call that way.
    if (d.action == next_action::succeed) return complete(errc{});
    if (ending_) return end_pending();
    if (d.action == next_action::fail) return complete(d.error, d.no_retry_reason, d.reason);
    call_action a;
    if (d.action == next_action::retry_now) {
        ++stale_retries_;
        a = enqueue(true);
    } else {
        phase_ = call_phase::backing_off;
        backoff_until_ = now + d.wait;
        a.step = call_step::back_off;
        a.at = backoff_until_;
    }
    a.retry = true;
    a.reason = d.reason;
    return a;
}

call_action call_fsm::cancel(net::cancellation_type_t type) noexcept {
    // terminal and partial at any point; total only while nothing was sent.
    const bool any_time = has(type, net::cancellation_type::terminal) || has(type, net::cancellation_type::partial);
    if (!any_time && !(has(type, net::cancellation_type::total) && !sent_)) return {};
    return end(errc::cancelled);
}

call_action call_fsm::stop() noexcept { return end(errc::shutting_down); }

call_action call_fsm::end(errc why) noexcept {
    switch (phase_) {
    case call_phase::queued:
    case call_phase::backing_off:
        return complete(why, why_ended(why));
    case call_phase::dispatched:
    case call_phase::on_wire: {
        // Its connection holds it: the ending is kept for the call's next input.
        if (ending_) return {};
        ending_ = why;
        call_action a;
        a.step = call_step::abort;
        a.error = why;
        return a;
    }
    case call_phase::idle:
    case call_phase::done:
        break;
    }
    return {};
}

call_action call_fsm::timer(time_point now) noexcept {
    switch (phase_) {
    case call_phase::queued:
        if (now >= deadline_) return complete(errc::timeout, "overall deadline passed while waiting for a connection");
        return {};
    case call_phase::backing_off:
        if (now < backoff_until_) return {};
        if (now >= deadline_) return complete(errc::timeout, "overall deadline passed");
        return enqueue(true);
    default:
        return {};
    }
}

call_fsm::time_point call_fsm::wake_at() const noexcept {
    switch (phase_) {
    case call_phase::queued: return deadline_;
    case call_phase::backing_off: return backoff_until_;
    default: return time_point::max();
    }
}

}  // namespace catalyst::detail
