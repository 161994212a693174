#include "client/call.hpp"

namespace catalyst::detail {

void call_ref::reset() noexcept {
    call* c = std::exchange(c_, nullptr);
    if (!c || c->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    // The last reference: the pool may go with it, so it is held until the call is back.
    auto pool = std::move(c->pool);
    pool->release(c);
}

namespace {
thread_local const void* running_context = nullptr;
}  // namespace

call_pool::running_scope::running_scope(const void* context) noexcept
    : before_(std::exchange(running_context, context)) {}

call_pool::running_scope::~running_scope() { running_context = before_; }

bool call_pool::at_home() const noexcept { return home_ != nullptr && running_context == home_; }

call_pool::~call_pool() {
    for (auto* c : free_) delete c;
    for (auto* c : home_free_) delete c;
}

call_ref call_pool::acquire() {
    call* c = nullptr;
    if (at_home() && !home_free_.empty()) {
        c = home_free_.back();
        home_free_.pop_back();
    } else {
        std::lock_guard lock(mutex_);
        if (!free_.empty()) {
            c = free_.back();
            free_.pop_back();
        }
    }
    if (!c) c = new call;
    c->pool = shared_from_this();
    return call_ref(c);
}

void call_pool::release(call* c) noexcept {
    c->fsm = call_fsm{};
    c->owner = nullptr;
    c->owner_at_start = nullptr;
    c->body.clear();
    c->key.clear();
    c->extra_headers.clear();
    c->observer_context.clear();
    c->diag = nullptr;
    c->out = nullptr;
    // Moved out by a completion; a call dropped without one (a failure to start it) must not
    // keep its handler alive in the free list.
    c->handler = nullptr;
    c->into_handler = nullptr;
    c->handler_work = nullptr;
    c->result = {};
    c->answer = session{};
    c->attempt_open = false;
    c->retrying = false;
    c->on_rate_wire = false;
    c->conn = nullptr;
    c->prev = c->next = nullptr;
    c->timer_slot = static_cast<std::size_t>(-1);
    try {
        if (at_home()) {
            if (home_free_.size() < cap_) {
                home_free_.push_back(c);
                return;
            }
        } else {
            std::lock_guard lock(mutex_);
            if (free_.size() < cap_) {
                free_.push_back(c);
                return;
            }
        }
    } catch (...) {
    }
    delete c;
}

std::size_t call_pool::cached() const {
    std::lock_guard lock(mutex_);
    return free_.size() + (at_home() ? home_free_.size() : 0);  // the home side only seen from home
}

void call_list::push_back(call* c) noexcept {
    c->next = nullptr;
    c->prev = tail;
    (tail ? tail->next : head) = c;
    tail = c;
    ++size;
    if (mirror) mirror->store(size, std::memory_order_relaxed);
}

void call_list::push_front(call* c) noexcept {
    c->prev = nullptr;
    c->next = head;
    (head ? head->prev : tail) = c;
    head = c;
    ++size;
    if (mirror) mirror->store(size, std::memory_order_relaxed);
}

call* call_list::pop_front() noexcept {
    call* c = head;
    if (c) erase(c);
    return c;
}

void call_list::erase(call* c) noexcept {
    (c->prev ? c->prev->next : head) = c->next;
    (c->next ? c->next->prev : tail) = c->prev;
    c->prev = c->next = nullptr;
    --size;
    if (mirror) mirror->store(size, std::memory_order_relaxed);
}

}  // namespace catalyst::detail
