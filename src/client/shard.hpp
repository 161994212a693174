#ifndef CATALYST_SRC_CLIENT_SHARD_HPP
#define CATALYST_SRC_CLIENT_SHARD_HPP

// A shard: the calls and connections of one executor. All of its state is touched only on
// that executor (no locks); calls reach it with one `post`. It drives each call's state
// machine (call_fsm.hpp) and carries out its actions: the wait queue, the calls backing off,
// their timers, handing calls to connections, completions, shutdown.

#include "client/call.hpp"
#include "client/call_timers.hpp"
#include "client/connection_fsm.hpp"
#include "client/rate_gate.hpp"
#include "core/token_bucket.hpp"

#include <catalyst/metrics.hpp>
#include <catalyst/observer.hpp>

#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

typedef struct ssl_session_st SSL_SESSION;

namespace catalyst::detail {

class client_impl;
class connection;
using steady = std::chrono::steady_clock;

/// Counters of one shard, summed by `client::metrics()`.
struct alignas(64) shard_metrics {
    std::atomic<std::uint64_t> requests{0}, successes{0}, failures{0}, retries{0};
    std::atomic<std::uint64_t> connections_opened{0}, connections_closed{0};
    std::atomic<std::uint64_t> tls_full{0}, tls_resumed{0}, queue_waits{0};
    std::array<std::atomic<std::uint64_t>, metrics_errc_slots> failures_by_errc{};
    std::array<std::atomic<std::uint64_t>, metrics_retry_reason_slots> retries_by_reason{};
    std::array<std::atomic<std::uint64_t>, latency_bucket_bounds.size() + 1> latency{};
    std::atomic<std::uint64_t> latency_sum_us{0};
    std::atomic<std::size_t> queued{0}, backing_off{0};  ///< mirrors of the shard's lists' sizes
    std::atomic<std::uint64_t> rate_waits{0};  ///< fixed rate: times the queue's head waited for a token
};

class shard : public std::enable_shared_from_this<shard> {
public:
    /// `ex`: where the shard's state lives (a strand for client(executor)); `handler_ex`: where
    /// handlers run by default (the caller's executor, not the strand).
    shard(client_impl& owner, boost::asio::any_io_executor ex, boost::asio::any_io_executor handler_ex,
          std::size_t max_connections, std::size_t queue_limit);
    ~shard();
    shard(const shard&) = delete;
    shard& operator=(const shard&) = delete;

    const boost::asio::any_io_executor& get_executor() const noexcept { return ex_; }
    /// Where handlers run unless they say otherwise, converted once: a call compares its
    /// handler's executor with it, and converting per call would allocate.
    const boost::asio::any_completion_executor& completion_executor() const noexcept { return completion_ex_; }
    const boost::asio::any_io_executor& handler_executor() const noexcept { return handler_ex_; }
    call_pool& pool() noexcept { return *pool_; }
    client_impl& owner() noexcept { return owner_; }
    shard_metrics& stats() noexcept { return metrics_; }

    // --- on the shard's executor: calls ---
    /// Takes over the caller's reference.
    void submit(call_ref c);
    /// A call started on this thread from a completion this shard posted to its own executor
    /// (the client owns the thread) is submitted at once rather than posted: true means the
    /// caller calls submit() now, inside a `submit_scope`. False anywhere else, and inside
    /// such a submit (an observer that starts a call from it goes through a post).
    bool may_submit_inline() const noexcept;
    /// An answer's handler opens a turn: the calls it completes run their handlers at its end,
    /// from that handler, instead of from a posted function. The call a handler starts then
    /// goes to the wire in the same handler as the answer before it, and the event loop does
    /// not poll epoll between the two (a system call per answer). Only where the shard runs on
    /// the io_context its handlers run on, which one thread runs: the client's own thread, or
    /// a caller's io_context made for one thread (client.cpp). True when a turn was
    /// opened: the caller calls end_answer_turn() once the connection's own work is done.
    /// False elsewhere (handlers are posted to the caller's executor, outside the shard's
    /// strand) and inside an open turn.
    bool begin_answer_turn() noexcept;
    /// Closes the turn and runs its completions (run_completions: what a throwing handler
    /// leaves goes to a post). A call completed while they run waits for a post.
    void end_answer_turn();
    struct submit_scope {
        submit_scope() noexcept;
        ~submit_scope();
        submit_scope(const submit_scope&) = delete;
        submit_scope& operator=(const submit_scope&) = delete;
        shard* completing_before;
    };
    void cancel(call* c, boost::asio::cancellation_type_t type);

