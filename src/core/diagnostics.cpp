// diagnostics::to_string and bounded_excerpt: what a failed request tells people and logs.
#include <catalyst/diagnostics.hpp>

#include "core/utf8.hpp"

#include <string>

namespace catalyst {
namespace {

bool is_alnum(unsigned char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_token_char(unsigned char c) noexcept { return is_alnum(c) || c == '_' || c == '-'; }

// "rk_" at the start of a word: an API key, whatever follows it. Looking only at word
// starts keeps "work_item" intact.
bool api_key_at(std::string_view s, std::size_t i) noexcept {
    return s.compare(i, 3, "rk_") == 0 && (i == 0 || !is_alnum(static_cast<unsigned char>(s[i - 1])));
}

}  // namespace

std::string bounded_excerpt(std::string_view body, std::size_t limit) {
    static constexpr std::string_view mask = "rk_****";
    std::string out;
    out.reserve(std::min(limit, body.size() + mask.size()));
    const auto* const base = reinterpret_cast<const unsigned char*>(body.data());
    const auto* const end = base + body.size();
    std::size_t i = 0;
    while (i < body.size()) {
        if (api_key_at(body, i)) {
            // Mask first, cut after: a key straddling the limit must not leak its start.
            if (out.size() + mask.size() > limit) break;
            out.append(mask);
            i += 3;
            while (i < body.size() && is_token_char(static_cast<unsigned char>(body[i]))) ++i;
            continue;
        }
        const unsigned char c = base[i];
        std::size_t len = detail::utf8_sequence_length(base + i, end);
        if (out.size() + (len ? len : 1) > limit) break;
        if (len == 0) {
            out.push_back('?');  // not UTF-8: the excerpt itself always is
            len = 1;
        } else if (c < 0x20 || c == 0x7F) {
            out.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : '?');
        } else {
            out.append(body.substr(i, len));
        }
        i += len;
    }
    return out;
}

std::string diagnostics::to_string() const {
    std::string s;
    if (http_status != 0) s += "HTTP " + std::to_string(http_status);
    if (!api_code.empty()) {
        if (!s.empty()) s += ' ';
        s += api_code;
    }
    if (!detail.empty()) {
        s += s.empty() ? "" : ": ";
        s += detail;
    }
    if (!fields.empty()) {
        s += s.empty() ? "" : "; ";
        for (std::size_t i = 0; i < fields.size(); ++i) {
            if (i) s += ", ";
            s += fields[i].field + ": " + fields[i].message;
        }
    }
    if (s.empty()) s = "no details";
    if (!no_retry_reason.empty()) s += "; not retried: " + no_retry_reason;
    if (!body_excerpt.empty()) s += "; body: " + body_excerpt;
    s += " (" + std::to_string(attempts) + (attempts == 1 ? " attempt, " : " attempts, ") +
         std::to_string(elapsed.count()) + " ms";
    if (!request_id.empty()) s += ", request id " + request_id;
    s += ')';
    return s;
}

}  // namespace catalyst
