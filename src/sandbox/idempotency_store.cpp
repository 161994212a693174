#include "sandbox/idempotency_store.hpp"

#include "core/text.hpp"

namespace catalyst::sandbox_detail {

std::string idempotency_store::map_key(unsigned key_index, std::string_view key) {
    std::string k;
    k.reserve(key.size() + 8);
    detail::append_uint(k, key_index);
    k += '\n';
    k += key;
    return k;
}

void idempotency_store::erase_oldest() {
    auto it = map_.find(*order_.front());
    order_.pop_front();
    if (it != map_.end()) map_.erase(it);
}

void idempotency_store::expire(time_point now) {
    if (ttl_.count() <= 0) return;
    // `order_` is oldest first: the expired records are a prefix of it.
    while (!order_.empty()) {
        auto it = map_.find(*order_.front());
        if (it != map_.end() && now - it->second.first_seen < ttl_) return;
        erase_oldest();
        stats_.idempotency_expired.fetch_add(1, std::memory_order_relaxed);
    }
}

idempotency_outcome idempotency_store::begin(unsigned key_index, std::string_view key, std::string_view request_body,
                                             time_point now, unsigned& status, std::string& payload) {
    const auto k = map_key(key_index, key);
    const sha256_digest h = sha256(request_body);
    std::lock_guard lock(m_);
    expire(now);
    auto [it, inserted] = map_.try_emplace(k);
    if (inserted) {
        it->second.body_hash = h;
        it->second.first_seen = now;
        it->second.age = order_.insert(order_.end(), &it->first);
        if (map_.size() > max_) {
            // The oldest is another record: this one is at the back and max_ >= 1.
            erase_oldest();
            stats_.idempotency_evicted.fetch_add(1, std::memory_order_relaxed);
        }
        return idempotency_outcome::proceed;
    }
    if (!same_digest(it->second.body_hash, h)) return idempotency_outcome::conflict;
    if (!it->second.done) return idempotency_outcome::in_progress;
    status = it->second.status;
    payload = it->second.payload;
    return idempotency_outcome::replay;
}

void idempotency_store::complete(unsigned key_index, std::string_view key, unsigned status, std::string_view payload) {
    const auto k = map_key(key_index, key);
    std::lock_guard lock(m_);
    auto it = map_.find(k);
    if (it == map_.end()) return;  // expired or evicted meanwhile
    it->second.done = true;
    it->second.status = status;
    it->second.payload.assign(payload);
}

void idempotency_store::abandon(unsigned key_index, std::string_view key) {
    const auto k = map_key(key_index, key);
    std::lock_guard lock(m_);
    auto it = map_.find(k);
    if (it == map_.end()) return;
    order_.erase(it->second.age);
    map_.erase(it);
}

std::size_t idempotency_store::clear() {
    std::lock_guard lock(m_);
    const std::size_t n = map_.size();
    order_.clear();
    map_.clear();
    return n;
}

std::size_t idempotency_store::size() {
    std::lock_guard lock(m_);
    return map_.size();
}

}  // namespace catalyst::sandbox_detail
