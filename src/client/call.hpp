#ifndef CATALYST_SRC_CLIENT_CALL_HPP
#define CATALYST_SRC_CLIENT_CALL_HPP

// One logical call, from initiation to completion: what it sends, where its result goes, and
// its state machine (call_fsm.hpp). Call objects come from a per-shard pool so that a call
// costs no allocation.
//
// Lifetime has one rule: a call is alive while someone holds a reference (`call_ref`). The
// shard holds one from `submit` until it completes the call; a cancellation handler in the
// caller's slot holds one until the slot is cleared. The last reference gives the object back
// to its pool, and a call that is in use keeps its pool alive, so a reference that outlives
// the client (a slot the caller keeps) is still safe to drop. Nothing else refers to a call
// after it completes: the shard's timers and lists let go of it first.

#include "client/call_fsm.hpp"

#include <catalyst/client.hpp>

#include <boost/asio/any_completion_executor.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace catalyst::detail {

class shard;
class connection;
class call_pool;

struct call {
    call_fsm fsm;
    shard* owner = nullptr;           ///< set by the shard when it takes the call
    shard* owner_at_start = nullptr;  ///< the shard chosen at initiation (cancellations go there)
    std::string body;
    std::string key;               ///< Idempotency-Key, "" = none
    std::string extra_headers;     ///< request_options::headers, as "Name: value\r\n" lines
    std::string observer_context;  ///< request_options::observer_context
    retry_params retry;
    diagnostics* diag = nullptr;
    create_session_handler handler;
    /// The other result style (`async_create_session(..., session& out, ...)`): the answer is
    /// decoded into `*out` (its strings' capacity reused) and `into_handler` gets the code.
    session* out = nullptr;
    create_session_into_handler into_handler;
    /// Outstanding work on the handler's own executor when it is not the default one, so that
    /// its run() waits for the completion; empty otherwise.
    boost::asio::any_completion_executor handler_work;
    /// From its completion to its handler, for a handler that runs with the shard's batch of
    /// completions (shard::run_completions): the code, and the by-value style's session.
    boost::system::error_code result;
    session answer;
    std::chrono::steady_clock::time_point start{};
    // For the observer only: when the call became ready for a connection (its start, the end
    // of a backoff, a requeue), when its current attempt started, and whether one is open.
    std::chrono::steady_clock::time_point ready_at{};
    std::chrono::steady_clock::time_point attempt_start{};
    std::chrono::steady_clock::time_point sent_at{};  ///< when its current attempt reached the wire
    bool attempt_open = false;
    bool retrying = false;  ///< counted in the shard's active retries
    bool on_rate_wire = false;  ///< counted on the wire by the adaptive rate (rate_gate)
    connection* conn = nullptr;  ///< while dispatched or on the wire
    call* prev = nullptr;        ///< list links (the wait queue, the calls backing off)
    call* next = nullptr;
    std::size_t timer_slot = static_cast<std::size_t>(-1);  ///< in the shard's timer heap; -1 = none

    // --- lifetime ---
    std::atomic<std::uint32_t> refs{0};
    std::shared_ptr<call_pool> pool;  ///< set while the call is in use
};

/// A counted reference to a call (see the file comment).
class call_ref {
public:
    call_ref() noexcept = default;
    explicit call_ref(call* c) noexcept : c_(c) {
        if (c_) c_->refs.fetch_add(1, std::memory_order_relaxed);
    }
    call_ref(const call_ref& o) noexcept : call_ref(o.c_) {}
    call_ref(call_ref&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
    call_ref& operator=(call_ref o) noexcept {
        std::swap(c_, o.c_);
        return *this;
    }
    ~call_ref() { reset(); }
    void reset() noexcept;
    /// Gives up the reference without dropping it: the owner keeps it as a plain pointer
    /// (the shard, for its active calls) and hands it back with `adopt`.
    call* release() noexcept { return std::exchange(c_, nullptr); }
    static call_ref adopt(call* c) noexcept {
        call_ref r;
        r.c_ = c;
        return r;
    }
    call* get() const noexcept { return c_; }
    call* operator->() const noexcept { return c_; }
    explicit operator bool() const noexcept { return c_ != nullptr; }

private:
    call* c_ = nullptr;
};

/// Free call objects of one shard. `acquire` runs on the calling thread, the release on
/// whichever thread drops the last reference: one short lock each, except on the pool's home
/// thread (the shard's own, for a client that owns its threads), where calls started from
/// completion handlers are taken and given back without a lock, from a list of its own. At most
/// `cap` free objects are kept on each side (memory stays flat after a burst); the others are
/// freed.
class call_pool : public std::enable_shared_from_this<call_pool> {
public:
    explicit call_pool(std::size_t cap) : cap_(cap) { free_.reserve(cap); }
    ~call_pool();
    call_pool(const call_pool&) = delete;
    call_pool& operator=(const call_pool&) = delete;

    /// A clean call holding one reference (the caller's).
    call_ref acquire();
    std::size_t cached() const;

    /// The home: the io_context whose thread may use the lock-free side (set once, before
    /// that thread runs).
    void set_home(const void* context) {
        home_ = context;
        home_free_.reserve(cap_);  // never grown on the way: no allocation per call
    }
    /// Marks the calling thread as the one running `context` (client_impl::run_owned).
    class running_scope {
    public:
        explicit running_scope(const void* context) noexcept;
        ~running_scope();
        running_scope(const running_scope&) = delete;
        running_scope& operator=(const running_scope&) = delete;

    private:
        const void* before_;
    };

private:
    friend class call_ref;
    /// The last reference is gone: reset `c` and keep or free it.
    void release(call* c) noexcept;
    bool at_home() const noexcept;

    mutable std::mutex mutex_;
    std::vector<call*> free_;
    std::size_t cap_;
    const void* home_ = nullptr;
    std::vector<call*> home_free_;  ///< the home thread's only
};

/// An intrusive FIFO of calls (the wait queue, the calls backing off).
struct call_list {
    call* head = nullptr;
    call* tail = nullptr;
    std::size_t size = 0;
    /// When set, `size` is copied there on every change (a gauge readable from any thread).
    std::atomic<std::size_t>* mirror = nullptr;
    void push_back(call* c) noexcept;
    void push_front(call* c) noexcept;
    call* pop_front() noexcept;
    void erase(call* c) noexcept;
};

}  // namespace catalyst::detail

#endif
