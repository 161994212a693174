#include "core/origin.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace catalyst::detail {

namespace {
constexpr std::size_t max_host_name = 253;  // a DNS name's longest text form

bool host_char(unsigned char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}
}  // namespace

std::string host_name_problem(std::string_view name) {
    if (name.empty()) return "the host is empty";
    if (name.size() > max_host_name) return "the host is longer than 253 characters";
    for (char ch : name) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x21 || c == 0x7f) return "the host holds a NUL, a control character or a space (percent-encoded or not)";
    }
    for (char ch : name) {
        if (!host_char(static_cast<unsigned char>(ch)))
            return "the host holds a character other than letters, digits, '-', '.' and '_' (an internationalised "
                   "name goes in its xn-- form)";
    }
    return {};
}

bool is_ip_literal(std::string_view s) {
    // Checked before the text reaches inet_pton as a C string: a NUL would cut it short, and
    // a zone ("%eth0") names no address a certificate can hold.
    if (s.empty() || s.find_first_of(std::string_view("\0%", 2)) != std::string_view::npos) return false;
    boost::system::error_code ec;
    (void)boost::asio::ip::make_address(std::string(s), ec);
    return !ec;
}

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
        // Decoded: what DNS, the certificate check and SNI would see.
        o.host = u.host();
        for (char& c : o.host)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (auto why = host_name_problem(o.host); !why.empty()) return why;
        // A percent-encoded address ("%31%32%37.0.0.1") is still an address.
        o.host_is_ip = is_ip_literal(o.host);
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
