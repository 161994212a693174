#ifndef CATALYST_SRC_SANDBOX_SERVICE_HPP
#define CATALYST_SRC_SANDBOX_SERVICE_HPP

// The sandbox's API without sockets: a request's method, target, headers and body in, the
// answer out. The Beast driver (server.cpp) only moves bytes and applies the faults.

#include <catalyst/field_error.hpp>
#include <catalyst/sandbox.hpp>
#include <catalyst/session_request.hpp>

#include "sandbox/faults.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <list>
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
        rate_limited{0}, malformed{0}, sessions_evicted{0}, idempotency_expired{0}, idempotency_evicted{0};
    std::array<std::atomic<std::uint64_t>, 600> by_status{};
    std::array<std::atomic<std::uint64_t>, fault_kind_count> faults{};

    void count_status(unsigned s) noexcept {
        if (s < by_status.size()) by_status[s].fetch_add(1, std::memory_order_relaxed);
    }
    void count_fault(fault_kind k) noexcept { faults[static_cast<unsigned>(k)].fetch_add(1, std::memory_order_relaxed); }
    sandbox_stats snapshot() const;
    /// Every counter back to 0 (POST /sandbox/reset).
    void zero() noexcept;
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

/// The idempotency records, bounded in time (`ttl`, 0 = none) and in number: one map and one
/// list of the keys, oldest first, under one lock (expiry and eviction both take the oldest).
/// A record holds the SHA-256 of the request body, never the body.
class idempotency_store {
public:
    using clock = std::chrono::steady_clock;
    idempotency_store(std::chrono::milliseconds ttl, std::size_t max_records, stats_counters& stats)
        : ttl_(ttl), max_(max_records), stats_(stats) {}

    /// proceed: the caller owns the key and must `complete` or `abandon` it.
    /// replay: `status`/`payload` hold what `complete` stored for the first answer.
    idempotency_outcome begin(unsigned key_index, std::string_view key, std::string_view request_body, unsigned& status,
                              std::string& payload);
    /// `payload`: what a replay needs to rebuild the answer (see service::create_session).
    void complete(unsigned key_index, std::string_view key, unsigned status, std::string_view payload);
    void abandon(unsigned key_index, std::string_view key);
    /// Forgets everything; returns how many records there were.
    std::size_t clear();
    std::size_t size();

private:
    using digest = std::array<unsigned char, 32>;
    struct record {
        digest body_hash{};
        bool done = false;
        unsigned status = 0;
        std::string payload;
        clock::time_point first_seen;
        std::list<const std::string*>::iterator age;  ///< its place in `order_`
    };
    static std::string map_key(unsigned key_index, std::string_view key);
    void erase_oldest();
    void expire(clock::time_point now);

    std::chrono::milliseconds ttl_;
    std::size_t max_;
    stats_counters& stats_;
    std::mutex m_;
    std::unordered_map<std::string, record> map_;
    std::list<const std::string*> order_;  ///< the map's keys (stable addresses), oldest first
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

/// The ledger (in creation order, at most `max_sessions`, by token through an index) and the
/// duplicate-lead index (by campaign + lower-case email).
class session_store {
public:
    explicit session_store(std::size_t max_sessions) : max_(max_sessions) {}

    /// Appends `r`; when the ledger is full the oldest record is moved to `evicted` (its
    /// lead, if any, is the caller's to forget).
    void insert(session_record r, std::vector<session_record>& evicted);
    bool find(std::string_view token, session_record& out);
    std::vector<session_record> all();
    /// Up to `limit` records from creation number `from` (0 = the first since start/reset;
    /// evicted numbers are skipped). `first` is the number of the first returned, `next` the
    /// number after the last returned, or 0 when nothing follows.
    std::vector<session_record> page(std::uint64_t from, std::size_t limit, std::uint64_t& first, std::uint64_t& next);
    std::size_t size();
    /// Forgets every session and lead; returns how many sessions there were.
    std::size_t clear();

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
    /// Forgets the lead when it still names `token`.
    void forget_lead(const std::string& lead_key, std::string_view token);

private:
    static constexpr std::size_t shard_count = 64;
    std::size_t max_;
    std::mutex m_;
    std::deque<session_record> records_;  ///< oldest first; push_back/pop_front keep the others in place
    std::uint64_t first_number_ = 0;      ///< creation number of records_.front()
    std::unordered_map<std::string_view, std::uint64_t> by_token_;  ///< views of records_[i].token
    struct lead_shard {
        std::mutex m;
        std::unordered_map<std::string, std::string> map;
    };
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
    sandbox_stats stats_snapshot();
    std::vector<ledger_entry> ledger();
    void reset();

    void set_faults(const fault_params& f);
    std::shared_ptr<const fault_params> faults() const;
    std::uint64_t faults_generation() const noexcept { return faults_generation_.load(std::memory_order_acquire); }
    /// 1-based index of the next eligible request / read since the last set_faults.
    std::uint64_t next_request_index() noexcept { return request_index_.fetch_add(1, std::memory_order_relaxed) + 1; }
    std::uint64_t next_read_index() noexcept { return read_index_.fetch_add(1, std::memory_order_relaxed) + 1; }

    const sandbox_params& params() const noexcept { return params_; }

private:
    void create_session(const api_request& r, unsigned key_index, api_response& out);
    /// Decodes and validates the body; false with the 400 in `out` when it is invalid.
    bool read_request(std::string_view body, session_request& req, api_response& out);
    /// The answer of an idempotency replay, rebuilt from what the record kept.
    void replay(std::string_view body, unsigned status, std::string& payload, api_response& out);
    void remember_session(session_record rec);
    /// False with 401/403 in `out` when an admin endpoint may not be used.
    bool admin_allowed(const api_request& r, api_response& out) const;
    void ledger_page(std::string_view query, api_response& out);
    void get_session(std::string_view token, unsigned key_index, api_response& out);
    bool authenticate(const api_request& r, unsigned& key_index, api_response& out);
    bool throttle(unsigned key_index, api_response& out);
    void session_body(std::string& out, std::string_view token) const;
    std::string new_token();
    void journal(const session_record& rec);
    /// One session as a JSON object: token, redacted API key, campaign[, gateway], idempotent, created.
    void append_session_json(std::string& out, const session_record& rec, bool with_gateway) const;

    sandbox_params params_;
    std::string payment_url_base_json_;  ///< escaped once
    bool admin_token_needed_ = false;    ///< a token is set, or the listen address is not loopback
    std::array<unsigned char, 32> admin_token_hash_{};
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

/// SHA-256 of `data`.
std::array<unsigned char, 32> sha256(std::string_view data);

/// Appends `s` as a JSON string literal (quotes included).
void append_json_string(std::string& out, std::string_view s);
/// DRF-shaped 400 body: {"field": ["msg"], "lead": {"email": ["msg"]}}.
std::string field_errors_body(const field_errors& errors);

}  // namespace catalyst::sandbox_detail

#endif
