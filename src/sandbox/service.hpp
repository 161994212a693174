#ifndef CATALYST_SRC_SANDBOX_SERVICE_HPP
#define CATALYST_SRC_SANDBOX_SERVICE_HPP

// The sandbox's API without sockets: a request's method, target, headers and body in, the
// answer out. The Beast driver (server.cpp) only moves bytes and applies the faults.

#include <catalyst/field_error.hpp>
#include <catalyst/sandbox.hpp>

#include "sandbox/faults.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace catalyst::sandbox_detail {

struct stats_counters {
    std::atomic<std::uint64_t> connections{0}, connections_rejected{0}, requests{0}, created{0}, replayed{0},
        duplicates_rejected{0}, duplicates_reused{0}, idempotency_conflicts{0}, idempotency_in_progress{0},
        rate_limited{0}, malformed{0};
    std::array<std::atomic<std::uint64_t>, 600> by_status{};
    std::array<std::atomic<std::uint64_t>, fault_kind_count> faults{};

    void count_status(unsigned s) noexcept {
        if (s < by_status.size()) by_status[s].fetch_add(1, std::memory_order_relaxed);
    }
    void count_fault(fault_kind k) noexcept { faults[static_cast<unsigned>(k)].fetch_add(1, std::memory_order_relaxed); }
    sandbox_stats snapshot() const;
};

/// A token bucket, clock passed in: `take` returns 0 when a token was taken, else the
/// seconds (rounded up, >= 1) until one is available.
class token_bucket {
public:
    using clock = std::chrono::steady_clock;
    token_bucket(double rate, double burst) : rate_(rate), burst_(burst), tokens_(burst) {}
    unsigned take(clock::time_point now);

private:
    double rate_, burst_, tokens_;
    clock::time_point last_{};
    bool started_ = false;
};

/// What the idempotency store says about a request carrying a key.
enum class idempotency_outcome { proceed, replay, conflict, in_progress };

/// Sharded by key: no lock is shared by requests with different keys (most of the time).
class idempotency_store {
public:
    /// proceed: the caller owns the key and must `complete` or `abandon` it.
    /// replay: `status`/`body` hold the first answer.
    idempotency_outcome begin(unsigned key_index, std::string_view key, std::string_view request_body, unsigned& status,
                              std::string& body);
    void complete(unsigned key_index, std::string_view key, unsigned status, std::string_view body);
    void abandon(unsigned key_index, std::string_view key);

private:
    struct record {
        bool done = false;
        std::string request_body;
        unsigned status = 0;
        std::string response_body;
    };
    struct shard {
        std::mutex m;
        std::unordered_map<std::string, record> map;
    };
    static constexpr std::size_t shard_count = 64;
    static std::string map_key(unsigned key_index, std::string_view key);
    shard& shard_for(const std::string& k);
    std::array<shard, shard_count> shards_;
};

struct session_record {
    std::string token;
    unsigned key_index = 0;
    std::string campaign_id;
    std::string gateway_id;
    std::string email;
    std::string idempotency_key;
    std::chrono::system_clock::time_point created;
};

/// The ledger (by token) and the duplicate-lead index (by campaign + lower-case email).
class session_store {
public:
    void insert(session_record r);
    bool find(std::string_view token, session_record& out);
    std::vector<session_record> all();

    /// Under the lead's shard lock: the existing token for (campaign, email), or, when none,
    /// `make()` is called to create one, which is remembered. Returns true when it existed.
    template <class Make>
    bool find_or_create_lead(const std::string& lead_key, std::string& token, Make&& make) {
        auto& s = lead_shards_[std::hash<std::string>{}(lead_key) % shard_count];
        std::lock_guard lock(s.m);
        auto it = s.map.find(lead_key);
        if (it != s.map.end()) {
            token = it->second;
            return true;
        }
        token = make();
        s.map.emplace(lead_key, token);
        return false;
    }

private:
    static constexpr std::size_t shard_count = 64;
    // Append-only: a hash map of every session cost more than the rest of a request under
    // load (cache misses, rehashing). `find` scans one shard; it serves a sandbox extension.
    struct shard {
        std::mutex m;
        std::deque<session_record> records;
    };
    static std::size_t shard_of(std::string_view token) noexcept;
    struct lead_shard {
        std::mutex m;
        std::unordered_map<std::string, std::string> map;
    };
    std::array<shard, shard_count> shards_;
    std::array<lead_shard, shard_count> lead_shards_;
};

enum class http_method { get, post, put, del, head, other };

struct api_request {
    http_method method = http_method::other;
    std::string_view target;
    bool has_authorization = false;
    std::string_view authorization;
    bool has_content_type = false;
    std::string_view content_type;
    bool has_idempotency_key = false;
    std::string_view idempotency_key;
    std::string_view body;
};

struct api_response {
    unsigned status = 200;
    std::string body;
    std::string_view content_type = "application/json";
    std::string headers;  ///< extra header lines, each ending in "\r\n"
    bool created = false;  ///< a session was created while answering

    void clear() {
        status = 200;
        body.clear();
        content_type = "application/json";
        headers.clear();
        created = false;
    }
};

/// The sandbox's state and rules, shared by all server threads.
class service {
public:
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
    std::vector<ledger_entry> ledger();

    void set_faults(const fault_params& f);
    std::shared_ptr<const fault_params> faults() const;
    std::uint64_t faults_generation() const noexcept { return faults_generation_.load(std::memory_order_acquire); }
    /// 1-based index of the next eligible request / read since the last set_faults.
    std::uint64_t next_request_index() noexcept { return request_index_.fetch_add(1, std::memory_order_relaxed) + 1; }
    std::uint64_t next_read_index() noexcept { return read_index_.fetch_add(1, std::memory_order_relaxed) + 1; }

    const sandbox_params& params() const noexcept { return params_; }

private:
    void create_session(const api_request& r, unsigned key_index, api_response& out);
    void get_session(std::string_view token, unsigned key_index, api_response& out);
    bool authenticate(const api_request& r, unsigned& key_index, api_response& out);
    bool throttle(unsigned key_index, api_response& out);
    void session_body(std::string& out, std::string_view token) const;
    std::string new_token();
    void journal(const session_record& rec);

    sandbox_params params_;
    std::string payment_url_base_json_;  ///< escaped once
    stats_counters stats_;
    idempotency_store idempotency_;
    session_store sessions_;
    struct bucket {
        std::mutex m;
        std::unique_ptr<token_bucket> tb;
    };
    std::unique_ptr<bucket[]> buckets_;

    mutable std::mutex faults_mutex_;
    std::shared_ptr<const fault_params> faults_;
    std::atomic<std::uint64_t> faults_generation_{1};
    std::atomic<std::uint64_t> request_index_{0};
    std::atomic<std::uint64_t> read_index_{0};

    std::mutex journal_mutex_;
    std::FILE* journal_ = nullptr;
};

/// Appends `s` as a JSON string literal (quotes included).
void append_json_string(std::string& out, std::string_view s);
/// DRF-shaped 400 body: {"field": ["msg"], "lead": {"email": ["msg"]}}.
std::string field_errors_body(const field_errors& errors);

}  // namespace catalyst::sandbox_detail

#endif
