#ifndef CATALYST_SRC_CORE_ORIGIN_HPP
#define CATALYST_SRC_CORE_ORIGIN_HPP

// Where requests go, read from `client_params::base_url`, and the one rule for a host name
// that is connected to, verified in the server's certificate and sent as SNI (the URL's host
// and `tls_params::server_name`). In core: `check()` applies the same rules as the client.

#include <string>
#include <string_view>

namespace catalyst::detail {

/// Where requests go, read from `client_params::base_url`.
struct origin {
    std::string host;         ///< percent-decoded, lower case; without brackets for IPv6
    std::string port = "443";
    bool host_is_ip = false;  ///< IP literal: no SNI, the certificate is checked for the IP
    std::string host_header;  ///< "host[:port]", brackets for IPv6
    std::string path;         ///< "/api/v1/payment-sessions/"
};

/// Parses an absolute https URL. Returns "" on success, else why it is refused. A host name
/// is checked after percent-decoding with `host_name_problem` (a decoded NUL would reach
/// OpenSSL as an empty name, which switches the certificate's host check off).
std::string parse_origin(std::string_view base_url, origin& out);

/// Why `name` cannot be a host name ("" when it can): empty; longer than 253 bytes; a NUL,
/// a control character, a space or DEL (bytes < 0x21 and 0x7f); any other byte but ASCII
/// letters, digits, '-', '.' and '_' (an internationalised name goes in its xn-- form).
std::string host_name_problem(std::string_view name);

/// An IPv4 address in dotted form or an IPv6 address (no brackets, no zone).
bool is_ip_literal(std::string_view s);

}  // namespace catalyst::detail

#endif
