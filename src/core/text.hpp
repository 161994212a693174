#ifndef CATALYST_SRC_CORE_TEXT_HPP
#define CATALYST_SRC_CORE_TEXT_HPP

// Small text helpers shared by the client, the sandbox, the batch tool and the command lines:
// ASCII case folding (HTTP header names, media types, enum names), trimming of HTTP
// whitespace, decimal integers appended without a temporary string, and the number and
// duration grammar of settings.

#include <catalyst/export.hpp>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace catalyst::detail {

constexpr char ascii_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

/// Equal when compared ASCII case-insensitively (other bytes compare exactly).
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    return true;
}

/// Without leading and trailing spaces and tabs (HTTP's optional whitespace).
constexpr std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

/// Appends `v` in decimal.
inline void append_uint(std::string& out, std::uint64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

/// A finite decimal number ("2.5", "1e3", "-1"), the whole of `text` (no sign '+', no
/// spaces). False when it is not one.
CATALYST_DECL bool parse_finite(std::string_view text, double& out) noexcept;

/// "500ms", "30s", "2m", "24h", "7d", "1.5s", "250us", or a plain number counted in
/// `plain_unit` (0: a plain number is refused). Negative, non-finite, unknown units and
/// values beyond about 290 years are refused (false).
CATALYST_DECL bool parse_duration(std::string_view text, std::chrono::nanoseconds plain_unit, std::chrono::nanoseconds& out) noexcept;

}  // namespace catalyst::detail

#endif
