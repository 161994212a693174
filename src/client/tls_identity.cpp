#include "client/tls_identity.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

namespace catalyst::detail {

namespace {
// OpenSSL's refusals leave entries in this thread's error queue, where the next TLS call
// on the thread would find them.
std::string refused(const char* why) {
    ERR_clear_error();
    return why;
}
}  // namespace

std::string apply_peer_identity(SSL* ssl, const origin& o, const tls_params& tls) {
    const bool named = !tls.server_name.empty();
    const std::string& name = named ? tls.server_name : o.host;
    // One rule for either source (check() applies it too): OpenSSL reads the name as a C
    // string, and a NUL inside would hand it an empty name, which means "no host check".
    const bool ip = is_ip_literal(name);
    if (!ip) {
        if (auto why = host_name_problem(name); !why.empty())
            return std::string(named ? "tls.server_name" : "the base URL's host") + " cannot be verified: " + why;
    }
    if (!tls.insecure_skip_verify) {
        if (ip) {
            if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str()) != 1)
                return refused("OpenSSL refused the IP address to verify");
        } else {
            // "*" only as a whole left-most label: "a*.example" or "*a.example" matches nothing.
            SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            if (SSL_set1_host(ssl, name.c_str()) != 1) return refused("OpenSSL refused the host name to verify");
        }
    }
    if (!ip && SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) return refused("OpenSSL refused the host name as SNI");
    return {};
}

bool verification_refused(long verify_result, bool identity_failed, bool verification_on) noexcept {
    return identity_failed || (verification_on && verify_result != X509_V_OK);
}

}  // namespace catalyst::detail
