// The CatalystPay API the sandbox serves (docs/api.md): POST and GET of payment sessions,
// with authentication, the rate limits, idempotency, validation and the duplicate-lead rules.

#include "sandbox/service.hpp"

#include "core/json_string.hpp"
#include "core/text.hpp"

#include <catalyst/json.hpp>
#include <catalyst/validation.hpp>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <stdexcept>

namespace catalyst::sandbox_detail {

using detail::append_json_string;
using detail::iequals;
using detail::trim;

void service::handle_api(const api_request& r, api_response& out) {
    std::string_view path = r.target.substr(0, r.target.find('?'));
    constexpr std::string_view collection = "/api/v1/payment-sessions/";
    const bool is_collection = path == collection;
    std::string_view token;
    if (!is_collection) {
        if (!path.starts_with(collection) || !path.ends_with('/')) return not_found(out);
        token = path.substr(collection.size(), path.size() - collection.size() - 1);
        if (token.empty() || token.find('/') != std::string_view::npos) return not_found(out);
    }
    unsigned key_index = 0;
    if (!authenticate(r, key_index, out)) return;
    if (!admit(key_index, out)) return;
    if (is_collection) {
        if (r.method != http_method::post) return method_not_allowed(out, "POST");
        create_session(r, key_index, out);
    } else {
        if (r.method != http_method::get && r.method != http_method::head) return method_not_allowed(out, "GET");
        get_session(token, key_index, out);
    }
}

bool service::authenticate(const api_request& r, unsigned& key_index, api_response& out) {
    const auto refuse = [&](std::string_view why) {
        detail(out, 401, why);
        out.headers += "WWW-Authenticate: Bearer realm=\"api\"\r\n";
        return false;
    };
    const std::string_view a = trim(r.authorization);
    if (!r.has_authorization || a.empty()) return refuse("Authentication credentials were not provided.");
    const auto sp = a.find(' ');
    if (sp == std::string_view::npos || !iequals(a.substr(0, sp), "bearer")) return refuse("Invalid token.");
    const std::string_view presented = trim(a.substr(sp + 1));
    // Every key is compared (no early exit), each in constant time.
    int found = -1;
    for (std::size_t i = 0; i < params_.api_keys.size(); ++i) {
        const auto& k = params_.api_keys[i];
        if (k.size() == presented.size() && CRYPTO_memcmp(k.data(), presented.data(), k.size()) == 0 && found < 0)
            found = static_cast<int>(i);
    }
    if (found < 0) return refuse("Invalid token.");
    key_index = static_cast<unsigned>(found);
    return true;
}

bool service::admit(unsigned key_index, api_response& out) {
    // The per-key limit first: a request it refuses takes no token of the global one.
    if (params_.rate_limit_per_second > 0) {
        auto& b = key_buckets_[key_index];
        unsigned wait = 0;
        {
            const auto t = now();
            std::lock_guard lock(b.m);
            if (!b.tb.try_take(t)) wait = b.tb.wait_seconds(t);
        }
        if (wait > 0) {
            stats_.rate_limited.fetch_add(1, std::memory_order_relaxed);
            throttled(out, wait);
            return false;
        }
    }
    if (global_limit_.enabled()) {
        if (const unsigned wait = global_limit_.admit(now())) {
            throttled(out, wait);
            return false;
        }
    }
    return true;
}

void service::create_session(const api_request& r, unsigned key_index, api_response& out) {
    if (!r.has_content_type) return detail(out, 415, "Unsupported media type \"\" in request.");
    const std::string_view media = trim(r.content_type.substr(0, r.content_type.find(';')));
    if (!iequals(media, "application/json")) {
        // The header's bytes are the sender's: printable ASCII only, or the JSON body
        // would carry invalid UTF-8.
        std::string shown(media.substr(0, 100));
        for (char& c : shown)
            if (c < 0x20 || c > 0x7e) c = '?';
        return detail(out, 415, "Unsupported media type \"" + shown + "\" in request.");
    }
    const bool use_key = params_.honour_idempotency && r.has_idempotency_key;
    if (use_key) {
        if (r.idempotency_key.empty() || r.idempotency_key.size() > 255) {
            out.status = 400;
            out.body = field_errors_body({{"Idempotency-Key", "Must be 1 to 255 characters."}});
            return;
        }
        unsigned status = 0;
        std::string payload;
        switch (idempotency_.begin(key_index, r.idempotency_key, r.body, now(), status, payload)) {
        case idempotency_outcome::proceed: break;
        case idempotency_outcome::replay: return replay(r.body, status, payload, out);
        case idempotency_outcome::conflict:
            stats_.idempotency_conflicts.fetch_add(1, std::memory_order_relaxed);
            return detail_code(out, 422, "This Idempotency-Key was already used with another request body.",
                               "idempotency_key_reused");
        case idempotency_outcome::in_progress:
            stats_.idempotency_in_progress.fetch_add(1, std::memory_order_relaxed);
            detail_code(out, 409, "A request with this Idempotency-Key is still being processed; retry later.",
                        "idempotency_request_in_progress");
            out.headers += "Retry-After: 1\r\n";
            return;
        }
    }
    std::string token;  // of the answer, when it carries one
    try {
        session_request req;
        if (read_request(r.body, req, out)) {
            const sandbox_campaign* campaign = nullptr;
            if (req.campaign_id) {
                for (const auto& c : params_.campaigns)
                    if (c.id == *req.campaign_id) campaign = &c;
            }
            bool gateway_ok = true;
            if (req.gateway_id)
                gateway_ok = std::find(params_.gateways.begin(), params_.gateways.end(), *req.gateway_id) !=
                             params_.gateways.end();
            if ((req.campaign_id && !campaign) || !gateway_ok) {
                not_found(out);
            } else {
                session_record rec;
                rec.key_index = key_index;
                if (campaign) rec.campaign_id = campaign->id;
                if (req.gateway_id) rec.gateway_id = *req.gateway_id;
                rec.email = req.lead.email;
                if (use_key) rec.idempotency_key.assign(r.idempotency_key);
                bool existed = false;
                if (campaign && campaign->duplicates != duplicate_policy::allow) {
                    existed = sessions_.find_or_create_lead(lead_key(campaign->id, req.lead.email), rec.token,
                                                            [&] { return new_token(); });
                } else {
                    rec.token = new_token();
                }
                if (!existed) {
                    rec.created = std::chrono::system_clock::now();
                    out.status = 201;
                    out.body.clear();
                    session_body(out.body, rec.token);
                    out.created = true;
                    token = rec.token;
                    stats_.created.fetch_add(1, std::memory_order_relaxed);
                    if (journal_) journal(rec);
                    remember_session(std::move(rec));
                } else if (campaign->duplicates == duplicate_policy::reject) {
                    stats_.duplicates_rejected.fetch_add(1, std::memory_order_relaxed);
                    detail_code(out, 409, "A lead with this email already exists in this campaign.", "duplicate_lead");
                } else {
                    stats_.duplicates_reused.fetch_add(1, std::memory_order_relaxed);
                    out.status = 200;
                    out.body.clear();
                    session_body(out.body, rec.token);
                    token = rec.token;
                }
            }
        }
    } catch (...) {
        if (use_key) idempotency_.abandon(key_index, r.idempotency_key);
        throw;
    }
    if (use_key) {
        const std::string_view payload = !token.empty() ? std::string_view(token)
                                         : out.status == 400 ? std::string_view()
                                                             : std::string_view(out.body);
        idempotency_.complete(key_index, r.idempotency_key, out.status, payload);
    }
}

bool service::read_request(std::string_view body, session_request& req, api_response& out) {
    field_errors errors;
    decode(body, req, errors, unknown_fields::ignore);
    // As DRF does, every problem at once: type errors from decoding, then the rules for
    // the fields that decoded (unless the body was not a JSON object at all).
    const bool parsed =
        std::none_of(errors.begin(), errors.end(), [](const field_error& e) { return e.field == "non_field_errors"; });
    if (parsed) {
        for (auto& e : validate(req)) {
            const bool seen =
                std::any_of(errors.begin(), errors.end(), [&](const field_error& d) { return d.field == e.field; });
            if (!seen) errors.push_back(std::move(e));
        }
    }
    if (errors.empty()) return true;
    out.status = 400;
    out.body = field_errors_body(errors);
    return false;
}

void service::replay(std::string_view body, unsigned status, std::string& payload, api_response& out) {
    // What complete() kept: the token of a 200/201, nothing for a 400 (the same body gives the
    // same errors again), the body of anything else (short, fixed texts).
    if (status == 200 || status == 201) {
        out.status = status;
        out.body.clear();
        session_body(out.body, payload);
    } else if (status == 400) {
        session_request req;
        read_request(body, req, out);
        out.status = 400;
    } else {
        out.status = status;
        out.body = std::move(payload);
    }
    out.headers += "Idempotent-Replayed: true\r\n";
    stats_.replayed.fetch_add(1, std::memory_order_relaxed);
}

void service::get_session(std::string_view token, unsigned key_index, api_response& out) {
    session_record rec;
    if (!sessions_.find(token, rec) || rec.key_index != key_index) return not_found(out);
    out.status = 200;
    out.body.clear();
    session_body(out.body, rec.token);
    out.body.pop_back();
    out.body += ",\"campaign_id\":";
    if (rec.campaign_id.empty()) out.body += "null";
    else append_json_string(out.body, rec.campaign_id);
    out.body += ",\"gateway_id\":";
    if (rec.gateway_id.empty()) out.body += "null";
    else append_json_string(out.body, rec.gateway_id);
    out.body += ",\"created\":\"" + iso_time(rec.created) + "\"}";
}

void service::session_body(std::string& out, std::string_view token) const {
    out.reserve(out.size() + 96 + payment_url_base_json_.size() + 2 * token.size());
    out += "{\"session_token\":\"";
    out += token;
    out += "\",\"status\":\"PENDING\",\"payment_url\":";
    out += payment_url_base_json_;
    out += token;
    out += "\"}";
}

std::string service::new_token() {
    // RAND_bytes in batches: one call per 128 tokens instead of one per token.
    static constexpr std::size_t token_bytes = 16, batch = 128;
    thread_local unsigned char pool[token_bytes * batch];
    thread_local std::size_t used = batch;
    if (used == batch) {
        if (RAND_bytes(pool, sizeof pool) != 1) throw std::runtime_error("RAND_bytes failed");
        used = 0;
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string t = "ps_";
    t.resize(3 + token_bytes * 2);
    const unsigned char* b = pool + used * token_bytes;
    for (std::size_t i = 0; i < token_bytes; ++i) {
        t[3 + 2 * i] = hex[b[i] >> 4];
        t[4 + 2 * i] = hex[b[i] & 15];
    }
    OPENSSL_cleanse(pool + used * token_bytes, token_bytes);
    ++used;
    return t;
}

}  // namespace catalyst::sandbox_detail
