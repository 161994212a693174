// The sandbox's own endpoints under /sandbox/ (docs/sandbox.md, "Admin endpoints"): health,
// stats, the ledger, reset, faults and the global rate limit's schedule.

#include "sandbox/service.hpp"

#include "core/json_string.hpp"
#include "core/text.hpp"

#include <charconv>

namespace catalyst::sandbox_detail {

using detail::append_json_string;
using detail::append_uint;
using detail::iequals;
using detail::trim;

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
    if (presented.empty() || !same_digest(sha256(presented), admin_token_hash_)) {
        detail(out, 401, "Admin endpoints need Authorization: Bearer <admin token>.");
        out.headers += "WWW-Authenticate: Bearer realm=\"sandbox-admin\"\r\n";
        return false;
    }
    return true;
}

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

void service::rate_schedule_endpoint(const api_request& r, api_response& out) {
    // POST: the body is a schedule in the flag's syntax, which starts now; an empty body
    // starts the current one again; "off" removes it.
    if (r.method == http_method::post) {
        const std::string_view text = trim(r.body);
        try {
            if (text.empty()) global_limit_.restart(now());
            else if (text == "off") global_limit_.start({}, now());
            else global_limit_.start(parse_rate_limit_schedule(text), now());
        } catch (const sandbox_config_error& e) {
            return detail(out, 400, e.what());
        }
    } else if (r.method != http_method::get) {
        return method_not_allowed(out, "GET, POST");
    }
    auto state = global_limit_.snapshot(now());
    state.seconds.clear();  // they are in /sandbox/stats
    out.status = 200;
    out.body = to_json(state);
}

void service::handle_admin(const api_request& r, api_response& out) {
    const auto q = r.target.find('?');
    const std::string_view path = r.target.substr(0, q);
    const std::string_view query = q == std::string_view::npos ? std::string_view() : r.target.substr(q + 1);
    auto is = [&](std::string_view name) {
        return path == name || (path.size() == name.size() + 1 && path.starts_with(name) && path.back() == '/');
    };
    // Health is open to all (container health checks carry no token); it tells nothing.
    if (is("/sandbox/health")) {
        if (r.method != http_method::get) return method_not_allowed(out, "GET");
        out.status = 200;
        out.body = R"({"status":"ok"})";
        return;
    }
    if (!admin_allowed(r, out)) return;
    if (is("/sandbox/stats")) {
        if (r.method != http_method::get) return method_not_allowed(out, "GET");
        out.status = 200;
        out.body = to_json(stats_snapshot());
    } else if (is("/sandbox/ledger")) {
        if (r.method != http_method::get) return method_not_allowed(out, "GET");
        ledger_page(query, out);
    } else if (is("/sandbox/reset")) {
        if (r.method != http_method::post) return method_not_allowed(out, "POST");
        const std::size_t sessions = sessions_.clear();
        const std::size_t records = idempotency_.clear();
        stats_.zero();
        global_limit_.zero();
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
                return detail(out, 400, e.what());
            }
        } else if (r.method != http_method::get) {
            return method_not_allowed(out, "GET, PUT");
        }
        out.status = 200;
        out.body = to_json(*faults());
    } else if (is("/sandbox/rate-limit-schedule")) {
        rate_schedule_endpoint(r, out);
    } else {
        not_found(out);
    }
}

}  // namespace catalyst::sandbox_detail
