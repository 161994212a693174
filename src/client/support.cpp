// Small helpers of the client: ids, error bodies, the TLS context.
#include "client/client_impl.hpp"
#include "core/random.hpp"
#include "core/tls_ciphers.hpp"

#include <catalyst/config.hpp>

#include <boost/asio/ssl/context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <openssl/ssl.h>

#include <array>
#include <cstdint>
#include <cstring>


namespace catalyst::detail {
namespace {

void collect(const boost::json::value& v, const std::string& path, field_errors& out) {
    if (v.is_array()) {
        for (const auto& m : v.as_array()) {
            if (m.is_string()) out.push_back({path, bounded_excerpt(m.as_string(), 256)});
            else if (m.is_object() || m.is_array()) collect(m, path, out);
        }
    } else if (v.is_string()) {
        out.push_back({path, bounded_excerpt(v.as_string(), 256)});
    } else if (v.is_object()) {
        for (const auto& kv : v.as_object()) {
            std::string key(kv.key());
            collect(kv.value(), path.empty() ? key : path + "." + key, out);
        }
    }
}

}  // namespace

void uuid_v4(std::string& out) {
    std::uint64_t a = random_engine()(), b = random_engine()();
    a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
    b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
    // Two hex digits a byte from a table, each pair to its place in 8-4-4-4-12: one of these per
    // call, where a digit at a time with a test for the hyphens cost four times as much.
    static constexpr auto hex_pairs = [] {
        constexpr char hex[] = "0123456789abcdef";
        std::array<char, 512> t{};
        for (std::size_t i = 0; i < 256; ++i) {
            t[2 * i] = hex[i >> 4];
            t[2 * i + 1] = hex[i & 0xf];
        }
        return t;
    }();
    char hex[32];
    for (std::size_t i = 0; i < 8; ++i) {
        std::memcpy(hex + 2 * i, &hex_pairs[2 * ((a >> (56 - 8 * i)) & 0xff)], 2);
        std::memcpy(hex + 16 + 2 * i, &hex_pairs[2 * ((b >> (56 - 8 * i)) & 0xff)], 2);
    }
    char s[36];
    std::memcpy(s, hex, 8);
    s[8] = '-';
    std::memcpy(s + 9, hex + 8, 4);
    s[13] = '-';
    std::memcpy(s + 14, hex + 12, 4);
    s[18] = '-';
    std::memcpy(s + 19, hex + 16, 4);
    s[23] = '-';
    std::memcpy(s + 24, hex + 20, 12);
    out.assign(s, sizeof s);  // into the recycled string's capacity: no allocation
}

std::string uuid_v4() {
    std::string s;
    uuid_v4(s);
    return s;
}

void read_error_body(const http_response& r, diagnostics& d, std::string& api_code_out) {
    boost::system::error_code ec;
    auto v = boost::json::parse(r.body, ec);
    if (ec || !v.is_object()) {
        if (!r.body.empty()) d.body_excerpt = bounded_excerpt(r.body, 256);
        return;
    }
    const auto& o = v.as_object();
    field_errors fields;
    for (const auto& kv : o) {
        if (kv.key() == "detail") {
            if (kv.value().is_string()) d.detail = bounded_excerpt(kv.value().as_string(), 512);
        } else if (kv.key() == "code") {
            if (kv.value().is_string()) api_code_out = std::string(kv.value().as_string());
        } else if (r.status == 400) {
            collect(kv.value(), std::string(kv.key()), fields);
        }
    }
    d.api_code = api_code_out;
    if (!fields.empty()) d.fields = std::move(fields);
}

void configure_tls(boost::asio::ssl::context& ctx, const client_params& p) {
    SSL_CTX* native = ctx.native_handle();
    SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
    // The cipher order (tls_params: AES-128-GCM first); check() has vetted both lists.
    if (!set_tls13_suites(native, p.tls.tls13_ciphersuites))
        throw config_error("tls.tls13_ciphersuites", "refused by OpenSSL: " + p.tls.tls13_ciphersuites);
    if (!set_tls12_ciphers(native, p.tls.tls12_ciphers))
        throw config_error("tls.tls12_ciphers", "refused by OpenSSL: " + p.tls.tls12_ciphers);
    ctx.set_options(boost::asio::ssl::context::default_workarounds | boost::asio::ssl::context::no_compression);
    // We keep sessions ourselves (the last one per shard); OpenSSL must still treat this
    // as a caching client, or TLS 1.3 tickets are not made resumable.
    SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    boost::system::error_code ec;
    if (p.tls.insecure_skip_verify) {
        ctx.set_verify_mode(boost::asio::ssl::verify_none);
    } else {
        ctx.set_verify_mode(boost::asio::ssl::verify_peer);
    }
    bool any_ca = false;
    if (!p.tls.ca_file.empty()) {
        ctx.load_verify_file(p.tls.ca_file, ec);
        if (ec) throw config_error("tls.ca_file", "cannot load " + p.tls.ca_file + ": " + ec.message());
        any_ca = true;
    }
    if (!p.tls.ca_dir.empty()) {
        ctx.add_verify_path(p.tls.ca_dir, ec);
        if (ec) throw config_error("tls.ca_dir", "cannot use " + p.tls.ca_dir + ": " + ec.message());
        any_ca = true;
    }
    if (!p.tls.ca_pem.empty()) {
        ctx.add_certificate_authority(boost::asio::buffer(p.tls.ca_pem), ec);
        if (ec) throw config_error("tls.ca_pem", "not a PEM certificate: " + ec.message());
        any_ca = true;
    }
    if (!any_ca) {
        ctx.set_default_verify_paths(ec);
        if (ec) throw config_error("tls", "cannot load the system CA store: " + ec.message());
    }
}

}  // namespace catalyst::detail
