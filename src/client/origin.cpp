#include "client/origin.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace catalyst::detail {

std::string parse_origin(std::string_view base_url, origin& out) {
    auto parsed = boost::urls::parse_absolute_uri(base_url);
    if (!parsed) return "not an absolute URL";
    const auto& u = *parsed;
    if (u.scheme_id() != boost::urls::scheme::https) {
        if (u.scheme_id() == boost::urls::scheme::http) return "plain http is not supported (TLS is required)";
        return "the scheme must be https";
    }
    if (!u.has_authority() || u.encoded_host().empty()) return "no host";
    if (u.has_userinfo()) return "credentials in the URL are not supported";
    if (u.has_query() || u.has_fragment()) return "a query or fragment is not allowed";
    origin o;
    switch (u.host_type()) {
    case boost::urls::host_type::ipv4:
        o.host = u.host_address();
        o.host_is_ip = true;
        break;
    case boost::urls::host_type::ipv6:
        o.host = u.host_ipv6_address().to_string();
        o.host_is_ip = true;
        break;
    case boost::urls::host_type::name:
        o.host = u.host();
        for (char& c : o.host)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (o.host.find_first_of(" \t\r\n/\\") != std::string::npos) return "bad host name";
        break;
    default:
        return "unsupported host";
    }
    if (u.has_port()) {
        if (u.port().empty() || u.port_number() == 0) return "bad port";
        o.port = std::to_string(u.port_number());
    }
    o.host_header = u.host_type() == boost::urls::host_type::ipv6 ? "[" + o.host + "]" : o.host;
    if (o.port != "443") o.host_header += ":" + o.port;
    std::string path(u.encoded_path());
    if (path.find_first_of(" \r\n\t") != std::string::npos) return "bad path";
    if (path.empty() || path.back() != '/') path += '/';
    o.path = path + "payment-sessions/";
    out = std::move(o);
    return {};
}

}  // namespace catalyst::detail
