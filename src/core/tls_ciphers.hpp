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
// syntax that selects at least one TLS 1.2 suite. set_*: apply a checked list to a context.

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
    const std::string text(list);
    if (SSL_CTX_set_cipher_list(ctx.get(), text.c_str()) != 1) {
        ERR_clear_error();
        return "selects no cipher suite OpenSSL knows (OpenSSL cipher-list syntax, e.g. "
               "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384)";
    }
    return {};
}

inline bool set_tls13_suites(SSL_CTX* ctx, const std::string& list) { return SSL_CTX_set_ciphersuites(ctx, list.c_str()) == 1; }
inline bool set_tls12_ciphers(SSL_CTX* ctx, const std::string& list) { return SSL_CTX_set_cipher_list(ctx, list.c_str()) == 1; }

}  // namespace catalyst::detail

#endif
