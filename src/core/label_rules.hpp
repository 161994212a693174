#ifndef CATALYST_SRC_CORE_LABEL_RULES_HPP
#define CATALYST_SRC_CORE_LABEL_RULES_HPP

// The Prometheus label-name rule, shared by client_params::check() and to_prometheus().

#include <string_view>

namespace catalyst::detail {

/// [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved for Prometheus itself).
inline bool prometheus_label_name(std::string_view s) noexcept {
    if (s.empty() || s.starts_with("__")) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
    }
    return true;
}

}  // namespace catalyst::detail

#endif
