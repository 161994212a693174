#include "sandbox/service.hpp"

#include <catalyst/json.hpp>
#include <catalyst/session_request.hpp>
#include <catalyst/validation.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <stdexcept>

namespace catalyst::sandbox_detail {

namespace {

constexpr std::string_view not_found_body = R"({"detail":"Not found."})";

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

void detail(api_response& out, unsigned status, std::string_view text) {
    out.status = status;
    out.body = "{\"detail\":";
    append_json_string(out.body, text);
    out.body += '}';
}

void detail_code(api_response& out, unsigned status, std::string_view text, std::string_view code) {
    out.status = status;
    out.body = "{\"detail\":";
    append_json_string(out.body, text);
    out.body += ",\"code\":";
    append_json_string(out.body, code);
    out.body += '}';
}

std::string iso_time(std::chrono::system_clock::time_point t) {
    const auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - secs).count();
    const std::time_t tt = std::chrono::system_clock::to_time_t(secs);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    return buf;
}

void append_uint(std::string& out, std::uint64_t v) {
    char buf[24];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
    (void)ec;
    out.append(buf, p);
}

/// The duplicate-lead index key: campaign + lower-case email.
std::string lead_key(std::string_view campaign_id, std::string_view email) {
    std::string k(campaign_id);
    k += '\n';
    for (char c : email) k += lower(c);
    return k;
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20) {
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 15];
            } else {
                out += ch;
            }
        }
    }
    out += '"';
}

std::string field_errors_body(const field_errors& errors) {
    // Field order is kept as validate() reported it; "lead.x" paths are grouped under "lead".
    struct group {
        std::string name;
        std::vector<std::pair<std::string, std::vector<std::string>>> children;  // empty name: messages of the group itself
    };
    std::vector<group> groups;
    auto find_group = [&](std::string_view name) -> group& {
        for (auto& g : groups)
            if (g.name == name) return g;
        groups.push_back({std::string(name), {}});
        return groups.back();
    };
    auto add_to = [](group& g, std::string_view child, const std::string& msg) {
        for (auto& c : g.children)
            if (c.first == child) {
                c.second.push_back(msg);
                return;
            }
        g.children.push_back({std::string(child), {msg}});
    };
    for (const auto& e : errors) {
        std::string_view f = e.field.empty() ? std::string_view("non_field_errors") : std::string_view(e.field);
        const auto dot = f.find('.');
        if (dot == std::string_view::npos) add_to(find_group(f), "", e.message);
        else add_to(find_group(f.substr(0, dot)), f.substr(dot + 1), e.message);
    }
    auto messages = [](std::string& out, const std::vector<std::string>& ms) {
        out += '[';
        for (std::size_t i = 0; i < ms.size(); ++i) {
            if (i) out += ',';
            append_json_string(out, ms[i]);
        }
        out += ']';
    };
    std::string out = "{";
    bool first = true;
    for (const auto& g : groups) {
        if (!first) out += ',';
        first = false;
        append_json_string(out, g.name);
        out += ':';
        const bool flat = g.children.size() == 1 && g.children.front().first.empty();
        if (flat) {
            messages(out, g.children.front().second);
            continue;
        }
        // A group with both its own messages and children: the own ones go under "non_field_errors".
        out += '{';
        for (std::size_t i = 0; i < g.children.size(); ++i) {
            if (i) out += ',';
            append_json_string(out, g.children[i].first.empty() ? "non_field_errors" : g.children[i].first);
            out += ':';
            messages(out, g.children[i].second);
        }
        out += '}';
    }
    out += '}';
    return out;
}

