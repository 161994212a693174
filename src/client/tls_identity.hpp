#ifndef CATALYST_SRC_CLIENT_TLS_IDENTITY_HPP
#define CATALYST_SRC_CLIENT_TLS_IDENTITY_HPP

// Who the server must prove to be, set on a connection's SSL object before its handshake,
// and how a failed handshake is told apart: a refusal of that proof (never retried) or a
// failure on the way (nothing was sent: retried like a connect failure).

#include <catalyst/client_params.hpp>

#include "core/origin.hpp"

#include <string>

using SSL = struct ssl_st;

namespace catalyst::detail {

/// The name is `tls.server_name` when set, else the URL's host. Sets what the certificate is
/// verified for (a host name: `SSL_set1_host`, with partial wildcards such as "a*.example"
/// refused; an IP address: the certificate's IP entries) and the SNI (for a host name only:
/// RFC 6066 forbids IP literals there). With `insecure_skip_verify` only the SNI (the caller
/// warns). Fails closed: returns "" when all is set, else why not (a name that is empty or
/// not a host name nor an IP address, or that OpenSSL refused); the connection must then
/// end there (OpenSSL would take a name it cannot use as "check no host at all").
std::string apply_peer_identity(SSL* ssl, const origin& o, const tls_params& tls);

/// Is a failed handshake the server's identity refused? Only a certificate verification
/// failure (`verify_result` from SSL_get_verify_result, a host-name mismatch included; it
/// counts only when verification is on: OpenSSL records a result without enforcing it
/// otherwise), or an identity that could not be set. Anything else (a fatal alert from the
/// server, EOF, a reset, a timeout) is a failure on the way.
bool verification_refused(long verify_result, bool identity_failed, bool verification_on) noexcept;

}  // namespace catalyst::detail

#endif
