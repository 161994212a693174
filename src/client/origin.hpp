#ifndef CATALYST_SRC_CLIENT_ORIGIN_HPP
#define CATALYST_SRC_CLIENT_ORIGIN_HPP

#include <string>
#include <string_view>

namespace catalyst::detail {

/// Where requests go, read from `client_params::base_url`.
struct origin {
    std::string host;         ///< without brackets for IPv6
    std::string port = "443";
    bool host_is_ip = false;  ///< IP literal: no SNI, the certificate is checked for the IP
    std::string host_header;  ///< "host[:port]", brackets for IPv6
    std::string path;         ///< "/api/v1/payment-sessions/"
};

/// Parses an absolute https URL. Returns "" on success, else why it is refused.
std::string parse_origin(std::string_view base_url, origin& out);

}  // namespace catalyst::detail

#endif
