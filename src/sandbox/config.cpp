#include "sandbox/config.hpp"

#include "sandbox/faults.hpp"
#include "core/json_config_reader.hpp"
#include "core/tls_ciphers.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <charconv>
#include <cstring>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include <arpa/inet.h>

namespace catalyst {

namespace json = boost::json;
using std::chrono::milliseconds;

sandbox_config_error::sandbox_config_error(std::string key, const std::string& reason)
    : std::runtime_error(key.empty() ? reason : key + ": " + reason), key_(std::move(key)) {}

std::string_view to_string(duplicate_policy p) noexcept {
    switch (p) {
    case duplicate_policy::allow: return "allow";
    case duplicate_policy::reject: return "reject";
    case duplicate_policy::reuse: return "reuse";
    }
    return "allow";
}

bool fault_params::any() const noexcept {
    for (const auto& row : sandbox_detail::fault_table)
        if ((this->*row.trigger).enabled()) return true;
    return idle_timeout.count() > 0;
}

std::vector<std::string> fault_names() {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < sandbox_detail::fault_kind_count; ++i)
        out.emplace_back(sandbox_detail::name(static_cast<sandbox_detail::fault_kind>(i)));
    return out;
}

std::vector<sandbox_campaign> default_sandbox_campaigns() {
    return {
        {"a1b2c3d4-e5f6-7890-abcd-ef1234567890", duplicate_policy::allow, std::string(default_sandbox_gateway)},
        {"11111111-1111-4111-8111-111111111111", duplicate_policy::reject, std::string(default_sandbox_gateway)},
        {"22222222-2222-4222-8222-222222222222", duplicate_policy::reuse, std::string(default_sandbox_gateway)},
    };
}

std::string redact_sandbox_key(std::string_view key) {
    if (key.empty()) return {};
    std::string out = "rk_****";
    if (key.size() > 12) out.append(key.substr(key.size() - 4));
    return out;
}

bool is_loopback_address(std::string_view ip) noexcept {
    std::string text(ip);
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
    unsigned char v4[4], v6[16];
    if (inet_pton(AF_INET, text.c_str(), v4) == 1) return v4[0] == 127;
    if (inet_pton(AF_INET6, text.c_str(), v6) != 1) return false;
    static constexpr unsigned char loopback6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static constexpr unsigned char mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(v6, loopback6, 16) == 0) return true;
    return std::memcmp(v6, mapped_prefix, 12) == 0 && v6[12] == 127;
}

