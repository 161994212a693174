#include "batch/key.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace catalyst::batch {
namespace {

// Length-prefixed, so that no value can imitate a field boundary.
void put(std::string& out, std::string_view name, std::string_view value) {
    out.append(name);
    out.push_back('=');
    out.append(std::to_string(value.size()));
    out.push_back(':');
    out.append(value);
    out.push_back('\n');
}

void put_opt(std::string& out, std::string_view name, const std::optional<std::string>& v) {
    if (v) put(out, name, *v);
}

template <class E>
void put_enum(std::string& out, std::string_view name, const std::optional<E>& v) {
    if (v) put(out, name, to_string(*v));
}

void put_int(std::string& out, std::string_view name, const std::optional<long long>& v) {
    if (v) put(out, name, std::to_string(*v));
}

struct sha256_digest {
    unsigned char md[EVP_MAX_MD_SIZE];
};

sha256_digest sha256(std::string_view data) {
    sha256_digest d;
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), d.md, &len, EVP_sha256(), nullptr) != 1 || len != 32)
        throw std::runtime_error("SHA-256 failed (OpenSSL)");
    return d;
}

std::string hex_prefix(const sha256_digest& d, std::size_t digits) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string s(digits, '0');
    for (std::size_t i = 0; i < digits; ++i) s[i] = hex[i % 2 == 0 ? d.md[i / 2] >> 4 : d.md[i / 2] & 0xF];
    return s;
}

line_key digest(std::string_view data) {
    const auto d = sha256(data);
    line_key k;
    k.hex = hex_prefix(d, 32);
    for (int i = 0; i < 8; ++i) k.shard_hash = (k.shard_hash << 8) | d.md[i];
    return k;
}

}  // namespace

std::string canonical_encoding(const session_request& r) {
    std::string out = "catalyst-batch/1\n";
    put_opt(out, "campaign_id", r.campaign_id);
    put(out, "lead.first_name", r.lead.first_name);
    put(out, "lead.last_name", r.lead.last_name);
    put(out, "lead.email", r.lead.email);
    put(out, "lead.country", r.lead.country);
    put_opt(out, "lead.address", r.lead.address);
    put_opt(out, "lead.city", r.lead.city);
    put_opt(out, "lead.postal_code", r.lead.postal_code);
    put_opt(out, "lead.phone", r.lead.phone);
    put_opt(out, "customer_ip", r.customer_ip);
    put_opt(out, "amount", r.amount);
    put_opt(out, "currency", r.currency);
    put_enum(out, "billing_type", r.billing_type);
    put_enum(out, "billing_frequency", r.billing_frequency);
    put_enum(out, "trial_interval_unit", r.trial_interval_unit);
    put_int(out, "trial_period", r.trial_period);
    put_opt(out, "trial_price", r.trial_price);
    put_opt(out, "gateway_id", r.gateway_id);
    put_int(out, "max_payment_attempts", r.max_payment_attempts);
    put_opt(out, "webhook_profile_id", r.webhook_profile_id);
    put_opt(out, "hosted_page_id", r.hosted_page_id);
    return out;
}

line_key key_of(const session_request& req) { return digest(canonical_encoding(req)); }

line_key key_of_raw(std::string_view raw) {
    std::string data = "catalyst-batch/raw/1\n";
    data.append(raw);
    return digest(data);
}

std::string sha256_hex(std::string_view data, std::size_t digits) {
    return hex_prefix(sha256(data), std::min<std::size_t>(digits, 64));
}

std::string idempotency_key(const line_key& k) { return "cb1-" + k.hex; }

std::optional<shard_spec> parse_shard(std::string_view s) {
    const auto slash = s.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    shard_spec spec;
    const auto a = s.substr(0, slash);
    const auto b = s.substr(slash + 1);
    auto r1 = std::from_chars(a.data(), a.data() + a.size(), spec.index);
    auto r2 = std::from_chars(b.data(), b.data() + b.size(), spec.count);
    if (a.empty() || b.empty() || r1.ec != std::errc{} || r1.ptr != a.data() + a.size() ||
        r2.ec != std::errc{} || r2.ptr != b.data() + b.size() || spec.count == 0 || spec.index >= spec.count)
        return std::nullopt;
    return spec;
}

}  // namespace catalyst::batch