sandbox_stats stats_counters::snapshot() const {
    sandbox_stats s;
    auto ld = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
    s.connections = ld(connections);
    s.connections_rejected = ld(connections_rejected);
    s.requests = ld(requests);
    s.created = ld(created);
    s.replayed = ld(replayed);
    s.duplicates_rejected = ld(duplicates_rejected);
    s.duplicates_reused = ld(duplicates_reused);
    s.idempotency_conflicts = ld(idempotency_conflicts);
    s.idempotency_in_progress = ld(idempotency_in_progress);
    s.rate_limited = ld(rate_limited);
    s.malformed = ld(malformed);
    s.sessions_evicted = ld(sessions_evicted);
    s.idempotency_expired = ld(idempotency_expired);
    s.idempotency_evicted = ld(idempotency_evicted);
    for (unsigned i = 0; i < by_status.size(); ++i)
        if (auto v = ld(by_status[i])) s.responses_by_status[i] = v;
    for (unsigned i = 0; i < faults.size(); ++i)
        if (auto v = ld(faults[i])) s.faults_injected[std::string(name(static_cast<fault_kind>(i)))] = v;
    return s;
}

void stats_counters::zero() noexcept {
    for (auto* a : {&connections, &connections_rejected, &requests, &created, &replayed, &duplicates_rejected,
                    &duplicates_reused, &idempotency_conflicts, &idempotency_in_progress, &rate_limited, &malformed,
                    &sessions_evicted, &idempotency_expired, &idempotency_evicted})
        a->store(0, std::memory_order_relaxed);
    for (auto& a : by_status) a.store(0, std::memory_order_relaxed);
    for (auto& a : faults) a.store(0, std::memory_order_relaxed);
}

std::array<unsigned char, 32> sha256(std::string_view data) {
    std::array<unsigned char, 32> out{};
    unsigned int n = 0;
    if (EVP_Digest(data.data(), data.size(), out.data(), &n, EVP_sha256(), nullptr) != 1 || n != out.size())
        throw std::runtime_error("SHA-256 failed");
    return out;
}

unsigned token_bucket::take(clock::time_point now) {
    if (!started_) {
        started_ = true;
        last_ = now;
    }
    if (now > last_) {
        tokens_ = std::min(burst_, tokens_ + rate_ * std::chrono::duration<double>(now - last_).count());
        last_ = now;
    }
    if (tokens_ >= 1.0) {
        tokens_ -= 1.0;
        return 0;
    }
    const double wait = (1.0 - tokens_) / rate_;
    return static_cast<unsigned>(std::max(1.0, std::ceil(wait)));
}

std::string idempotency_store::map_key(unsigned key_index, std::string_view key) {
    std::string k;
    k.reserve(key.size() + 8);
    append_uint(k, key_index);
    k += '\n';
    k += key;
    return k;
}

void idempotency_store::erase_oldest() {
    auto it = map_.find(*order_.front());
    order_.pop_front();
    if (it != map_.end()) map_.erase(it);
}

