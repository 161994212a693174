#ifndef CATALYST_SRC_CLIENT_CLIENT_IMPL_HPP
#define CATALYST_SRC_CLIENT_CLIENT_IMPL_HPP

// The pool's internals. One `shard` per executor; all of a shard's state is touched only on
// its executor (no locks). Calls reach a shard with one `post`.

#include <catalyst/client.hpp>
#include <catalyst/observer.hpp>

#include "client/connection_policy.hpp"
#include "client/http_response.hpp"
#include "client/op_pool.hpp"
#include "core/origin.hpp"
#include "client/retry_policy.hpp"
#include "client/token_bucket.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <functional>
#include <array>
#include <string>
#include <thread>
#include <vector>

typedef struct ssl_session_st SSL_SESSION;

namespace catalyst::detail {

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
};

class client_impl;

/// What the connection read, handed to the shard to decide on.
struct attempt_report {
    attempt_result result = attempt_result::response;
    const http_response* response = nullptr;
    std::string error;  ///< for diagnostics: what went wrong on the wire
    std::optional<errc> forced;  ///< the shard aborted the exchange with this code
    // For the observer (filled only when there is one; cheap counters otherwise).
    connection_use connection = connection_use::none;
    std::size_t bytes_sent = 0;
    std::size_t bytes_received = 0;
    std::chrono::microseconds connect{0}, tls_handshake{0}, time_to_first_byte{0};
    std::string_view tls_cipher;  ///< the connection's negotiated suite (OpenSSL's static name)
};

class shard : public std::enable_shared_from_this<shard> {
public:
    /// `ex`: where the shard's state lives (a strand for client(executor)); `handler_ex`: where
    /// handlers run by default (the caller's executor, not the strand).
    shard(client_impl& owner, boost::asio::any_io_executor ex, boost::asio::any_io_executor handler_ex,
          std::size_t max_connections, std::size_t queue_limit);
    ~shard();

    const boost::asio::any_io_executor& get_executor() const noexcept { return ex_; }
    /// Where handlers run unless they say otherwise, converted once: a call compares its
    /// handler's executor with it, and converting per call would allocate.
    const boost::asio::any_completion_executor& completion_executor() const noexcept { return completion_ex_; }
    op_pool& pool() noexcept { return pool_; }
    const boost::asio::any_io_executor& handler_executor() const noexcept { return handler_ex_; }
    client_impl& owner() noexcept { return owner_; }
    shard_metrics& stats() noexcept { return metrics_; }

    // --- on the shard's executor ---
    void submit(request_op* op);
    void cancel(request_op* op, boost::asio::cancellation_type_t type);
    /// The connection finished an attempt of `op`.
    void attempt_done(request_op* op, const attempt_report& r, bool reused_connection);
    /// A connection asks for its next request; nullptr = it is now idle.
    request_op* next_request(connection* c, bool& close);
    /// An op handed to a connection that cannot use it after all goes back to the front.
    void requeue_front(request_op* op);
    void remove_idle(connection* c);
    void connection_closed(connection* c);
    /// Every caller's `done` runs once the shard has stopped (concurrent shutdowns all complete).
    void begin_shutdown(steady::time_point grace_deadline, std::function<void()> done);
    void hard_stop();

    // DNS cache and TLS session, shared by the shard's connections.
    std::vector<boost::asio::ip::tcp::endpoint> cached_endpoints(steady::time_point now) const;
    void cache_endpoints(std::vector<boost::asio::ip::tcp::endpoint> eps, steady::time_point now);
    SSL_SESSION* tls_session() const noexcept { return tls_session_; }
    void store_tls_session(SSL_SESSION* s);  ///< takes ownership

    bool shutting_down() const noexcept { return shutting_down_; }
    void register_connection(connection* c) {
        all_.push_back(c);
        ++opening_;
    }
    /// A new connection finished opening (DNS, TCP, TLS), or gave up: the next may start.
    void connection_opened();

private:
    /// The one path from the queue to the wire: hands queued calls to idle connections, or
    /// to new ones while the cap allows.
    void dispatch();
    /// The next queued call that may be sent now; calls whose deadline passed in the queue
    /// complete with `timeout` on the way (nothing goes on the wire after a deadline).
    /// nullptr when none (or pacing says wait).
    request_op* pop_ready();
    /// Queues `op` (at the front for a call that was already on its way) with its deadline
    /// timer armed.
    void enqueue(request_op* op, bool front);
    void arm_op_timer(request_op* op, steady::time_point at);
    void on_op_timer(request_op* op, std::uint32_t gen);
    void finish(request_op* op, boost::system::error_code ec, session s = {});
    /// Posts a completion to the handler's executor (`work` when it has its own).
    template <class Run>
    void post_completion(boost::asio::any_completion_executor work, Run run);
    void open_connection(request_op* first);
    /// Pacing: may one more request go to the wire now? If not, a timer calls dispatch().
    bool take_token();
    void check_shutdown_done();
    void cancel_everything(errc why);
    /// Observer events (callers check `observer_` first: one branch when there is none).
    void attempt_started(request_op* op, bool reused);
    void attempt_ended(request_op* op, const attempt_report* r, unsigned status, errc error, bool retried,
                       retry_reason reason, milliseconds backoff, std::string_view request_id);

