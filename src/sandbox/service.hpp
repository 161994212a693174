#ifndef CATALYST_SRC_SANDBOX_SERVICE_HPP
#define CATALYST_SRC_SANDBOX_SERVICE_HPP

// The sandbox's API without sockets: a request's method, target, headers and body in, the
// answer out. The server (server.cpp) only moves bytes and applies the faults.
// service.cpp: the state and its lifecycle; api.cpp: /api/...; admin.cpp: /sandbox/....

#include <catalyst/sandbox.hpp>
#include <catalyst/session_request.hpp>

#include "core/token_bucket.hpp"
#include "sandbox/exchange.hpp"
#include "sandbox/faults.hpp"
#include "sandbox/idempotency_store.hpp"
#include "sandbox/rate_schedule.hpp"
#include "sandbox/session_store.hpp"
#include "sandbox/sha256.hpp"
#include "sandbox/stats.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace catalyst::sandbox_detail {

/// The sandbox's state and rules, shared by all server threads.
class service {
public:
    using time_point = std::chrono::steady_clock::time_point;

    explicit service(const sandbox_params& p);  ///< p must be normalized
    ~service();

    /// Requests under /api/.
    void handle_api(const api_request& r, api_response& out);
    /// Requests under /sandbox/.
    void handle_admin(const api_request& r, api_response& out);

    /// Answers of the injected 429 and 5xx faults.
    void fault_throttle(const fault_params& f, api_response& out);
    void fault_server_error(const fault_params& f, api_response& out);

    stats_counters& stats() noexcept { return stats_; }
    sandbox_stats stats_snapshot();
    std::vector<ledger_entry> ledger();
    void reset();
    /// Starts the global rate limit's schedule again now (the server's start).
    void restart_rate_schedule() { global_limit_.restart(now()); }

    void set_faults(const fault_params& f);
    std::shared_ptr<const fault_params> faults() const;
    std::uint64_t faults_generation() const noexcept { return faults_generation_.load(std::memory_order_acquire); }
    /// 1-based index of the next eligible request / read since the last set_faults.
    std::uint64_t next_request_index() noexcept { return request_index_.fetch_add(1, std::memory_order_relaxed) + 1; }
    std::uint64_t next_read_index() noexcept { return read_index_.fetch_add(1, std::memory_order_relaxed) + 1; }

    const sandbox_params& params() const noexcept { return params_; }
    /// The params' clock, or the steady clock.
    time_point now() const { return params_.clock ? params_.clock() : std::chrono::steady_clock::now(); }

private:
    // api.cpp
    bool authenticate(const api_request& r, unsigned& key_index, api_response& out);
    /// The per-key and the global limits; false with the 429 in `out`.
    bool admit(unsigned key_index, api_response& out);
    void create_session(const api_request& r, unsigned key_index, api_response& out);
    /// Decodes and validates the body; false with the 400 in `out` when it is invalid.
    bool read_request(std::string_view body, session_request& req, api_response& out);
    /// The answer of an idempotency replay, rebuilt from what the record kept.
    void replay(std::string_view body, unsigned status, std::string& payload, api_response& out);
    void get_session(std::string_view token, unsigned key_index, api_response& out);
    void session_body(std::string& out, std::string_view token) const;
    std::string new_token();

    // admin.cpp
    /// False with 401/403 in `out` when an admin endpoint may not be used.
    bool admin_allowed(const api_request& r, api_response& out) const;
    void ledger_page(std::string_view query, api_response& out);
    void rate_schedule_endpoint(const api_request& r, api_response& out);

    // service.cpp
    void remember_session(session_record rec);
    void journal(const session_record& rec);
    /// One session as a JSON object: token, redacted API key, campaign[, gateway], idempotent, created.
    void append_session_json(std::string& out, const session_record& rec, bool with_gateway) const;

    sandbox_params params_;
    std::string payment_url_base_json_;  ///< escaped once
    bool admin_token_needed_ = false;    ///< a token is set, or the listen address is not loopback
    sha256_digest admin_token_hash_{};
    stats_counters stats_;
    idempotency_store idempotency_;
    session_store sessions_;
    struct key_bucket {
        std::mutex m;
        detail::token_bucket tb{0, 0, time_point{}};
    };
    std::unique_ptr<key_bucket[]> key_buckets_;  ///< one per API key; off without a per-key limit
    global_rate_limiter global_limit_;

    mutable std::mutex faults_mutex_;
    std::shared_ptr<const fault_params> faults_;
    std::atomic<std::uint64_t> faults_generation_{1};
    std::atomic<std::uint64_t> request_index_{0};
    std::atomic<std::uint64_t> read_index_{0};

    std::mutex journal_mutex_;
    std::FILE* journal_ = nullptr;
};

}  // namespace catalyst::sandbox_detail

#endif