void idempotency_store::expire(clock::time_point now) {
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
                                             unsigned& status, std::string& payload) {
    const auto k = map_key(key_index, key);
    const digest h = sha256(request_body);
    const auto now = clock::now();
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
    if (CRYPTO_memcmp(it->second.body_hash.data(), h.data(), h.size()) != 0) return idempotency_outcome::conflict;
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

void session_store::forget_lead(const std::string& lead_key, std::string_view token) {
    auto& s = lead_shards_[std::hash<std::string>{}(lead_key) % shard_count];
    std::lock_guard lock(s.m);
    auto it = s.map.find(lead_key);
    if (it != s.map.end() && it->second == token) s.map.erase(it);
}

service::service(const sandbox_params& p)
    : params_(p),
      idempotency_(p.idempotency_ttl, p.max_idempotency_records, stats_),
      sessions_(p.max_sessions),
      faults_(std::make_shared<const fault_params>(p.faults)) {
    admin_token_needed_ = !params_.admin_token.empty() || !is_loopback_address(params_.listen_address);
    if (!params_.admin_token.empty()) admin_token_hash_ = sha256(params_.admin_token);
    append_json_string(payment_url_base_json_, params_.payment_url_base);
    payment_url_base_json_.pop_back();  // the token follows inside the same string literal
    buckets_ = std::make_unique<bucket[]>(params_.api_keys.size());
    if (params_.rate_limit_per_second > 0) {
        const double burst =
            params_.rate_limit_burst > 0 ? params_.rate_limit_burst : std::max(1.0, params_.rate_limit_per_second);
        for (std::size_t i = 0; i < params_.api_keys.size(); ++i)
            buckets_[i].tb = std::make_unique<token_bucket>(params_.rate_limit_per_second, burst);
    }
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
    return s;
}

void service::reset() {
    sessions_.clear();
    idempotency_.clear();
    stats_.zero();
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

void service::session_body(std::string& out, std::string_view token) const {
    out.reserve(out.size() + 96 + payment_url_base_json_.size() + 2 * token.size());
    out += "{\"session_token\":\"";
    out += token;
    out += "\",\"status\":\"PENDING\",\"payment_url\":";
    out += payment_url_base_json_;
    out += token;
    out += "\"}";
}

bool service::authenticate(const api_request& r, unsigned& key_index, api_response& out) {
    if (!r.has_authorization || trim(r.authorization).empty()) {
        detail(out, 401, "Authentication credentials were not provided.");
        out.headers += "WWW-Authenticate: Bearer realm=\"api\"\r\n";
        return false;
    }
    std::string_view a = trim(r.authorization);
    const auto sp = a.find(' ');
    if (sp == std::string_view::npos || !iequals(a.substr(0, sp), "bearer")) {
        detail(out, 401, "Invalid token.");
        out.headers += "WWW-Authenticate: Bearer realm=\"api\"\r\n";
        return false;
    }
    const std::string_view presented = trim(a.substr(sp + 1));
    // Every key is compared (no early exit), each in constant time.
    int found = -1;
    for (std::size_t i = 0; i < params_.api_keys.size(); ++i) {
        const auto& k = params_.api_keys[i];
        if (k.size() == presented.size() && CRYPTO_memcmp(k.data(), presented.data(), k.size()) == 0 && found < 0)
            found = static_cast<int>(i);
    }
    if (found < 0) {
        detail(out, 401, "Invalid token.");
        out.headers += "WWW-Authenticate: Bearer realm=\"api\"\r\n";
        return false;
    }
    key_index = static_cast<unsigned>(found);
    return true;
}

bool service::throttle(unsigned key_index, api_response& out) {
    auto& b = buckets_[key_index];
    if (!b.tb) return true;
    unsigned wait = 0;
    {
        std::lock_guard lock(b.m);
        wait = b.tb->take(token_bucket::clock::now());
    }
    if (wait == 0) return true;
    stats_.rate_limited.fetch_add(1, std::memory_order_relaxed);
    detail(out, 429, "Request was throttled. Expected available in " + std::to_string(wait) + " seconds.");
    out.headers += "Retry-After: " + std::to_string(wait) + "\r\n";
    return false;
}

void service::handle_api(const api_request& r, api_response& out) {
    std::string_view path = r.target.substr(0, r.target.find('?'));
    constexpr std::string_view collection = "/api/v1/payment-sessions/";
    const bool is_collection = path == collection;
    std::string_view token;
    if (!is_collection) {
        if (!path.starts_with(collection) || !path.ends_with('/')) {
            out.status = 404;
            out.body = not_found_body;
            return;
        }
        token = path.substr(collection.size(), path.size() - collection.size() - 1);
        if (token.empty() || token.find('/') != std::string_view::npos) {
            out.status = 404;
            out.body = not_found_body;
            return;
        }
    }
    unsigned key_index = 0;
    if (!authenticate(r, key_index, out)) return;
    if (!throttle(key_index, out)) return;
    if (is_collection) {
        if (r.method != http_method::post) {
            detail(out, 405, "Method not allowed.");
            out.headers += "Allow: POST\r\n";
            return;
        }
        create_session(r, key_index, out);
    } else {
        if (r.method != http_method::get && r.method != http_method::head) {
            detail(out, 405, "Method not allowed.");
            out.headers += "Allow: GET\r\n";
            return;
        }
        get_session(token, key_index, out);
    }
}

void service::get_session(std::string_view token, unsigned key_index, api_response& out) {
    session_record rec;
    if (!sessions_.find(token, rec) || rec.key_index != key_index) {
        out.status = 404;
        out.body = not_found_body;
        return;
    }
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

void service::remember_session(session_record rec) {
    std::vector<session_record> evicted;
    sessions_.insert(std::move(rec), evicted);
    for (const auto& e : evicted) {
        if (!e.campaign_id.empty()) sessions_.forget_lead(lead_key(e.campaign_id, e.email), e.token);
        stats_.sessions_evicted.fetch_add(1, std::memory_order_relaxed);
    }
}

void service::create_session(const api_request& r, unsigned key_index, api_response& out) {
    if (!r.has_content_type) {
        detail(out, 415, "Unsupported media type \"\" in request.");
        return;
    }
    {
        const std::string_view media = trim(r.content_type.substr(0, r.content_type.find(';')));
        if (!iequals(media, "application/json")) {
            // The header's bytes are the sender's: printable ASCII only, or the JSON body
            // would carry invalid UTF-8.
            std::string shown(media.substr(0, 100));
            for (char& c : shown)
                if (c < 0x20 || c > 0x7e) c = '?';
            detail(out, 415, "Unsupported media type \"" + shown + "\" in request.");
            return;
        }
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
        switch (idempotency_.begin(key_index, r.idempotency_key, r.body, status, payload)) {
        case idempotency_outcome::proceed: break;
        case idempotency_outcome::replay: return replay(r.body, status, payload, out);
        case idempotency_outcome::conflict:
            stats_.idempotency_conflicts.fetch_add(1, std::memory_order_relaxed);
            detail_code(out, 422, "This Idempotency-Key was already used with another request body.",
                        "idempotency_key_reused");
            return;
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
                out.status = 404;
                out.body = not_found_body;
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

void service::fault_throttle(const fault_params& f, api_response& out) {
    const unsigned n = std::max(1u, f.throttle_retry_after);
    detail(out, 429, "Request was throttled. Expected available in " + std::to_string(n) + " seconds.");
    out.headers += "Retry-After: " + std::to_string(n) + "\r\n";
}

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

bool service::admin_allowed(const api_request& r, api_response& out) const {
    if (!admin_token_needed_) return true;
    if (params_.admin_token.empty()) {
        detail(out, 403,
               "Admin endpoints are disabled: the sandbox listens on a non-loopback address and has no admin_token.");
        return false;
    }
    // Hashes of equal length compared in constant time: neither the token's bytes nor its
    // length leak through timing.
    std::string_view presented;
    const std::string_view a = trim(r.authorization);
    if (r.has_authorization && a.size() > 7 && iequals(a.substr(0, 7), "bearer ")) presented = trim(a.substr(7));
    const auto h = sha256(presented);
    if (presented.empty() || CRYPTO_memcmp(h.data(), admin_token_hash_.data(), h.size()) != 0) {
        detail(out, 401, "Admin endpoints need Authorization: Bearer <admin token>.");
        out.headers += "WWW-Authenticate: Bearer realm=\"sandbox-admin\"\r\n";
        return false;
    }
    return true;
}

namespace {

/// `name`'s value in a query string ("a=1&b=2"); false when absent.
bool query_param(std::string_view query, std::string_view name, std::string_view& value) {
    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        const auto eq = pair.find('=');
        if (pair.substr(0, eq) == name) {
            value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
            return true;
        }
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    return false;
}

bool parse_uint(std::string_view s, std::uint64_t& v) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return !s.empty() && ec == std::errc{} && p == s.data() + s.size();
}

}  // namespace

void service::ledger_page(std::string_view query, api_response& out) {
    constexpr std::uint64_t default_limit = 100, max_limit = 1000;
    std::uint64_t offset = 0, limit = default_limit;
    std::string_view v;
    if (query_param(query, "offset", v) && !parse_uint(v, offset))
        return detail(out, 400, "offset: must be a non-negative integer.");
    if (query_param(query, "limit", v) && (!parse_uint(v, limit) || limit < 1 || limit > max_limit))
        return detail(out, 400, "limit: must be an integer from 1 to 1000.");
    std::uint64_t first = 0, next = 0;
    const auto page = sessions_.page(offset, static_cast<std::size_t>(limit), first, next);
    std::string& b = out.body;
    b = "{\"offset\":";
    append_uint(b, first);
    b += ",\"next_offset\":";
    if (next) append_uint(b, next);
    else b += "null";
    b += ",\"held\":";
    append_uint(b, sessions_.size());
    b += ",\"evicted\":";
    append_uint(b, stats_.sessions_evicted.load(std::memory_order_relaxed));
    b += ",\"sessions\":[";
    bool first_entry = true;
    for (const auto& rec : page) {
        if (!first_entry) b += ',';
        first_entry = false;
        append_session_json(b, rec, false);
    }
    b += "]}";
    out.status = 200;
}

void service::handle_admin(const api_request& r, api_response& out) {
    const auto q = r.target.find('?');
    const std::string_view path = r.target.substr(0, q);
    const std::string_view query = q == std::string_view::npos ? std::string_view() : r.target.substr(q + 1);
    auto allow = [&](std::string_view methods) {
        detail(out, 405, "Method not allowed.");
        out.headers += "Allow: " + std::string(methods) + "\r\n";
    };
    auto is = [&](std::string_view name) { return path == name || (path.size() == name.size() + 1 && path.starts_with(name) && path.back() == '/'); };
    // Health is open to all (container health checks carry no token); it tells nothing.
    if (is("/sandbox/health")) {
        if (r.method != http_method::get) return allow("GET");
        out.status = 200;
        out.body = R"({"status":"ok"})";
        return;
    }
    if (!admin_allowed(r, out)) return;
    if (is("/sandbox/stats")) {
        if (r.method != http_method::get) return allow("GET");
        const auto s = stats_snapshot();
        std::string& b = out.body;
        b = "{";
        auto field = [&](std::string_view n, std::uint64_t v) {
            b += '"';
            b += n;
            b += "\":";
            append_uint(b, v);
            b += ',';
        };
        field("connections", s.connections);
        field("connections_rejected", s.connections_rejected);
        field("requests", s.requests);
        field("created", s.created);
        field("replayed", s.replayed);
        field("duplicates_rejected", s.duplicates_rejected);
        field("duplicates_reused", s.duplicates_reused);
        field("idempotency_conflicts", s.idempotency_conflicts);
        field("idempotency_in_progress", s.idempotency_in_progress);
        field("rate_limited", s.rate_limited);
        field("malformed", s.malformed);
        field("sessions_evicted", s.sessions_evicted);
        field("idempotency_expired", s.idempotency_expired);
        field("idempotency_evicted", s.idempotency_evicted);
        field("sessions_held", s.sessions_held);
        field("idempotency_records_held", s.idempotency_records_held);
        b += "\"responses_by_status\":{";
        bool first = true;
        for (const auto& [k, v] : s.responses_by_status) {
            if (!first) b += ',';
            first = false;
            b += '"';
            append_uint(b, k);
            b += "\":";
            append_uint(b, v);
        }
        b += "},\"faults_injected\":{";
        first = true;
        for (const auto& [k, v] : s.faults_injected) {
            if (!first) b += ',';
            first = false;
            append_json_string(b, k);
            b += ':';
            append_uint(b, v);
        }
        b += "}}";
        out.status = 200;
    } else if (is("/sandbox/ledger")) {
        if (r.method != http_method::get) return allow("GET");
        ledger_page(query, out);
    } else if (is("/sandbox/reset")) {
        if (r.method != http_method::post) return allow("POST");
        const std::size_t sessions = sessions_.clear();
        const std::size_t records = idempotency_.clear();
        stats_.zero();
        out.status = 200;
        out.body = "{\"sessions_forgotten\":";
        append_uint(out.body, sessions);
        out.body += ",\"idempotency_records_forgotten\":";
        append_uint(out.body, records);
        out.body += '}';
    } else if (is("/sandbox/faults")) {
        if (r.method == http_method::put) {
            try {
                set_faults(parse_faults_json(r.body));
            } catch (const sandbox_config_error& e) {
                detail(out, 400, e.what());
                return;
            }
        } else if (r.method != http_method::get) {
            return allow("GET, PUT");
        }
        out.status = 200;
        out.body = to_json(*faults());
    } else {
        out.status = 404;
        out.body = not_found_body;
    }
}

}  // namespace catalyst::sandbox_detail