namespace {

bool is_lower_uuid(std::string_view s) {
    if (s.size() != 36) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

[[noreturn]] void fail(const std::string& key, const std::string& why) { throw sandbox_config_error(key, why); }

using detail::json_config_reader;
using sandbox_detail::fault_kind;
using sandbox_detail::fault_table;

constexpr std::uint64_t max_fault_ms = 24ull * 3600 * 1000;

void read_trigger(json_config_reader& r, fault_trigger& t) {
    if (r.contains("probability")) {
        double p = 0;
        r.number("probability", p);
        if (!(p >= 0 && p <= 1)) r.fail("probability", "must be in [0, 1]");
        // Kept to 1e-9 (finer means nothing for a fault): Boost.JSON 1.81 parses some long
        // decimals a little off, so that a probability read back from its own JSON
        // (GET/PUT /sandbox/faults, --fault) was another number; a multiple of 1e-9 is
        // written and read back exactly (found by fuzz_sandbox_config).
        t.probability = std::round(p * 1e9) / 1e9;
    }
    r.unsigned_integer("every_nth", t.every_nth, 1'000'000'000);
}

// The settings of a fault besides its trigger.
void read_extras(json_config_reader& r, fault_kind k, fault_params& f) {
    switch (k) {
    case fault_kind::latency:
        r.duration_ms("min_ms", f.latency_min, max_fault_ms);
        r.duration_ms("max_ms", f.latency_max, max_fault_ms);
        break;
    case fault_kind::server_error:
        if (r.contains("status")) {
            unsigned s = 0;
            r.unsigned_integer("status", s, 599);
            if (s != 500 && s != 502 && s != 503 && s != 504) r.fail("status", "must be 500, 502, 503 or 504");
            f.server_error_status = s;
        }
        r.unsigned_integer("retry_after", f.server_error_retry_after, 86'400);
        r.choice("body", f.server_error_body,
                 {{"json", fault_body::json}, {"html", fault_body::html}, {"empty", fault_body::empty}});
        break;
    case fault_kind::throttle: r.unsigned_integer("retry_after", f.throttle_retry_after, 86'400); break;
    case fault_kind::trickle: r.duration_ms("delay_ms", f.trickle_delay, max_fault_ms); break;
    default: break;
    }
}

void write_extras(std::string& out, fault_kind k, const fault_params& f) {
    switch (k) {
    case fault_kind::latency:
        out += ",\"min_ms\":" + std::to_string(f.latency_min.count()) + ",\"max_ms\":" + std::to_string(f.latency_max.count());
        break;
    case fault_kind::server_error:
        out += ",\"status\":" + std::to_string(f.server_error_status) + ",\"retry_after\":" +
               std::to_string(f.server_error_retry_after) + ",\"body\":\"" +
               (f.server_error_body == fault_body::json   ? "json"
                : f.server_error_body == fault_body::html ? "html"
                                                          : "empty") +
               "\"";
        break;
    case fault_kind::throttle: out += ",\"retry_after\":" + std::to_string(f.throttle_retry_after); break;
    case fault_kind::trickle: out += ",\"delay_ms\":" + std::to_string(f.trickle_delay.count()); break;
    default: break;
    }
}

std::string unknown_fault_reason() {
    std::string known;
    for (const auto& row : fault_table) known += std::string(row.name) + ", ";
    return "unknown fault (known: " + known + "idle_timeout_ms)";
}

void read_faults(fault_params& f, const json::object& o, const std::string& prefix) {
    json_config_reader r(o, prefix, fail);
    for (std::size_t i = 0; i < fault_table.size(); ++i) {
        const auto& row = fault_table[i];
        const json::object* fo = r.object(row.name);
        if (!fo) continue;
        json_config_reader t(*fo, r.path(row.name) + ".", fail);
        read_trigger(t, f.*row.trigger);
        read_extras(t, static_cast<fault_kind>(i), f);
        t.finish();
    }
    r.duration_ms("idle_timeout_ms", f.idle_timeout, max_fault_ms);
    r.finish(unknown_fault_reason());
}

void read_limits(sandbox_limits& l, json_config_reader& r) {
    r.unsigned_integer("max_header_bytes", l.max_header_bytes, 1u << 30);
    r.unsigned_integer("max_body_bytes", l.max_body_bytes, 1u << 30);
    r.unsigned_integer("max_connections", l.max_connections, 1'000'000);
    r.duration_ms("handshake_timeout_ms", l.handshake_timeout, max_fault_ms);
    r.duration_ms("header_timeout_ms", l.header_timeout, max_fault_ms);
    r.duration_ms("body_timeout_ms", l.body_timeout, max_fault_ms);
    r.duration_ms("write_timeout_ms", l.write_timeout, max_fault_ms);
    r.duration_ms("idle_timeout_ms", l.idle_timeout, max_fault_ms);
    r.finish();
}

std::vector<std::string> read_strings(json_config_reader& r, std::string_view key) {
    const json::array* a = r.array(key, "an array of strings");
    std::vector<std::string> out;
    for (std::size_t i = 0; a && i < a->size(); ++i)
        out.push_back(r.to_string(r.path(key) + "[" + std::to_string(i) + "]", (*a)[i]));
    return out;
}

std::vector<sandbox_campaign> read_campaigns(json_config_reader& r) {
    const json::array* a = r.array("campaigns", "an array of objects");
    std::vector<sandbox_campaign> out;
    for (std::size_t i = 0; a && i < a->size(); ++i) {
        const std::string at = "campaigns[" + std::to_string(i) + "]";
        if (!(*a)[i].is_object()) fail(at, "must be an object");
        json_config_reader c((*a)[i].get_object(), at + ".", fail);
        sandbox_campaign camp;
        c.string("id", camp.id);
        c.choice("duplicates", camp.duplicates,
                 {{"allow", duplicate_policy::allow}, {"reject", duplicate_policy::reject}, {"reuse", duplicate_policy::reuse}});
        c.string("gateway_id", camp.gateway_id);
        c.ignore("name");  // free text for people
        c.ignore("comment");
        c.finish();
        if (camp.id.empty()) fail(at + ".id", "is required");
        out.push_back(std::move(camp));
    }
    return out;
}

}  // namespace

void apply_sandbox_json(sandbox_params& p, std::string_view text) {
    const json::value root = detail::parse_config_object(text, "", fail);
    json_config_reader r(root.get_object(), "", fail);
    if (r.contains("listen")) {
        std::string listen;
        r.string("listen", listen);
        sandbox_detail::parse_listen(listen, p.listen_address, p.port);
    }
    r.string("listen_address", p.listen_address);
    r.unsigned_integer("port", p.port);
    r.boolean("plain_http", p.plain_http);
    r.string("cert_file", p.cert_file);
    r.string("key_file", p.key_file);
    r.string("cert_dir", p.cert_dir);
    if (r.contains("api_keys")) p.api_keys = read_strings(r, "api_keys");
    if (r.contains("campaigns")) p.campaigns = read_campaigns(r);
    if (r.contains("gateways")) p.gateways = read_strings(r, "gateways");
    r.boolean("honour_idempotency", p.honour_idempotency);
    r.duration_ms("idempotency_ttl_ms", p.idempotency_ttl, 366ull * 24 * 3600 * 1000);
    r.unsigned_integer("max_idempotency_records", p.max_idempotency_records, 1'000'000'000);
    r.unsigned_integer("max_sessions", p.max_sessions, 1'000'000'000);
    r.string("admin_token", p.admin_token);
    r.number("rate_limit_per_second", p.rate_limit_per_second);
    r.unsigned_integer("rate_limit_burst", p.rate_limit_burst, 1'000'000'000);
    if (r.contains("rate_limit_schedule")) {
        std::string schedule;
        r.string("rate_limit_schedule", schedule);
        p.rate_limit_schedule = schedule.empty() ? std::vector<sandbox_rate_step>{} : parse_rate_limit_schedule(schedule);
    }
    if (const json::object* f = r.object("faults")) {
        p.faults = fault_params{};
        read_faults(p.faults, *f, "faults.");
    }
    r.unsigned_integer("threads", p.threads, 1024);
    r.string("payment_url_base", p.payment_url_base);
    r.string("journal_file", p.journal_file);
    r.string("tls13_ciphersuites", p.tls13_ciphersuites);
    r.boolean("prefer_server_ciphers", p.prefer_server_ciphers);
    if (const json::object* l = r.object("limits")) {
        json_config_reader lr(*l, "limits.", fail);
        read_limits(p.limits, lr);
    }
    r.ignore("comment");
    r.ignore("$comment");
    r.finish();
}

sandbox_params load_sandbox_params(const std::string& json_file) {
    std::ifstream in(json_file, std::ios::binary);
    if (!in) throw sandbox_config_error("config file", json_file + ": cannot be read");
    std::ostringstream ss;
    ss << in.rdbuf();
    sandbox_params p;
    try {
        apply_sandbox_json(p, ss.str());
    } catch (const sandbox_config_error& e) {
        throw sandbox_config_error(e.key(), std::string(e.what()) + " (in " + json_file + ")");
    }
    return p;
}

fault_params parse_faults_json(std::string_view text) {
    const json::value root = detail::parse_config_object(text, "faults", fail);
    fault_params f;
    read_faults(f, root.get_object(), "");
    return f;
}

std::string to_json(const fault_params& f) {
    std::string out = "{";
    for (std::size_t i = 0; i < fault_table.size(); ++i) {
        const fault_trigger& t = f.*fault_table[i].trigger;
        out += '"';
        out += fault_table[i].name;
        out += "\":{\"probability\":";
        out += json::serialize(json::value(t.probability));
        out += ",\"every_nth\":";
        out += std::to_string(t.every_nth);
        write_extras(out, static_cast<fault_kind>(i), f);
        out += "},";
    }
    out += "\"idle_timeout_ms\":" + std::to_string(f.idle_timeout.count()) + "}";
    return out;
}

void apply_fault_setting(fault_params& f, std::string_view setting) {
    const auto eq = setting.find('=');
    if (eq == std::string_view::npos || eq == 0)
        throw sandbox_config_error("--fault", "expected NAME.FIELD=VALUE, got \"" + std::string(setting) + "\"");
    const std::string path(setting.substr(0, eq));
    const std::string value(setting.substr(eq + 1));
    // The value is JSON when it parses as JSON ("3", "0.5", "true"), a string otherwise ("html").
    boost::system::error_code ec;
    json::value v = json::parse(value, ec);
    if (ec) v = json::string(value);
    json::object root;
    const auto dot = path.find('.');
    if (dot == std::string::npos) {
        root[path] = v;
    } else {
        json::object inner;
        inner[path.substr(dot + 1)] = v;
        root[path.substr(0, dot)] = std::move(inner);
    }
    read_faults(f, root, "");
}

namespace sandbox_detail {

void parse_listen(std::string_view s, std::string& host, unsigned short& port) {
    const auto colon = s.rfind(':');
    if (colon == std::string_view::npos) fail("listen", "expected HOST:PORT, got \"" + std::string(s) + "\"");
    std::string_view h = s.substr(0, colon);
    const std::string_view ps = s.substr(colon + 1);
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(ps.data(), ps.data() + ps.size(), value);
    if (ec != std::errc{} || ptr != ps.data() + ps.size() || value > 65535)
        fail("listen", "bad port in \"" + std::string(s) + "\"");
    if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    host = h.empty() ? "127.0.0.1" : std::string(h);
    port = static_cast<unsigned short>(value);
}

sandbox_params normalize(sandbox_params p) {
    if (p.listen_address.empty()) fail("listen_address", "must not be empty");
    if (p.api_keys.empty()) fail("api_keys", "at least one key is needed");
    for (std::size_t i = 0; i < p.api_keys.size(); ++i)
        if (p.api_keys[i].empty()) fail("api_keys[" + std::to_string(i) + "]", "must not be empty");
    if (p.campaigns.empty()) p.campaigns = default_sandbox_campaigns();
    if (p.gateways.empty()) p.gateways.emplace_back(default_sandbox_gateway);
    std::set<std::string> seen;
    for (std::size_t i = 0; i < p.campaigns.size(); ++i) {
        const std::string key = "campaigns[" + std::to_string(i) + "]";
        if (!is_lower_uuid(p.campaigns[i].id)) fail(key + ".id", "must be a lower-case hyphenated UUID");
        if (!seen.insert(p.campaigns[i].id).second) fail(key + ".id", "duplicate campaign id");
        if (!p.campaigns[i].gateway_id.empty() && !is_lower_uuid(p.campaigns[i].gateway_id))
            fail(key + ".gateway_id", "must be a lower-case hyphenated UUID");
    }
    for (std::size_t i = 0; i < p.gateways.size(); ++i)
        if (!is_lower_uuid(p.gateways[i])) fail("gateways[" + std::to_string(i) + "]", "must be a lower-case hyphenated UUID");
    if (!(p.rate_limit_per_second >= 0) || std::isinf(p.rate_limit_per_second))
        fail("rate_limit_per_second", "must be a finite number >= 0");
    // A schedule built in code is held to the rules of parse_rate_limit_schedule.
    if (p.rate_limit_schedule.size() > 1000) fail("rate_limit_schedule", "at most 1000 steps");
    for (std::size_t i = 0; i < p.rate_limit_schedule.size(); ++i) {
        const auto& step = p.rate_limit_schedule[i];
        const bool last = i + 1 == p.rate_limit_schedule.size();
        const auto d = step.duration;
        if (!(step.rate > 0 && step.rate <= 1e9) ||
            (last ? d.count() != 0 : d.count() <= 0 || d > std::chrono::hours(24 * 366)))
            fail("rate_limit_schedule", "step " + std::to_string(i + 1) +
                                            ": needs a rate in (0, 1e9] requests/s and a duration from 1ms to 366 "
                                            "days, except the last step, which has none");
    }
    if (p.threads == 0) p.threads = 1;
    if (p.idempotency_ttl.count() < 0) fail("idempotency_ttl_ms", "must be >= 0");
    if (p.max_idempotency_records == 0) fail("max_idempotency_records", "must be >= 1");
    if (p.max_sessions == 0) fail("max_sessions", "must be >= 1");
    if (auto why = detail::tls13_suites_problem(p.tls13_ciphersuites); !why.empty()) fail("tls13_ciphersuites", why);
    // The token travels in an HTTP header: no control characters, no spaces around it.
    for (const char c : p.admin_token)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) fail("admin_token", "must be printable ASCII without spaces");
    if (p.cert_file.empty() != p.key_file.empty()) fail(p.cert_file.empty() ? "cert_file" : "key_file", "cert_file and key_file go together");
    if (p.limits.max_header_bytes < 256) fail("limits.max_header_bytes", "must be >= 256");
    if (p.limits.max_connections == 0) fail("limits.max_connections", "must be > 0");
    auto positive = [](milliseconds d, const char* key) {
        if (d.count() <= 0) fail(key, "must be > 0");
    };
    positive(p.limits.handshake_timeout, "limits.handshake_timeout_ms");
    positive(p.limits.header_timeout, "limits.header_timeout_ms");
    positive(p.limits.body_timeout, "limits.body_timeout_ms");
    positive(p.limits.write_timeout, "limits.write_timeout_ms");
    positive(p.limits.idle_timeout, "limits.idle_timeout_ms");
    const auto& f = p.faults;
    for (const auto& row : fault_table)
        if (const double pr = (f.*row.trigger).probability; !(pr >= 0 && pr <= 1))
            fail("faults." + std::string(row.name) + ".probability", "must be in [0, 1]");
    const auto s = f.server_error_status;
    if (s != 500 && s != 502 && s != 503 && s != 504) fail("faults.server_error.status", "must be 500, 502, 503 or 504");
    return p;
}

}  // namespace sandbox_detail
}  // namespace catalyst