    // --- on the shard's executor: from connections ---
    /// The connection finished an attempt of `c` (it holds `c` no more).
    void attempt_done(call* c, const attempt_report& r);
    /// A connection asks for its next call; nullptr: none (`close`: the connection must close,
    /// else it is now idle).
    call* next_call(connection* conn, bool& close);
    /// A call handed to a connection that could not use it comes back unsent.
    void requeue(call* c);
    /// A new connection finished opening (established or failed): the next may start.
    void connection_opened();
    void connection_closed(connection* conn) noexcept;
    /// Forgets a connection that goes without running anything more (its executor dropped it).
    void forget(connection* conn) noexcept;
    /// An idle connection leaves the idle list (it closes).
    void remove_idle(connection* conn) noexcept;
    /// The adaptive rate's concurrency cap has a free place again (from any thread).
    void wake_from_gate();

    // --- shutdown ---
    /// Every caller's `done` runs once the shard has stopped (concurrent shutdowns all complete).
    void begin_shutdown(steady::time_point grace_deadline, std::function<void()> done);
    void hard_stop();
    bool shutting_down() const noexcept { return shutting_down_; }

    // --- shared by the shard's connections: the DNS cache and the TLS session ---
    std::vector<boost::asio::ip::tcp::endpoint> cached_endpoints(steady::time_point now) const;
    void cache_endpoints(std::vector<boost::asio::ip::tcp::endpoint> eps, steady::time_point now);
    SSL_SESSION* tls_session() const noexcept { return tls_session_; }
    void store_tls_session(SSL_SESSION* s);  ///< takes ownership
    /// The connection's first answer came and no resumable session with it (the server gives
    /// no tickets): connections stop waiting for one (waits_for_ticket).
    void answered_without_ticket(const connection* conn);

private:
    /// Carries out a call's action. `before`: its phase before the input that gave `a`.
    void apply(call* c, call_phase before, const call_action& a);
    /// The one path from the queue to the wire: hands queued calls to idle connections, or
    /// to new ones while the caps allow. Re-entered (a connection failing at once), it only
    /// asks the running loop to go round again.
    void dispatch();
    void dispatch_loop();
    /// The next queued call that may be sent now; calls whose deadline passed in the queue
    /// complete with `timeout` on the way. nullptr when none (or pacing says wait).
    call* pop_ready(steady::time_point now);
    void open_connection(call* c);
    /// A cold start with session resumption on: the first connection opens alone, and the
    /// others wait for the session ticket it learns, to resume it (a full handshake costs the
    /// client about three times the instructions of a resumed one, and the server likewise).
    /// They wait for it at most 200 ms from its start (shard.cpp says why), and no longer once
    /// it answered without a ticket, failed, or a session is known. True: do not open now.
    bool waits_for_ticket(steady::time_point now);
    /// A new connection may open now: the caps, the stop, and waits_for_ticket.
    bool may_open(steady::time_point now);
    enum class admission { send, wait, reject };
    /// May the queue's head go to the wire now (the rate: fixed, or adaptive)? When it must
    /// wait, a timer (or the end of an attempt) calls dispatch() again.
    admission admit(call* c, steady::time_point now);
    void wait_for_slot(steady::time_point at);
    /// The call's attempt left the wire: the adaptive rate hears how (`r`: an answer, or none).
    void leave_rate_wire(call* c, const attempt_outcome* answer, steady::time_point now);
    void rate_event(const rate_decision_event& e);
    void arm_timer();
    void on_timer();
    /// Completes the call and drops the shard's reference.
    void finish(call* c, errc e, std::string_view why = {}, session s = {});
    /// Runs `run` on `work`, the executor a handler is bound to, after this shard's handler.
    template <class Run>
    void post_to_bound_executor(boost::asio::any_completion_executor work, Run run);
    /// Posts run_completions to the handlers' executor.
    void post_completions();
    /// Runs the handlers of the calls completed since the last time, in order, on the
    /// handlers' executor.
    void run_completions();
    /// What a throwing handler left of its batch goes first at the next run (noexcept: called
    /// while the exception unwinds).
    void keep_completions(call_list& rest) noexcept;
    /// The answer of a call: the session decoded (200/201), the error body read when someone
    /// will look at it or the decision needs it. Fills `o` and `s`.
    void read_answer(call* c, const http_response& resp, attempt_outcome& o, std::string& api_code, session& s);
    /// What an attempt's end leaves behind: diagnostics, observer, log, metrics.
    void record_attempt(call* c, const attempt_report& r, const attempt_outcome& o, const call_action& a);
    void stop_everything();
    void check_shutdown_done();
    /// Observer events (callers check `observer_` first: one branch when there is none).
    void attempt_started(call* c, bool reused);
    void attempt_ended(call* c, const attempt_report* r, unsigned status, errc error, bool retried,
                       retry_reason reason, milliseconds backoff, std::string_view request_id);

