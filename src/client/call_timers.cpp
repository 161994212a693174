#include "client/call_timers.hpp"

#include "client/call.hpp"

namespace catalyst::detail {

namespace {
constexpr std::size_t none = static_cast<std::size_t>(-1);
}

void call_timers::place(std::size_t i, entry e) noexcept {
    heap_[i] = e;
    e.c->timer_slot = i;
}

void call_timers::up(std::size_t i) noexcept {
    const entry e = heap_[i];
    while (i > 0) {
        const std::size_t parent = (i - 1) / 2;
        if (!(e.at < heap_[parent].at)) break;
        place(i, heap_[parent]);
        i = parent;
    }
    place(i, e);
}

void call_timers::down(std::size_t i) noexcept {
    const entry e = heap_[i];
    const std::size_t n = heap_.size();
    for (;;) {
        std::size_t child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && heap_[child + 1].at < heap_[child].at) ++child;
        if (!(heap_[child].at < e.at)) break;
        place(i, heap_[child]);
        i = child;
    }
    place(i, e);
}

void call_timers::set(call* c, time_point at) {
    if (c->timer_slot != none) {
        const std::size_t i = c->timer_slot;
        const bool earlier = at < heap_[i].at;
        heap_[i].at = at;
        if (earlier) up(i);
        else down(i);
        return;
    }
    heap_.push_back(entry{at, c});
    c->timer_slot = heap_.size() - 1;
    up(heap_.size() - 1);
}

void call_timers::remove(call* c) noexcept {
    const std::size_t i = c->timer_slot;
    if (i == none) return;
    c->timer_slot = none;
    const entry last = heap_.back();
    heap_.pop_back();
    if (i == heap_.size()) return;  // it was the last one
    place(i, last);
    if (i > 0 && last.at < heap_[(i - 1) / 2].at) up(i);
    else down(i);
}

call* call_timers::pop_due(time_point now) noexcept {
    if (heap_.empty() || now < heap_.front().at) return nullptr;
    call* c = heap_.front().c;
    remove(c);
    return c;
}

}  // namespace catalyst::detail
