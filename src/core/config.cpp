// Loading client_params from a JSON file and from the environment. Both map onto the same
// struct with the same names; every refusal names the key (or variable) it is about.
#include <catalyst/config.hpp>
#include <catalyst/diagnostics.hpp>
#include <catalyst/logging.hpp>

#include "core/json_config_reader.hpp"

#include <boost/json/value.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <vector>

namespace catalyst {
namespace {

namespace json = boost::json;

// --- JSON ----------------------------------------------------------------------------------

[[noreturn]] void refuse(const std::string& key, const std::string& reason) { throw config_error(key, reason); }

void read_level(detail::json_config_reader& r, std::string_view key, log_level& out) {
    if (!r.contains(key)) return;
    std::string s;
    r.string(key, s);
    if (auto l = parse_log_level(s)) out = *l;
    else r.fail(key, "must be trace, debug, info, warning or error");
}

/// {"name": "value", ...}, in order.
void read_labels(detail::json_config_reader& r, std::string_view key,
                 std::vector<std::pair<std::string, std::string>>& out) {
    const json::object* o = r.object(key);
    if (!o) return;
    out.clear();
    for (const auto& kv : *o) {
        const json::string* s = kv.value().if_string();
        if (!s) r.fail(key, std::string("label ") + bounded_excerpt(kv.key(), 64) + ": must be a string");
        out.emplace_back(std::string(kv.key()), std::string(s->data(), s->size()));
    }
}

void apply_object(client_params& p, const json::object& root) {
    using detail::json_config_reader;
    json_config_reader r(root, "", refuse);
    r.string("base_url", p.base_url);
    r.string("api_key", p.api_key);
    r.unsigned_integer("max_connections", p.max_connections);
    r.unsigned_integer("max_opening_connections", p.max_opening_connections);
    r.unsigned_integer("queue_limit", p.queue_limit);
    r.duration_ms("connect_timeout_ms", p.connect_timeout);
    r.duration_ms("tls_handshake_timeout_ms", p.tls_handshake_timeout);
    r.duration_ms("attempt_timeout_ms", p.attempt_timeout);
    r.duration_ms("overall_timeout_ms", p.overall_timeout);
    r.duration_ms("idle_timeout_ms", p.idle_timeout);
    r.unsigned_integer("max_requests_per_connection", p.max_requests_per_connection);
    r.duration_ms("max_connection_age_ms", p.max_connection_age);
    r.duration_ms("dns_cache_ttl_ms", p.dns_cache_ttl);
    r.unsigned_integer("max_response_body", p.max_response_body);
    if (const json::object* o = r.object("retry")) {
        json_config_reader n(*o, "retry.", refuse);
        n.unsigned_integer("max_attempts", p.retry.max_attempts);
        n.duration_ms("base_backoff_ms", p.retry.base_backoff);
        n.duration_ms("max_backoff_ms", p.retry.max_backoff);
        n.duration_ms("max_retry_after_ms", p.retry.max_retry_after);
        n.number("budget_ratio", p.retry.budget_ratio);
        n.unsigned_integer("budget_min_concurrency", p.retry.budget_min_concurrency);
        n.finish();
    }
    r.choice("idempotency", p.idempotency,
             {{"automatic", idempotency_policy::automatic},
              {"caller_keys_only", idempotency_policy::caller_keys_only},
              {"disabled", idempotency_policy::disabled}});
    if (r.object("pacing"))
        refuse("pacing", "renamed \"rate\": {\"mode\": \"fixed\", \"rate_per_second\": N, \"burst\": B}");
    if (const json::object* o = r.object("rate")) {
        json_config_reader n(*o, "rate.", refuse);
        n.choice("mode", p.rate.mode, {{"fixed", rate_mode::fixed}, {"adaptive", rate_mode::adaptive}});
        n.number("rate_per_second", p.rate.rate_per_second);
        n.unsigned_integer("burst", p.rate.burst);
        n.number("initial_rate", p.rate.initial_rate);
        n.number("min_rate", p.rate.min_rate);
        n.number("max_rate", p.rate.max_rate);
        n.duration_ms("max_pause_ms", p.rate.max_pause);
        n.boolean("local_throttling", p.rate.local_throttling);
        n.duration_ms("local_throttling_window_ms", p.rate.local_throttling_window);
        n.finish();
    }
    if (const json::object* o = r.object("tls")) {
        json_config_reader n(*o, "tls.", refuse);
        n.string("ca_file", p.tls.ca_file);
        n.string("ca_dir", p.tls.ca_dir);
        n.string("ca_pem", p.tls.ca_pem);
        n.string("server_name", p.tls.server_name);
        n.boolean("insecure_skip_verify", p.tls.insecure_skip_verify);
        n.boolean("session_resumption", p.tls.session_resumption);
        n.string("tls13_ciphersuites", p.tls.tls13_ciphersuites);
        n.string("tls12_ciphers", p.tls.tls12_ciphers);
        n.finish();
    }
    r.unsigned_integer("threads", p.threads);
    r.string("user_agent", p.user_agent);
    read_level(r, "min_log_level", p.min_log_level);
    read_labels(r, "metrics_labels", p.metrics_labels);
    r.finish();
}

void apply_json_as(client_params& p, std::string_view text, const std::string& key) {
    const json::value doc = detail::parse_config_object(text, key, refuse);
    // Work on a copy: a refused document leaves `p` as it was.
    client_params next = p;
    apply_object(next, doc.get_object());
    p = std::move(next);
}

// --- environment ---------------------------------------------------------------------------

template <class T>
T parse_unsigned(const char* var, std::string_view v) {
    unsigned long long n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc{} || end != v.data() + v.size() || v.empty() ||
        n > static_cast<unsigned long long>(std::numeric_limits<T>::max()))
        throw config_error(var, "must be an integer between 0 and " +
                                    std::to_string(static_cast<unsigned long long>(std::numeric_limits<T>::max())));
    return static_cast<T>(n);
}

milliseconds parse_ms(const char* var, std::string_view v) {
    return milliseconds(parse_unsigned<long long>(var, v));
}

double parse_double(const char* var, std::string_view v) {
    double d = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
    if (ec != std::errc{} || end != v.data() + v.size() || v.empty() || !std::isfinite(d) || d < 0)
        throw config_error(var, "must be a number >= 0");
    return d;
}

bool parse_bool(const char* var, std::string_view v) {
    if (v == "1" || v == "true" || v == "yes" || v == "on") return true;
    if (v == "0" || v == "false" || v == "no" || v == "off") return false;
    throw config_error(var, "must be one of 1, 0, true, false, yes, no, on, off");
}

idempotency_policy parse_policy(const char* var, std::string_view v) {
    if (v == "automatic") return idempotency_policy::automatic;
    if (v == "caller_keys_only") return idempotency_policy::caller_keys_only;
    if (v == "disabled") return idempotency_policy::disabled;
    throw config_error(var, "must be automatic, caller_keys_only or disabled");
}

}  // namespace

