#include "sandbox/service.hpp"

#include "core/json_string.hpp"

#include <algorithm>
#include <stdexcept>

namespace catalyst::sandbox_detail {

using detail::append_json_string;

service::service(const sandbox_params& p)
    : params_(p),
      idempotency_(p.idempotency_ttl, p.max_idempotency_records, stats_),
      sessions_(p.max_sessions),
      faults_(std::make_shared<const fault_params>(p.faults)) {
    admin_token_needed_ = !params_.admin_token.empty() || !is_loopback_address(params_.listen_address);
    if (!params_.admin_token.empty()) admin_token_hash_ = sha256(params_.admin_token);
    append_json_string(payment_url_base_json_, params_.payment_url_base);
    payment_url_base_json_.pop_back();  // the token follows inside the same string literal
    key_buckets_ = std::make_unique<key_bucket[]>(params_.api_keys.size());
    if (params_.rate_limit_per_second > 0) {
        const double burst =
            params_.rate_limit_burst > 0 ? params_.rate_limit_burst : std::max(1.0, params_.rate_limit_per_second);
        for (std::size_t i = 0; i < params_.api_keys.size(); ++i)
            key_buckets_[i].tb = detail::token_bucket(params_.rate_limit_per_second, burst, now());
    }
    global_limit_.start(params_.rate_limit_schedule, now());
    if (!params_.journal_file.empty()) {
        journal_ = std::fopen(params_.journal_file.c_str(), "a");
        if (!journal_) throw std::runtime_error("journal_file " + params_.journal_file + ": cannot be opened for appending");
    }
}

service::~service() {
    if (journal_) std::fclose(journal_);
}

void service::set_faults(const fault_params& f) {
    auto next = std::make_shared<const fault_params>(f);
    std::lock_guard lock(faults_mutex_);
    faults_ = std::move(next);
    request_index_.store(0, std::memory_order_relaxed);
    read_index_.store(0, std::memory_order_relaxed);
    faults_generation_.fetch_add(1, std::memory_order_release);
}

std::shared_ptr<const fault_params> service::faults() const {
    std::lock_guard lock(faults_mutex_);
    return faults_;
}

std::vector<ledger_entry> service::ledger() {
    std::vector<ledger_entry> out;
    for (auto& r : sessions_.all()) {
        ledger_entry e;
        e.token = std::move(r.token);
        e.api_key_redacted = redact_sandbox_key(params_.api_keys[r.key_index]);
        e.campaign_id = std::move(r.campaign_id);
        e.gateway_id = std::move(r.gateway_id);
        e.email = std::move(r.email);
        e.idempotency_key = std::move(r.idempotency_key);
        e.created = r.created;
        out.push_back(std::move(e));
    }
    return out;
}

sandbox_stats service::stats_snapshot() {
    auto s = stats_.snapshot();
    s.sessions_held = sessions_.size();
    s.idempotency_records_held = idempotency_.size();
    if (global_limit_.enabled()) s.global_rate_limit = global_limit_.snapshot(now());
    return s;
}

void service::reset() {
    sessions_.clear();
    idempotency_.clear();
    stats_.zero();
    global_limit_.zero();
}

void service::remember_session(session_record rec) {
    std::vector<session_record> evicted;
    sessions_.insert(std::move(rec), evicted);
    for (const auto& e : evicted) {
        if (!e.campaign_id.empty()) sessions_.forget_lead(lead_key(e.campaign_id, e.email), e.token);
        stats_.sessions_evicted.fetch_add(1, std::memory_order_relaxed);
    }
}

void service::append_session_json(std::string& out, const session_record& rec, bool with_gateway) const {
    // No API key (only its redacted form), no idempotency key, no lead field: the ledger
    // endpoint and the journal may end up in logs.
    out += "{\"token\":";
    append_json_string(out, rec.token);
    out += ",\"api_key\":";
    append_json_string(out, redact_sandbox_key(params_.api_keys[rec.key_index]));
    out += ",\"campaign_id\":";
    if (rec.campaign_id.empty()) out += "null";
    else append_json_string(out, rec.campaign_id);
    if (with_gateway) {
        out += ",\"gateway_id\":";
        if (rec.gateway_id.empty()) out += "null";
        else append_json_string(out, rec.gateway_id);
    }
    out += ",\"idempotent\":";
    out += rec.idempotency_key.empty() ? "false" : "true";
    out += ",\"created\":\"" + iso_time(rec.created) + "\"}";
}

void service::journal(const session_record& rec) {
    std::string line;
    append_session_json(line, rec, true);
    line += '\n';
    std::lock_guard lock(journal_mutex_);
    std::fwrite(line.data(), 1, line.size(), journal_);
    std::fflush(journal_);
}

void service::fault_throttle(const fault_params& f, api_response& out) { throttled(out, f.throttle_retry_after); }

void service::fault_server_error(const fault_params& f, api_response& out) {
    out.status = f.server_error_status;
    if (f.server_error_retry_after > 0) out.headers += "Retry-After: " + std::to_string(f.server_error_retry_after) + "\r\n";
    switch (f.server_error_body) {
    case fault_body::json: detail(out, out.status, "Injected server error (sandbox fault)."); break;
    case fault_body::html:
        out.content_type = "text/html; charset=utf-8";
        out.body = "<!DOCTYPE html><html><head><title>" + std::to_string(out.status) +
                   "</title></head><body><h1>Server Error (" + std::to_string(out.status) +
                   ")</h1><p>catalyst-sandbox injected fault</p></body></html>";
        break;
    case fault_body::empty:
        out.content_type = {};
        out.body.clear();
        break;
    }
}

}  // namespace catalyst::sandbox_detail
