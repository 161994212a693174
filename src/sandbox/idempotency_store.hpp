#ifndef CATALYST_SRC_SANDBOX_IDEMPOTENCY_STORE_HPP
#define CATALYST_SRC_SANDBOX_IDEMPOTENCY_STORE_HPP

// The sandbox's idempotency records: what a request carrying an Idempotency-Key gets.

#include "sandbox/sha256.hpp"
#include "sandbox/stats.hpp"

#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace catalyst::sandbox_detail {

/// What the idempotency store says about a request carrying a key.
enum class idempotency_outcome { proceed, replay, conflict, in_progress };

/// The idempotency records, bounded in time (`ttl`, 0 = none) and in number: one map and one
/// list of the keys, oldest first, under one lock (expiry and eviction both take the oldest).
/// A record holds the SHA-256 of the request body, never the body. The time is passed in
/// (the service's clock), so that expiry is tested without sleeping.
class idempotency_store {
public:
    using time_point = std::chrono::steady_clock::time_point;
    idempotency_store(std::chrono::milliseconds ttl, std::size_t max_records, stats_counters& stats)
        : ttl_(ttl), max_(max_records), stats_(stats) {}

    /// proceed: the caller owns the key and must `complete` or `abandon` it.
    /// replay: `status`/`payload` hold what `complete` stored for the first answer.
    idempotency_outcome begin(unsigned key_index, std::string_view key, std::string_view request_body, time_point now,
                              unsigned& status, std::string& payload);
    /// `payload`: what a replay needs to rebuild the answer (see service::create_session).
    void complete(unsigned key_index, std::string_view key, unsigned status, std::string_view payload);
    void abandon(unsigned key_index, std::string_view key);
    /// Forgets everything; returns how many records there were.
    std::size_t clear();
    std::size_t size();

private:
    struct record {
        sha256_digest body_hash{};
        bool done = false;
        unsigned status = 0;
        std::string payload;
        time_point first_seen;
        std::list<const std::string*>::iterator age;  ///< its place in `order_`
    };
    static std::string map_key(unsigned key_index, std::string_view key);
    void erase_oldest();
    void expire(time_point now);

    std::chrono::milliseconds ttl_;
    std::size_t max_;
    stats_counters& stats_;
    std::mutex m_;
    std::unordered_map<std::string, record> map_;
    std::list<const std::string*> order_;  ///< the map's keys (stable addresses), oldest first
};

}  // namespace catalyst::sandbox_detail

#endif
