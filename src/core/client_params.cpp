// check(), redaction and printing of client_params.
#include <catalyst/client_params.hpp>
#include <catalyst/config.hpp>

#include "core/origin.hpp"
#include "core/header_rules.hpp"
#include "core/label_rules.hpp"
#include "core/tls_ciphers.hpp"

#include <cmath>
#include <ostream>
#include <sstream>

namespace catalyst {
namespace {

[[noreturn]] void refuse(const char* key, const std::string& reason) { throw config_error(key, reason); }

void positive(const char* key, milliseconds d) {
    if (d.count() <= 0) refuse(key, "must be > 0");
}
void non_negative(const char* key, milliseconds d) {
    if (d.count() < 0) refuse(key, "must be >= 0");
}

// The one header-value rule (see header_rules.hpp).
bool header_safe(std::string_view s) { return detail::header_value_safe(s); }

// The one base-URL rule: what the client's origin parser accepts (https only, a host name
// of letters, digits, '-', '.' and '_' once percent-decoded, or an IP address; no user info,
// query or fragment).
void check_base_url(const std::string& url) {
    detail::origin o;
    if (auto why = detail::parse_origin(url, o); !why.empty()) refuse("base_url", why);
}

// The name the certificate is checked for and sent as SNI: an IP address, or a host name
// under the URL host's rule (a NUL would reach OpenSSL as an empty name: no host check).
void check_server_name(const std::string& name) {
    if (name.empty() || detail::is_ip_literal(name)) return;
    if (auto why = detail::host_name_problem(name); !why.empty()) refuse("tls.server_name", why);
}

void check_rate(const rate_params& r) {
    const auto finite_at_least = [](const char* key, double v, double low, bool strict) {
        if (!std::isfinite(v) || v < low || (strict && v == low))
            refuse(key, strict ? "must be a finite number > 0" : "must be a finite number >= 0");
    };
    if (r.mode != rate_mode::fixed && r.mode != rate_mode::adaptive) refuse("rate.mode", "must be fixed or adaptive");
    finite_at_least("rate.rate_per_second", r.rate_per_second, 0, false);
    if (r.mode != rate_mode::adaptive) return;
    finite_at_least("rate.initial_rate", r.initial_rate, 0, true);
    finite_at_least("rate.min_rate", r.min_rate, 0, true);
    finite_at_least("rate.max_rate", r.max_rate, 0, false);
    if (r.min_rate > r.initial_rate) refuse("rate.min_rate", "must be <= rate.initial_rate");
    if (r.max_rate > 0 && r.initial_rate > r.max_rate)
        refuse("rate.initial_rate", "must be <= rate.max_rate (or set rate.max_rate to 0: no bound)");
    non_negative("rate.max_pause_ms", r.max_pause);
    if (r.local_throttling && r.local_throttling_window.count() <= 0)
        refuse("rate.local_throttling_window_ms", "must be > 0 when rate.local_throttling is on");
}

}  // namespace

config_error::config_error(std::string key, const std::string& reason)
    : std::runtime_error(key + ": " + reason), key_(std::move(key)) {}

std::string_view to_string(rate_mode m) noexcept {
    switch (m) {
        case rate_mode::fixed: return "fixed";
        case rate_mode::adaptive: return "adaptive";
    }
    return "unknown";
}

std::string_view to_string(idempotency_policy p) noexcept {
    switch (p) {
        case idempotency_policy::automatic: return "automatic";
        case idempotency_policy::caller_keys_only: return "caller_keys_only";
        case idempotency_policy::disabled: return "disabled";
    }
    return "unknown";
}

void check(const client_params& p) {
    check_base_url(p.base_url);
    if (!header_safe(p.api_key) || p.api_key.find_first_of(" \t") != std::string::npos)
        refuse("api_key", "must not contain spaces or control characters");
    if (p.max_connections == 0) refuse("max_connections", "must be > 0");
    if (p.max_opening_connections == 0) refuse("max_opening_connections", "must be > 0");
    positive("connect_timeout_ms", p.connect_timeout);
    positive("tls_handshake_timeout_ms", p.tls_handshake_timeout);
    positive("attempt_timeout_ms", p.attempt_timeout);
    non_negative("overall_timeout_ms", p.overall_timeout);
    non_negative("idle_timeout_ms", p.idle_timeout);
    non_negative("max_connection_age_ms", p.max_connection_age);
    non_negative("dns_cache_ttl_ms", p.dns_cache_ttl);
    if (p.max_response_body == 0) refuse("max_response_body", "must be > 0");

    const retry_params& r = p.retry;
    if (r.max_attempts == 0) refuse("retry.max_attempts", "must be >= 1 (1 = no retry)");
    non_negative("retry.base_backoff_ms", r.base_backoff);
    non_negative("retry.max_backoff_ms", r.max_backoff);
    if (r.max_backoff < r.base_backoff) refuse("retry.max_backoff_ms", "must be >= retry.base_backoff_ms");
    non_negative("retry.max_retry_after_ms", r.max_retry_after);
    if (!std::isfinite(r.budget_ratio) || r.budget_ratio < 0)
        refuse("retry.budget_ratio", "must be a finite number >= 0");

    switch (p.idempotency) {
        case idempotency_policy::automatic:
        case idempotency_policy::caller_keys_only:
        case idempotency_policy::disabled: break;
        default: refuse("idempotency", "must be automatic, caller_keys_only or disabled");
    }
    check_rate(p.rate);
    check_server_name(p.tls.server_name);
    if (auto why = detail::tls13_suites_problem(p.tls.tls13_ciphersuites); !why.empty())
        refuse("tls.tls13_ciphersuites", why);
    if (auto why = detail::tls12_ciphers_problem(p.tls.tls12_ciphers); !why.empty()) refuse("tls.tls12_ciphers", why);
    if (p.threads > 1024) refuse("threads", "must be <= 1024");
    if (!header_safe(p.user_agent)) refuse("user_agent", "must not contain control characters");
    switch (p.min_log_level) {
        case log_level::trace:
        case log_level::debug:
        case log_level::info:
        case log_level::warning:
        case log_level::error: break;
        default: refuse("min_log_level", "must be trace, debug, info, warning or error");
    }
    for (std::size_t i = 0; i < p.metrics_labels.size(); ++i) {
        const std::string& name = p.metrics_labels[i].first;
        const std::string key = "metrics_labels[" + std::to_string(i) + "].name";
        if (!detail::prometheus_label_name(name)) refuse(key.c_str(), "must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __");
        if (name == "le" || name == "code" || name == "reason" || name == "kind")
            refuse(key.c_str(), "is one of the client's own labels (le, code, reason, kind)");
        for (std::size_t j = 0; j < i; ++j)
            if (p.metrics_labels[j].first == name) refuse(key.c_str(), "is given twice");
    }
}

std::string redact_api_key(std::string_view key) {
    if (key.empty()) return {};
    std::string out = "rk_****";
    if (key.size() > 12) out.append(key.substr(key.size() - 4));
    return out;
}

std::ostream& operator<<(std::ostream& out, const client_params& p) {
    std::ostringstream os;
    const auto ms = [](milliseconds d) { return std::to_string(d.count()); };
    const auto flag = [](bool b) { return b ? "true" : "false"; };
    os << "base_url = " << p.base_url << '\n'
       << "api_key = " << (p.api_key.empty() ? "(none)" : redact_api_key(p.api_key)) << '\n'
       << "max_connections = " << p.max_connections << '\n'
       << "max_opening_connections = " << p.max_opening_connections << '\n'
       << "queue_limit = " << p.queue_limit << '\n'
       << "connect_timeout_ms = " << ms(p.connect_timeout) << '\n'
       << "tls_handshake_timeout_ms = " << ms(p.tls_handshake_timeout) << '\n'
       << "attempt_timeout_ms = " << ms(p.attempt_timeout) << '\n'
       << "overall_timeout_ms = " << ms(p.overall_timeout) << '\n'
       << "idle_timeout_ms = " << ms(p.idle_timeout) << '\n'
       << "max_requests_per_connection = " << p.max_requests_per_connection << '\n'
       << "max_connection_age_ms = " << ms(p.max_connection_age) << '\n'
       << "dns_cache_ttl_ms = " << ms(p.dns_cache_ttl) << '\n'
       << "max_response_body = " << p.max_response_body << '\n'
       << "retry.max_attempts = " << p.retry.max_attempts << '\n'
       << "retry.base_backoff_ms = " << ms(p.retry.base_backoff) << '\n'
       << "retry.max_backoff_ms = " << ms(p.retry.max_backoff) << '\n'
       << "retry.max_retry_after_ms = " << ms(p.retry.max_retry_after) << '\n'
       << "retry.budget_ratio = " << p.retry.budget_ratio << '\n'
       << "retry.budget_min_concurrency = " << p.retry.budget_min_concurrency << '\n'
       << "idempotency = " << to_string(p.idempotency) << '\n'
       << "rate.mode = " << to_string(p.rate.mode) << '\n'
       << "rate.rate_per_second = " << p.rate.rate_per_second << '\n'
       << "rate.burst = " << p.rate.burst << '\n'
       << "rate.initial_rate = " << p.rate.initial_rate << '\n'
       << "rate.min_rate = " << p.rate.min_rate << '\n'
       << "rate.max_rate = " << p.rate.max_rate << '\n'
       << "rate.max_pause_ms = " << ms(p.rate.max_pause) << '\n'
       << "rate.local_throttling = " << flag(p.rate.local_throttling) << '\n'
       << "rate.local_throttling_window_ms = " << ms(p.rate.local_throttling_window) << '\n'
       << "tls.ca_file = " << p.tls.ca_file << '\n'
       << "tls.ca_dir = " << p.tls.ca_dir << '\n'
       << "tls.ca_pem = " << (p.tls.ca_pem.empty() ? "(none)" : std::to_string(p.tls.ca_pem.size()) + " bytes")
       << '\n'
       << "tls.server_name = " << p.tls.server_name << '\n'
       << "tls.insecure_skip_verify = " << flag(p.tls.insecure_skip_verify) << '\n'
       << "tls.session_resumption = " << flag(p.tls.session_resumption) << '\n'
       << "tls.tls13_ciphersuites = " << p.tls.tls13_ciphersuites << '\n'
       << "tls.tls12_ciphers = " << p.tls.tls12_ciphers << '\n'
       << "threads = " << p.threads << '\n'
       << "user_agent = " << p.user_agent << '\n'
       << "min_log_level = " << to_string(p.min_log_level) << '\n';
    for (const auto& [name, value] : p.metrics_labels) os << "metrics_labels." << name << " = " << value << '\n';
    // The key pasted into another setting by mistake must not leak through that one either
    // (a short key would match ordinary text; such keys are no secret worth the garbling).
    std::string text = std::move(os).str();
    if (p.api_key.size() >= 8) {
        const std::string masked = redact_api_key(p.api_key);
        for (std::size_t at = text.find(p.api_key); at != std::string::npos;
             at = text.find(p.api_key, at + masked.size()))
            text.replace(at, p.api_key.size(), masked);
    }
    return out << text;
}

}  // namespace catalyst