void apply_json(client_params& p, std::string_view json) { apply_json_as(p, json, "config"); }

void apply_file(client_params& p, const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw config_error("config file", "cannot read " + path);
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) throw config_error("config file", "cannot read " + path);
    try {
        apply_json_as(p, text.str(), "config file");
    } catch (const config_error& e) {
        if (e.key() != "config file") throw;
        throw config_error("config file", path + ": " + std::string(e.what()).substr(e.key().size() + 2));
    }
}

void apply_env(client_params& p, const env_lookup& getenv_fn) {
    const auto get = [&](const char* var) -> const char* {
        return getenv_fn ? getenv_fn(var) : std::getenv(var);
    };
    client_params next = p;
    // An empty variable counts as unset, as `VAR= command` is the usual way to drop one.
    const auto each = [&](const char* var, auto&& apply) {
        const char* v = get(var);
        if (v && *v) apply(var, std::string_view(v));
    };
    each("CATALYST_BASE_URL", [&](auto, auto v) { next.base_url = v; });
    each("CATALYST_API_KEY", [&](auto, auto v) { next.api_key = v; });
    each("CATALYST_MAX_CONNECTIONS", [&](auto n, auto v) { next.max_connections = parse_unsigned<std::size_t>(n, v); });
    each("CATALYST_MAX_OPENING_CONNECTIONS",
         [&](auto n, auto v) { next.max_opening_connections = parse_unsigned<std::size_t>(n, v); });
    each("CATALYST_QUEUE_LIMIT", [&](auto n, auto v) { next.queue_limit = parse_unsigned<std::size_t>(n, v); });
    each("CATALYST_CONNECT_TIMEOUT_MS", [&](auto n, auto v) { next.connect_timeout = parse_ms(n, v); });
    each("CATALYST_TLS_HANDSHAKE_TIMEOUT_MS", [&](auto n, auto v) { next.tls_handshake_timeout = parse_ms(n, v); });
    each("CATALYST_ATTEMPT_TIMEOUT_MS", [&](auto n, auto v) { next.attempt_timeout = parse_ms(n, v); });
    each("CATALYST_OVERALL_TIMEOUT_MS", [&](auto n, auto v) { next.overall_timeout = parse_ms(n, v); });
    each("CATALYST_IDLE_TIMEOUT_MS", [&](auto n, auto v) { next.idle_timeout = parse_ms(n, v); });
    each("CATALYST_MAX_ATTEMPTS", [&](auto n, auto v) { next.retry.max_attempts = parse_unsigned<unsigned>(n, v); });
    each("CATALYST_BASE_BACKOFF_MS", [&](auto n, auto v) { next.retry.base_backoff = parse_ms(n, v); });
    each("CATALYST_MAX_BACKOFF_MS", [&](auto n, auto v) { next.retry.max_backoff = parse_ms(n, v); });
    each("CATALYST_IDEMPOTENCY", [&](auto n, auto v) { next.idempotency = parse_policy(n, v); });
    each("CATALYST_RATE_MODE", [&](auto n, auto v) {
        if (v == "fixed") next.rate.mode = rate_mode::fixed;
        else if (v == "adaptive") next.rate.mode = rate_mode::adaptive;
        else throw config_error(n, "must be fixed or adaptive");
    });
    each("CATALYST_RATE_PER_SECOND", [&](auto n, auto v) { next.rate.rate_per_second = parse_double(n, v); });
    each("CATALYST_RATE_BURST", [&](auto n, auto v) { next.rate.burst = parse_unsigned<unsigned>(n, v); });
    each("CATALYST_RATE_INITIAL", [&](auto n, auto v) { next.rate.initial_rate = parse_double(n, v); });
    each("CATALYST_RATE_MIN", [&](auto n, auto v) { next.rate.min_rate = parse_double(n, v); });
    each("CATALYST_RATE_MAX", [&](auto n, auto v) { next.rate.max_rate = parse_double(n, v); });
    each("CATALYST_RATE_MAX_PAUSE_MS", [&](auto n, auto v) { next.rate.max_pause = parse_ms(n, v); });
    each("CATALYST_RATE_LOCAL_THROTTLING",
         [&](auto n, auto v) { next.rate.local_throttling = parse_bool(n, v); });
    each("CATALYST_RATE_LOCAL_THROTTLING_WINDOW_MS",
         [&](auto n, auto v) { next.rate.local_throttling_window = parse_ms(n, v); });
    each("CATALYST_CA_FILE", [&](auto, auto v) { next.tls.ca_file = v; });
    each("CATALYST_CA_DIR", [&](auto, auto v) { next.tls.ca_dir = v; });
    each("CATALYST_TLS_SERVER_NAME", [&](auto, auto v) { next.tls.server_name = v; });
    each("CATALYST_TLS13_CIPHERSUITES", [&](auto, auto v) { next.tls.tls13_ciphersuites = v; });
    each("CATALYST_TLS12_CIPHERS", [&](auto, auto v) { next.tls.tls12_ciphers = v; });
    each("CATALYST_TLS_INSECURE_SKIP_VERIFY",
         [&](auto n, auto v) { next.tls.insecure_skip_verify = parse_bool(n, v); });
    each("CATALYST_THREADS", [&](auto n, auto v) { next.threads = parse_unsigned<unsigned>(n, v); });
    each("CATALYST_LOG_LEVEL", [&](auto n, auto v) {
        if (auto l = parse_log_level(v)) next.min_log_level = *l;
        else throw config_error(n, "must be trace, debug, info, warning or error");
    });
    p = std::move(next);
}

client_params load_client_params(const std::string& path, const env_lookup& getenv_fn) {
    client_params p;
    if (!path.empty()) apply_file(p, path);
    apply_env(p, getenv_fn);
    check(p);
    return p;
}

}  // namespace catalyst
