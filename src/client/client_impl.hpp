#ifndef CATALYST_SRC_CLIENT_CLIENT_IMPL_HPP
#define CATALYST_SRC_CLIENT_CLIENT_IMPL_HPP

// The client's shared state: its settings, the origin, the TLS context, the shards (one per
// executor: shard.hpp) and, for client(params), the threads it owns.

#include <catalyst/client.hpp>

#include "client/http_response.hpp"
#include "client/rate_gate.hpp"
#include "client/shard.hpp"
#include "core/origin.hpp"
#include "core/random.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace catalyst::detail {

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
    /// The adaptive rate of the origin, shared by the shards; null in fixed mode.
    rate_gate* rate() noexcept { return rate_.get(); }
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
    std::unique_ptr<rate_gate> rate_;  // before the shards: they use it until they go
    std::vector<std::shared_ptr<shard>> shards_;
    std::atomic<std::size_t> next_shard_{0};
    std::size_t shard_count_ = 1;
    mutable std::mutex log_mutex_;  // only on log events, never per request
    log_function logger_;
    std::atomic<bool> has_logger_{false};
};

/// Builds the SSL context for `p` (verification on, TLS >= 1.2, the CAs). Throws config_error.
void configure_tls(boost::asio::ssl::context& ctx, const client_params& p);

/// Fills `d` from an error answer (DRF shapes: detail/code, field lists, nested lead).
void read_error_body(const http_response& r, diagnostics& d, std::string& api_code_out);

/// A random UUID v4 (lower case, hyphenated).
std::string uuid_v4();
void uuid_v4(std::string& out);

}  // namespace catalyst::detail

#endif
