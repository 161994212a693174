#include "client/rate_gate.hpp"

#include <algorithm>

namespace catalyst::detail {

rate_gate::rate_gate(const rate_params& p, time_point now) : controller_(p, now) {}

rate_gate::admission rate_gate::admit(time_point now, double uniform01, double jitter01,
                                      const std::weak_ptr<shard>& waiter) {
    std::lock_guard lock(mutex_);
    admission a;
    if (on_wire_ >= controller_.concurrency_cap()) {
        // Little's law says the API cannot take more at once: an attempt's end frees a place.
        const bool known = std::any_of(waiting_.begin(), waiting_.end(),
                                       [&](const std::weak_ptr<shard>& w) { return !w.owner_before(waiter) && !waiter.owner_before(w); });
        if (!known) waiting_.push_back(waiter);
        return a;
    }
    const auto r = controller_.try_acquire(now, uniform01, jitter01);
    switch (r.what) {
    case rate_controller::verdict::send:
        ++on_wire_;
        a.what = verdict::send;
        break;
    case rate_controller::verdict::wait:
        a.retry_at = controller_.next_slot(now);
        break;
    case rate_controller::verdict::reject:
        a.what = verdict::reject;
        a.event = r.event;
        break;
    }
    return a;
}

std::vector<std::weak_ptr<shard>> rate_gate::leave_wire_locked() {
    if (on_wire_ > 0) --on_wire_;
    return std::exchange(waiting_, {});
}

void rate_gate::wake(std::vector<std::weak_ptr<shard>> waiting) {
    if (!wake_) return;
    for (const auto& w : waiting) wake_(w);
}

std::optional<rate_decision_event> rate_gate::answered(time_point sent, time_point now, bool throttled,
                                                       std::optional<std::chrono::milliseconds> retry_after,
                                                       double uniform01) {
    std::optional<rate_decision_event> e;
    std::vector<std::weak_ptr<shard>> waiting;
    {
        std::lock_guard lock(mutex_);
        if (throttled) e = controller_.on_throttled(sent, now, retry_after, uniform01);
        else e = controller_.on_accepted(sent, now);
        waiting = leave_wire_locked();
    }
    wake(std::move(waiting));
    return e;
}

void rate_gate::released(time_point now) {
    std::vector<std::weak_ptr<shard>> waiting;
    {
        std::lock_guard lock(mutex_);
        controller_.on_unanswered(now);
        waiting = leave_wire_locked();
    }
    wake(std::move(waiting));
}

void rate_gate::fill(metrics_snapshot& m, time_point now) {
    std::lock_guard lock(mutex_);
    controller_.fill(m, now);
}

}  // namespace catalyst::detail