    client_impl& owner_;
    boost::asio::any_io_executor ex_;
    boost::asio::any_io_executor handler_ex_;
    boost::asio::any_completion_executor completion_ex_;
    std::size_t max_connections_;
    op_list queue_;
    op_list backoff_;
    std::size_t queue_limit_;
    std::size_t max_opening_;  ///< max_opening_connections, this shard's share
    std::vector<connection*> idle_;
    std::vector<connection*> all_;
    /// Connections being opened, at most `max_opening_connections` (client_params.hpp says why).
    std::size_t opening_ = 0;
    std::size_t active_requests_ = 0;  ///< accepted here, not completed
    std::size_t active_retries_ = 0;
    std::vector<boost::asio::ip::tcp::endpoint> dns_;
    steady::time_point dns_expiry_{};
    SSL_SESSION* tls_session_ = nullptr;
    bool shutting_down_ = false;
    bool stopped_ = false;
    std::vector<std::function<void()>> shutdown_done_;
    std::unique_ptr<boost::asio::steady_timer> shutdown_timer_;
    token_bucket pacing_;
    std::unique_ptr<boost::asio::steady_timer> pacing_timer_;
    bool pacing_armed_ = false;
    shard_metrics metrics_;
    client_observer* observer_ = nullptr;  ///< client_params::observer, kept alive by the params
    op_pool pool_;  // last: freed ops' timers go before the rest
};

class client_impl : public std::enable_shared_from_this<client_impl> {
public:
    /// One shard per executor; `handler_executor`: where handlers run by default (each shard's
    /// own executor when null).
    client_impl(client_params p, std::vector<boost::asio::any_io_executor> executors,
                boost::asio::any_io_executor handler_executor = {});
    ~client_impl();

    const client_params& params() const noexcept { return params_; }
    const origin& target() const noexcept { return origin_; }
    const std::string& head_prefix() const noexcept { return head_prefix_; }
    boost::asio::ssl::context& tls() noexcept { return tls_; }
    std::vector<std::shared_ptr<shard>>& shards() noexcept { return shards_; }
    shard& pick_shard() noexcept;
    std::size_t shard_count() const noexcept { return shard_count_; }

    void set_logger(log_function fn);
    bool logging() const noexcept { return has_logger_.load(std::memory_order_relaxed); }
    /// Is a message of level `l` wanted (a logger, and `l` >= min_log_level)? Checked before
    /// a message is formatted.
    bool logs(log_level l) const noexcept { return l >= params_.min_log_level && logging(); }
    /// Calls the user's logger (when `logs(l)`); whatever it throws is swallowed (logging
    /// never breaks a call).
    void log(log_level l, std::string_view msg) const noexcept;
    /// Runs an owned thread's io_context until it stops; a handler that throws is logged and
    /// the loop goes on (the process is not terminated).
    void run_owned(boost::asio::io_context& ctx) noexcept;

    // Owned threads (client(params)).
    std::vector<std::unique_ptr<boost::asio::io_context>> contexts;
    std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guards;
    std::vector<std::thread> threads;

private:
    client_params params_;
    origin origin_;
    std::string head_prefix_;
    boost::asio::ssl::context tls_;
    std::vector<std::shared_ptr<shard>> shards_;
    std::atomic<std::size_t> next_shard_{0};
    std::size_t shard_count_ = 1;
    mutable std::mutex log_mutex_;  // only on log events, never per request
    log_function logger_;
    std::atomic<bool> has_logger_{false};
};

/// Spawns the coroutine of a new connection that starts with `first`. Defined in connection.cpp.
void spawn_connection(std::shared_ptr<shard> s, request_op* first);
/// Hands `op` to an idle connection and wakes it.
void assign(connection* c, request_op* op);
/// Closes an idle connection (idle timeout, shutdown) or aborts the in-flight exchange.
void close_idle(connection* c);
void abort_exchange(connection* c, errc why);
/// Is an op assigned to this connection (connecting or exchanging)?
bool has_op(const connection* c);

/// Builds the SSL context for `p` (verification on, TLS >= 1.2, the CAs). Throws config_error.
void configure_tls(boost::asio::ssl::context& ctx, const client_params& p);

/// Fills `d` from an error answer (DRF shapes: detail/code, field lists, nested lead).
void read_error_body(const http_response& r, diagnostics& d, std::string& api_code_out);

/// A random UUID v4 (lower case, hyphenated).
std::string uuid_v4();
void uuid_v4(std::string& out);
/// Uniform in [0, 1), a per-thread generator.
double uniform01();

}  // namespace catalyst::detail

#endif
