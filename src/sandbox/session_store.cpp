#include "sandbox/session_store.hpp"

#include "core/text.hpp"

#include <algorithm>

namespace catalyst::sandbox_detail {

std::string lead_key(std::string_view campaign_id, std::string_view email) {
    std::string k(campaign_id);
    k += '\n';
    for (char c : email) k += detail::ascii_lower(c);
    return k;
}

void session_store::insert(session_record r, std::vector<session_record>& evicted) {
    std::lock_guard lock(m_);
    records_.push_back(std::move(r));
    by_token_.emplace(records_.back().token, first_number_ + records_.size() - 1);
    while (records_.size() > max_) {
        by_token_.erase(records_.front().token);
        evicted.push_back(std::move(records_.front()));
        records_.pop_front();
        ++first_number_;
    }
}

bool session_store::find(std::string_view token, session_record& out) {
    std::lock_guard lock(m_);
    auto it = by_token_.find(token);
    if (it == by_token_.end()) return false;
    out = records_[it->second - first_number_];
    return true;
}

std::vector<session_record> session_store::all() {
    std::lock_guard lock(m_);
    return {records_.begin(), records_.end()};
}

std::vector<session_record> session_store::page(std::uint64_t from, std::size_t limit, std::uint64_t& first,
                                                std::uint64_t& next) {
    std::lock_guard lock(m_);
    const std::uint64_t end = first_number_ + records_.size();
    first = std::clamp(from, first_number_, end);
    const std::uint64_t last = first + std::min<std::uint64_t>(limit, end - first);
    next = last < end ? last : 0;
    return {records_.begin() + static_cast<std::ptrdiff_t>(first - first_number_),
            records_.begin() + static_cast<std::ptrdiff_t>(last - first_number_)};
}

std::size_t session_store::size() {
    std::lock_guard lock(m_);
    return records_.size();
}

std::size_t session_store::clear() {
    std::size_t n = 0;
    {
        std::lock_guard lock(m_);
        n = records_.size();
        by_token_.clear();
        records_.clear();
        first_number_ = 0;
    }
    for (auto& s : lead_shards_) {
        std::lock_guard lock(s.m);
        s.map.clear();
    }
    return n;
}

bool session_store::find_or_create_lead(const std::string& lead_key, std::string& token,
                                        const std::function<std::string()>& make) {
    auto& s = shard_of(lead_key);
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

void session_store::forget_lead(const std::string& lead_key, std::string_view token) {
    auto& s = shard_of(lead_key);
    std::lock_guard lock(s.m);
    auto it = s.map.find(lead_key);
    if (it != s.map.end() && it->second == token) s.map.erase(it);
}

}  // namespace catalyst::sandbox_detail