    client_impl& owner_;
    boost::asio::any_io_executor ex_;
    boost::asio::any_io_executor handler_ex_;
    boost::asio::any_completion_executor completion_ex_;
    /// Completions run on the shard's own io_context thread (may_submit_inline).
    bool inline_submit_ = false;
    /// Calls completed and not yet handed to their handlers (those on the client's executor),
    /// each holding the shard's reference; one posted run_completions for all of them.
    call_list completed_;
    bool completions_posted_ = false;
    bool answer_turn_ = false;  ///< begin_answer_turn: completions wait for end_answer_turn
    /// Guards the two above when the handlers run elsewhere than the shard (the caller's
    /// executor, the shard on a strand of it); where one thread runs both, nothing.
    std::mutex completed_mutex_;
    struct completed_lock {
        explicit completed_lock(shard& s) : s_(s) {
            if (!s_.inline_submit_) s_.completed_mutex_.lock();
        }
        ~completed_lock() {
            if (!s_.inline_submit_) s_.completed_mutex_.unlock();
        }
        completed_lock(const completed_lock&) = delete;
        completed_lock& operator=(const completed_lock&) = delete;
        shard& s_;
    };
    std::shared_ptr<call_pool> pool_;
    std::size_t max_connections_;
    std::size_t queue_limit_;
    std::size_t max_opening_;  ///< max_opening_connections, this shard's share
    call_list queue_;
    call_list backoff_;
    call_timers timers_;
    boost::asio::steady_timer timer_;
    steady::time_point timer_at_ = steady::time_point::max();  ///< max: not armed
    std::vector<connection*> idle_;
    std::vector<connection*> all_;
    std::size_t opening_ = 0;          ///< connections being opened (client_params.hpp says why capped)
    std::size_t active_requests_ = 0;  ///< accepted here, not completed
    std::size_t active_retries_ = 0;
    bool dispatching_ = false;
    bool dispatch_again_ = false;
    std::vector<boost::asio::ip::tcp::endpoint> dns_;
    steady::time_point dns_expiry_{};
    SSL_SESSION* tls_session_ = nullptr;
    // waits_for_ticket: the connection opened alone, until when the others wait for its ticket,
    // and whether the waiting is over for good.
    const connection* warming_ = nullptr;
    steady::time_point warm_until_{};
    bool warm_done_ = false;
    bool shutting_down_ = false;
    bool stopped_ = false;
    std::vector<std::function<void()>> shutdown_done_;
    boost::asio::steady_timer shutdown_timer_;
    bool shutdown_armed_ = false;
    token_bucket pacing_;  ///< the fixed rate, this shard's share
    rate_gate* rate_;      ///< the adaptive rate (client_impl's), null in fixed mode
    boost::asio::steady_timer pacing_timer_;
    steady::time_point pacing_at_ = steady::time_point::max();  ///< max: not armed
    shard_metrics metrics_;
    client_observer* observer_ = nullptr;  ///< client_params::observer, kept alive by the params
};

}  // namespace catalyst::detail

#endif
