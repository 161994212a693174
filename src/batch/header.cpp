#include "batch/header.hpp"

#include "batch/timestamp.hpp"
#include "core/origin.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <charconv>

namespace catalyst::batch {

namespace json = boost::json;

std::string run_target::describe() const {
    if (embedded_sandbox) return "the embedded sandbox";
    if (none) return "no API (dry run)";
    const bool v6 = host.find(':') != std::string::npos;
    return scheme + "://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + path;
}

std::optional<run_target> target_of(std::string_view base_url) {
    detail::origin o;
    if (!detail::parse_origin(base_url, o).empty()) return std::nullopt;
    run_target t;
    t.scheme = "https";
    t.host = o.host;
    std::from_chars(o.port.data(), o.port.data() + o.port.size(), t.port);
    t.path = o.path;
    return t;
}

json::object target_json(const run_target& t) {
    json::object o;
    if (t.embedded_sandbox) {
        o["embedded_sandbox"] = true;
    } else if (t.none) {
        o["none"] = true;
    } else {
        o["scheme"] = t.scheme;
        o["host"] = t.host;
        o["port"] = t.port;
        o["path"] = t.path;
    }
    return o;
}

std::string key_fingerprint(std::string_view api_key) {
    return api_key.empty() ? std::string{} : sha256_hex(api_key, 8);
}

namespace {

std::string shard_text(const shard_spec& s) { return std::to_string(s.index) + "/" + std::to_string(s.count); }

}  // namespace

void append_header(const run_header& h, std::string& out) {
    json::object o;
    o["header"] = "catalyst-batch";  // first: `looks_like_header` goes by it
    o["tool_version"] = h.version;
    o["key_scheme"] = h.key_scheme;
    o["target"] = target_json(h.target);
    o["campaign"] = h.campaign ? json::value(*h.campaign) : json::value(nullptr);
    o["api_key_sha256_8"] = h.key_fingerprint;
    o["shard"] = shard_text(h.shard);
    o["dry_run"] = h.dry_run;
    o["started_at"] = format_utc(h.started_ms);
    out.append(json::serialize(o));
    out.push_back('\n');
}

bool looks_like_header(std::string_view line) noexcept { return line.starts_with("{\"header\":"); }

std::optional<run_header> parse_header(std::string_view line) {
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const auto& o = v.get_object();
    const auto* tag = o.if_contains("header");
    if (!tag || !tag->is_string() || tag->get_string() != "catalyst-batch") return std::nullopt;
    run_header h;
    auto str = [&](const char* name) -> std::optional<std::string> {
        if (const auto* p = o.if_contains(name); p && p->is_string()) return std::string(p->get_string());
        return std::nullopt;
    };
    auto version = str("tool_version");
    auto scheme = str("key_scheme");
    auto fingerprint = str("api_key_sha256_8");
    auto shard = str("shard");
    auto started = str("started_at");
    const auto* target = o.if_contains("target");
    if (!version || !scheme || !fingerprint || !shard || !started || !target || !target->is_object())
        return std::nullopt;
    h.version = *version;
    h.key_scheme = *scheme;
    h.key_fingerprint = *fingerprint;
    auto sh = parse_shard(*shard);
    auto st = parse_utc(*started);
    if (!sh || !st) return std::nullopt;
    h.shard = *sh;
    h.started_ms = *st;
    if (const auto* c = o.if_contains("campaign"); c && c->is_string()) h.campaign = std::string(c->get_string());
    if (const auto* d = o.if_contains("dry_run"); d && d->is_bool()) h.dry_run = d->get_bool();
    const auto& t = target->get_object();
    auto flag = [&](const char* name) {
        const auto* p = t.if_contains(name);
        return p && p->is_bool() && p->get_bool();
    };
    h.target.embedded_sandbox = flag("embedded_sandbox");
    h.target.none = flag("none");
    if (!h.target.embedded_sandbox && !h.target.none) {
        const auto* s = t.if_contains("scheme");
        const auto* host = t.if_contains("host");
        const auto* port = t.if_contains("port");
        const auto* path = t.if_contains("path");
        const bool port_ok = port && (port->is_uint64() || port->is_int64());
        if (!s || !s->is_string() || !host || !host->is_string() || !port_ok || !path || !path->is_string())
            return std::nullopt;
        h.target.scheme = s->get_string();
        h.target.host = host->get_string();
        h.target.port = static_cast<unsigned>(port->is_uint64() ? port->get_uint64()
                                                                : static_cast<std::uint64_t>(port->get_int64()));
        h.target.path = path->get_string();
    }
    return h;
}

std::vector<std::string> header_mismatches(const run_header& before, const run_header& now,
                                           const header_acceptance& accept) {
    std::vector<std::string> out;
    auto was_now = [](const std::string& a, const std::string& b) { return " (was " + a + ", now " + b + ")"; };
    if (before.key_scheme != now.key_scheme)
        out.push_back("key scheme" + was_now(before.key_scheme, now.key_scheme) +
                      ": the same lines would be sent under other idempotency keys");
    // A dry run has no target and no key: only a real run's are compared.
    if (!before.dry_run && !now.dry_run) {
        if (!(before.target == now.target) && !accept.target_change)
            out.push_back("target" + was_now(before.target.describe(), now.target.describe()) +
                          "; after a migration of the same API, --accept-target-change");
        if (before.key_fingerprint != now.key_fingerprint && !accept.key_change)
            out.push_back("API key" +
                          was_now("sha256 " + before.key_fingerprint + "...", "sha256 " + now.key_fingerprint + "...") +
                          "; for a rotated key of the same account, --accept-key-change");
    }
    if (before.campaign != now.campaign)
        out.push_back("campaign" + was_now(before.campaign.value_or("none"), now.campaign.value_or("none")));
    if (!(before.shard.index == now.shard.index && before.shard.count == now.shard.count))
        out.push_back("shard layout" + was_now(shard_text(before.shard), shard_text(now.shard)));
    return out;
}

}  // namespace catalyst::batch
