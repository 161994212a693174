#ifndef CATALYST_SRC_SANDBOX_SESSION_STORE_HPP
#define CATALYST_SRC_SANDBOX_SESSION_STORE_HPP

// The sessions the sandbox created (its ledger) and the leads its reject/reuse campaigns know.

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace catalyst::sandbox_detail {

struct session_record {
    std::string token;
    unsigned key_index = 0;
    std::string campaign_id;
    std::string gateway_id;
    std::string email;
    std::string idempotency_key;
    std::chrono::system_clock::time_point created;
};

/// The duplicate-lead index key: campaign + lower-case email.
std::string lead_key(std::string_view campaign_id, std::string_view email);

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
    bool find_or_create_lead(const std::string& lead_key, std::string& token, const std::function<std::string()>& make);
    /// Forgets the lead when it still names `token`.
    void forget_lead(const std::string& lead_key, std::string_view token);

private:
    static constexpr std::size_t shard_count = 64;
    struct lead_shard {
        std::mutex m;
        std::unordered_map<std::string, std::string> map;
    };
    lead_shard& shard_of(const std::string& lead_key) {
        return lead_shards_[std::hash<std::string>{}(lead_key) % shard_count];
    }

    std::size_t max_;
    std::mutex m_;
    std::deque<session_record> records_;  ///< oldest first; push_back/pop_front keep the others in place
    std::uint64_t first_number_ = 0;      ///< creation number of records_.front()
    std::unordered_map<std::string_view, std::uint64_t> by_token_;  ///< views of records_[i].token
    std::array<lead_shard, shard_count> lead_shards_;
};

}  // namespace catalyst::sandbox_detail

#endif
