#ifndef CATALYST_SRC_CLIENT_OP_POOL_HPP
#define CATALYST_SRC_CLIENT_OP_POOL_HPP

// The call objects: one `request_op` per logical call, from initiation to completion, kept
// in a per-shard pool so that a call costs no allocation, and capped so that memory stays
// flat whichever threads make the calls.

#include <catalyst/client.hpp>

#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace catalyst::detail {

using steady = std::chrono::steady_clock;
class shard;
class connection;
struct request_op;

enum class op_state { idle, queued, in_flight, backoff, done };

/// What a cancellation handler installed in the caller's slot refers to: never the op itself
/// (it may be recycled or freed by the time a late cancellation arrives), this link, which
/// the shard clears when the call completes. Read and written only on the shard's executor.
struct cancel_link {
    request_op* op = nullptr;
};

/// One logical call.
struct request_op {
    std::atomic<std::uint32_t> gen{0};  ///< bumped on every reuse; stale timers check it
    /// Expires with the op: a timer completion queued before the op was freed sees it.
    std::shared_ptr<const bool> alive = std::make_shared<const bool>(true);
    shard* owner = nullptr;
    std::string body;
    std::string key;                  ///< Idempotency-Key, "" = none
    std::string extra_headers;        ///< request_options::headers, as "Name: value\r\n" lines
    std::string observer_context;     ///< request_options::observer_context
    bool ambiguous_retry_ok = false;
    diagnostics* diag = nullptr;
    create_session_handler handler;
    /// The other result style (`async_create_session(..., session& out, ...)`): the answer is
    /// decoded into `*out` (its strings' capacity reused) and `into_handler` gets the code.
    session* out = nullptr;
    create_session_into_handler into_handler;
    /// Outstanding work on the handler's own executor when it is not the default one, so that
    /// its run() waits for the completion; empty otherwise.
    boost::asio::any_completion_executor handler_work;
    std::shared_ptr<cancel_link> link;  ///< set when the caller's handler has a cancellation slot
    steady::time_point start{};
    // For the observer only: when the call became ready for a connection (its start, the end
    // of a backoff, a requeue), when its current attempt started, and whether one is open.
    steady::time_point ready_at{};
    steady::time_point attempt_start{};
    bool attempt_open = false;
    steady::time_point deadline = steady::time_point::max();
    retry_params retry;
    unsigned attempts = 0;
    unsigned stale_retries = 0;
    bool retrying = false;            ///< counted in the shard's active retries
    bool sent = false;                ///< some attempt reached the wire
    op_state state = op_state::idle;
    connection* conn = nullptr;
    request_op* prev = nullptr;       ///< queue links (intrusive, O(1) removal)
    request_op* next = nullptr;
    std::unique_ptr<boost::asio::steady_timer> timer;  ///< queue deadline / backoff (the shard's executor)
};

/// An intrusive FIFO of ops (the wait queue, the ops backing off).
struct op_list {
    request_op* head = nullptr;
    request_op* tail = nullptr;
    std::size_t size = 0;
    /// When set, `size` is copied there on every change (a gauge readable from any thread).
    std::atomic<std::size_t>* mirror = nullptr;
    void push_back(request_op* op) noexcept;
    void push_front(request_op* op) noexcept;
    request_op* pop_front() noexcept;
    void erase(request_op* op) noexcept;
};

/// Free call objects of one shard. `acquire` runs on the calling thread, `release` on the
/// shard's: one short lock each. At most `cap` free objects are kept; the others are freed.
class op_pool {
public:
    explicit op_pool(std::size_t cap) : cap_(cap) { free_.reserve(cap); }
    ~op_pool();
    op_pool(const op_pool&) = delete;
    op_pool& operator=(const op_pool&) = delete;

    request_op* acquire();
    /// Resets `op` (its handler must have been moved out) and keeps or frees it.
    void release(request_op* op) noexcept;
    std::size_t cached() const;
    std::size_t cap() const noexcept { return cap_; }

private:
    mutable std::mutex mutex_;
    std::vector<request_op*> free_;
    std::size_t cap_;
};

}  // namespace catalyst::detail

#endif
