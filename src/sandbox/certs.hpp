#ifndef CATALYST_SRC_SANDBOX_CERTS_HPP
#define CATALYST_SRC_SANDBOX_CERTS_HPP

// A development CA and a server certificate it signs, made in-process with OpenSSL 3.

#include <string>

namespace catalyst::sandbox_detail {

struct cert_bundle {
    std::string ca_pem;    ///< the CA certificate (what clients trust)
    std::string cert_pem;  ///< the server certificate
    std::string key_pem;   ///< the server's private key (PKCS#8)
};

/// EC P-256 keys; CA: basicConstraints CA:TRUE, keyCertSign; server: SAN IP:127.0.0.1,
/// IP:::1, DNS:localhost, serverAuth, valid for 825 days. Throws std::runtime_error.
cert_bundle generate_dev_certs();

/// Reads dir/{ca.crt,server.crt,server.key} when all exist, the server certificate is valid
/// for at least another day, is signed by ca.crt and matches the key; otherwise generates and
/// writes them (the directory is created, keys are 0600). `generated` tells which happened.
cert_bundle load_or_generate_dev_certs(const std::string& dir, bool& generated);

/// Reads a whole file; throws std::runtime_error "<what> <path>: <reason>".
std::string read_file(const std::string& path, const char* what);

}  // namespace catalyst::sandbox_detail

#endif
