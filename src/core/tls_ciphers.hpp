#ifndef CATALYST_SRC_CORE_TLS_CIPHERS_HPP
#define CATALYST_SRC_CORE_TLS_CIPHERS_HPP

// The cipher settings of a TLS context (tls_params::tls13_ciphersuites and tls12_ciphers,
// sandbox_params::tls13_ciphersuites): checked once, with OpenSSL's own parser, so that a
// typo is a config error naming the key instead of a suite silently left out. Inline: the
// client library and the sandbox (which reaches no internal symbol of a shared libcatalyst)
// both use it.
//
// tls13_suites_problem / tls12_ciphers_problem: why a list is not usable ("" when it is).
// TLS 1.3: colon-separated names OpenSSL knows, at least one (OpenSSL alone ignores an
// unknown name in a list that has a known one; this names it). TLS 1.2: OpenSSL cipher-list
// syntax that selects at least one TLS 1.2 suite, none of them without authentication
// (anonymous: aNULL, ADH, AECDH) or without encryption (eNULL), and keeps the security level
// at least at a fresh context's. set_*: apply a checked list to a context.

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <string_view>

namespace catalyst::detail {

namespace tls_ciphers_detail {

struct ctx_deleter {
    void operator()(SSL_CTX* c) const noexcept { SSL_CTX_free(c); }
};
using ctx_ptr = std::unique_ptr<SSL_CTX, ctx_deleter>;

// OpenSSL reads C strings: a NUL inside would cut the list short unseen; control characters
// have no place in a cipher name either.
inline bool printable(std::string_view s) {
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7f) return false;
    }
    return true;
}

// The rules of a TLS 1.2 list that let in suites without authentication or encryption, or
// lower the security level (which would let weak suites and keys through): "aNULL",
// "eNULL", "NULL", "ADH", "AECDH" as a rule or part of one ("ECDH+aNULL"), and
// "@SECLEVEL=0". Case does not matter here (OpenSSL's own names are case-sensitive, but a
// near miss is refused rather than guessed about). An exclusion ("!aNULL", "-eNULL") is fine.
inline std::string weakening_rule(std::string_view list) {
    const auto lower = [](std::string_view s) {
        std::string out(s);
        for (char& c : out)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        return out;
    };
    constexpr std::string_view separators = ": ,;";  // OpenSSL's own
    std::size_t from = 0;
    while (from < list.size()) {
        std::size_t end = list.find_first_of(separators, from);
        if (end == std::string_view::npos) end = list.size();
        const std::string_view rule = list.substr(from, end - from);
        from = end + 1;
        if (rule.empty() || rule.front() == '!' || rule.front() == '-') continue;
        const std::string r = lower(rule);
        if (r.rfind("@seclevel=", 0) == 0) {
            if (r == "@seclevel=0") return "\"" + std::string(rule) + "\" would allow suites and keys of any strength";
            continue;
        }
        std::string_view body = r;
        if (body.front() == '+') body.remove_prefix(1);  // "+aNULL" moves suites, but names them too
        std::size_t part_from = 0;
        while (part_from <= body.size()) {
            std::size_t part_end = body.find('+', part_from);
            if (part_end == std::string_view::npos) part_end = body.size();
            const std::string_view part = body.substr(part_from, part_end - part_from);
            part_from = part_end + 1;
            for (std::string_view weak : {"anull", "enull", "null", "adh", "aecdh"})
                if (part == weak)
                    return "\"" + std::string(rule) + "\" enables suites without authentication or encryption "
                           "(exclude them with \"!aNULL:!eNULL\" instead)";
        }
    }
    return {};
}

}  // namespace tls_ciphers_detail

inline std::string tls13_suites_problem(std::string_view list) {
    if (list.empty()) return "must name at least one TLS 1.3 cipher suite (e.g. TLS_AES_128_GCM_SHA256)";
    if (!tls_ciphers_detail::printable(list)) return "must not contain control characters";
    tls_ciphers_detail::ctx_ptr ctx(SSL_CTX_new(TLS_method()));
    if (!ctx) return "cannot be checked: OpenSSL could not create a context";
    // One name at a time: OpenSSL accepts a list in which some names are unknown.
    std::size_t from = 0;
    for (;;) {
        const auto colon = list.find(':', from);
        const std::string name(list.substr(from, colon == std::string_view::npos ? std::string_view::npos : colon - from));
        if (name.empty()) return "has an empty name (two colons in a row, or one at an end)";
        if (SSL_CTX_set_ciphersuites(ctx.get(), name.c_str()) != 1) {
            // Not left in this thread's queue, where a later TLS call would find it.
            ERR_clear_error();
            return "unknown TLS 1.3 cipher suite \"" + name +
                   "\" (known: TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256, "
                   "TLS_AES_128_CCM_SHA256, TLS_AES_128_CCM_8_SHA256)";
        }
        if (colon == std::string_view::npos) break;
        from = colon + 1;
    }
    return {};
}

inline std::string tls12_ciphers_problem(std::string_view list) {
    if (list.empty()) return "must select at least one TLS 1.2 cipher suite";
    if (!tls_ciphers_detail::printable(list)) return "must not contain control characters";
    tls_ciphers_detail::ctx_ptr ctx(SSL_CTX_new(TLS_method()));
    if (!ctx) return "cannot be checked: OpenSSL could not create a context";
    // Without TLS 1.3 suites, whatever the list selects is TLS 1.2 (or older, which the
    // minimum protocol version keeps out anyway).
    SSL_CTX_set_ciphersuites(ctx.get(), "");
    if (auto why = tls_ciphers_detail::weakening_rule(list); !why.empty()) return why;
    const int default_level = SSL_CTX_get_security_level(ctx.get());
    const std::string text(list);
    if (SSL_CTX_set_cipher_list(ctx.get(), text.c_str()) != 1) {
        ERR_clear_error();
        return "selects no cipher suite OpenSSL knows (OpenSSL cipher-list syntax, e.g. "
               "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384)";
    }
    // What the list selects, whatever the rules that got there ("ALL:COMPLEMENTOFALL" or a
    // suite named in full, "ECDHE-RSA-NULL-SHA", as well as the aliases refused above).
    const STACK_OF(SSL_CIPHER)* selected = SSL_CTX_get_ciphers(ctx.get());
    for (int i = 0; i < sk_SSL_CIPHER_num(selected); ++i) {
        const SSL_CIPHER* c = sk_SSL_CIPHER_value(selected, i);
        if (SSL_CIPHER_get_auth_nid(c) == NID_auth_null)
            return std::string("selects ") + SSL_CIPHER_get_name(c) + ", which does not authenticate the server";
        if (SSL_CIPHER_get_cipher_nid(c) == NID_undef)
            return std::string("selects ") + SSL_CIPHER_get_name(c) + ", which does not encrypt";
    }
    if (const int level = SSL_CTX_get_security_level(ctx.get()); level < default_level)
        return "lowers OpenSSL's security level to " + std::to_string(level) + ", below this system's default (" +
               std::to_string(default_level) + ")";
    return {};
}

inline bool set_tls13_suites(SSL_CTX* ctx, const std::string& list) { return SSL_CTX_set_ciphersuites(ctx, list.c_str()) == 1; }
inline bool set_tls12_ciphers(SSL_CTX* ctx, const std::string& list) { return SSL_CTX_set_cipher_list(ctx, list.c_str()) == 1; }

}  // namespace catalyst::detail

#endif
