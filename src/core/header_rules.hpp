#ifndef CATALYST_SRC_CORE_HEADER_RULES_HPP
#define CATALYST_SRC_CORE_HEADER_RULES_HPP

// The one rule for what may go into a request header, shared by client_params::check() (the
// API key, user agent, server name) and the per-call headers of request_options.

#include <array>
#include <string_view>

namespace catalyst::detail {

/// RFC 9110 field-value: visible characters, spaces and TABs; any other control character
/// (a CR or LF would inject headers into every request) is refused.
inline bool header_value_safe(std::string_view s) noexcept {
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if ((c < 0x20 && c != '\t') || c == 0x7F) return false;
    }
    return true;
}

/// RFC 9110 token (a field name): one or more of ALPHA DIGIT and !#$%&'*+-.^_`|~
inline bool header_name_token(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!alnum && std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) == std::string_view::npos)
            return false;
    }
    return true;
}

/// Headers the client writes itself, or that change the framing or the connection: a caller
/// may not add them per call (they would be sent twice, or desynchronise the connection).
inline bool header_reserved(std::string_view name) noexcept {
    static constexpr std::array<std::string_view, 14> reserved = {
        "host",         "authorization", "content-length", "content-type", "transfer-encoding",
        "connection",   "keep-alive",    "upgrade",        "te",           "trailer",
        "expect",       "idempotency-key", "user-agent",   "accept"};
    for (auto r : reserved) {
        if (r.size() != name.size()) continue;
        bool same = true;
        for (std::size_t i = 0; i < r.size() && same; ++i) {
            char c = name[i];
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
            same = c == r[i];
        }
        if (same) return true;
    }
    return false;
}

}  // namespace catalyst::detail

#endif
