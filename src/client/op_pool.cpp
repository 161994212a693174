#include "client/op_pool.hpp"

namespace catalyst::detail {

// --- op_list ------------------------------------------------------------------------------
void op_list::push_back(request_op* op) noexcept {
    op->next = nullptr;
    op->prev = tail;
    (tail ? tail->next : head) = op;
    tail = op;
    ++size;
    if (mirror) mirror->store(size, std::memory_order_relaxed);
}
void op_list::push_front(request_op* op) noexcept {
    op->prev = nullptr;
    op->next = head;
    (head ? head->prev : tail) = op;
    head = op;
    ++size;
    if (mirror) mirror->store(size, std::memory_order_relaxed);
}
request_op* op_list::pop_front() noexcept {
    auto* op = head;
    if (op) erase(op);
    return op;
}
void op_list::erase(request_op* op) noexcept {
    (op->prev ? op->prev->next : head) = op->next;
    (op->next ? op->next->prev : tail) = op->prev;
    op->prev = op->next = nullptr;
    --size;
    if (mirror) mirror->store(size, std::memory_order_relaxed);
}

// --- op_pool ------------------------------------------------------------------------------
op_pool::~op_pool() {
    for (auto* op : free_) delete op;
}

request_op* op_pool::acquire() {
    {
        std::lock_guard lock(mutex_);
        if (!free_.empty()) {
            auto* op = free_.back();
            free_.pop_back();
            return op;
        }
    }
    return new request_op;
}

void op_pool::release(request_op* op) noexcept {
    op->gen.fetch_add(1, std::memory_order_relaxed);
    if (op->timer) op->timer->cancel();  // a queued completion sees the new generation
    op->handler_work = nullptr;
    op->link.reset();
    op->diag = nullptr;
    op->out = nullptr;
    op->body.clear();
    op->key.clear();
    op->extra_headers.clear();
    op->observer_context.clear();
    op->state = op_state::idle;
    op->conn = nullptr;
    op->prev = op->next = nullptr;
    op->retrying = op->sent = op->attempt_open = false;
    op->attempts = op->stale_retries = 0;
    op->owner = nullptr;
    {
        std::lock_guard lock(mutex_);
        if (free_.size() < cap_) {
            try {
                free_.push_back(op);
                return;
            } catch (...) {
            }
        }
    }
    delete op;
}

std::size_t op_pool::cached() const {
    std::lock_guard lock(mutex_);
    return free_.size();
}

}  // namespace catalyst::detail
