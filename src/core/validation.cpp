// validate(): the contract's rules, every problem at once, in the contract's field order.
// Messages follow Django REST framework's wording, since the API is a DRF app and the sandbox
// returns these very strings in its 400 bodies. No message quotes the value: values can be
// personal data, and these errors end up in logs.
#include <catalyst/validation.hpp>

#include "core/iso_codes.hpp"
#include "core/utf8.hpp"

#include <arpa/inet.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace catalyst {
namespace {

constexpr std::size_t max_chars = 255;

namespace msg {
constexpr std::string_view required = "This field is required.";
constexpr std::string_view too_long = "Ensure this field has no more than 255 characters.";
constexpr std::string_view bad_utf8 = "Ensure this field is valid UTF-8 text.";
constexpr std::string_view uuid = "Must be a valid UUID.";
constexpr std::string_view ip = "Enter a valid IPv4 or IPv6 address.";
constexpr std::string_view email = "Enter a valid email address.";
constexpr std::string_view country = "Enter a valid ISO 3166-1 alpha-2 country code.";
constexpr std::string_view currency = "Enter a valid ISO 4217 currency code.";
constexpr std::string_view number = "A valid number is required.";
constexpr std::string_view min_0 = "Ensure this value is greater than or equal to 0.";
constexpr std::string_view min_1 = "Ensure this value is greater than or equal to 1.";
constexpr std::string_view max_10 = "Ensure this value is less than or equal to 10.";
constexpr std::string_view int_digits = "Ensure that there are no more than 8 digits before the decimal point.";
constexpr std::string_view frac_digits = "Ensure that there are no more than 2 decimal places.";
}  // namespace msg

using detail::utf8_length;

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// nullptr when `s` is a valid decimal(10,2) string, the DRF-style reason otherwise.
const std::string_view* decimal_problem(std::string_view s) noexcept {
    bool negative = false;
    if (!s.empty() && s.front() == '-') {
        negative = true;
        s.remove_prefix(1);
    }
    const std::size_t dot = s.find('.');
    const std::string_view whole = s.substr(0, dot);
    const std::string_view frac = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
    if (whole.empty() || !std::all_of(whole.begin(), whole.end(), is_digit) ||
        (dot != std::string_view::npos && (frac.empty() || !std::all_of(frac.begin(), frac.end(), is_digit))))
        return &msg::number;
    if (negative) return &msg::min_0;
    // Leading zeros are not significant digits ("007.50" is 7.50), as for Python's Decimal.
    const std::size_t first = whole.find_first_not_of('0');
    const std::size_t significant = first == std::string_view::npos ? 0 : whole.size() - first;
    if (significant > 8) return &msg::int_digits;
    if (frac.size() > 2) return &msg::frac_digits;
    return nullptr;
}

bool is_ipv4(std::string_view s) noexcept {
    int parts = 0;
    std::size_t i = 0;
    while (true) {
        std::size_t start = i;
        unsigned value = 0;
        while (i < s.size() && is_digit(s[i]) && i - start < 3) value = value * 10 + unsigned(s[i++] - '0');
        const std::size_t len = i - start;
        if (len == 0 || value > 255 || (len > 1 && s[start] == '0')) return false;
        ++parts;
        if (i == s.size()) return parts == 4;
        if (s[i] != '.' || parts == 4) return false;
        ++i;
    }
}

// The codes of a list (ISO 3166 alpha-2, ISO 4217) as one bit per possible code of `Len`
// capital letters, filled once: a request's country is checked on every call, and a lookup
// here is a few instructions where a binary search compared strings eight times or so.
template <std::size_t Len>
class code_set {
public:
    explicit code_set(std::span<const std::string_view> codes) noexcept {
        for (std::string_view c : codes) {
            const std::size_t i = index(c);
            if (i != npos) bits_[i / 64] |= std::uint64_t{1} << (i % 64);
        }
    }
    bool contains(std::string_view s) const noexcept {
        const std::size_t i = index(s);
        return i != npos && ((bits_[i / 64] >> (i % 64)) & 1) != 0;
    }

private:
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);
    static constexpr std::size_t count = Len == 2 ? 26 * 26 : 26 * 26 * 26;
    static std::size_t index(std::string_view s) noexcept {
        if (s.size() != Len) return npos;
        std::size_t i = 0;
        for (char c : s) {
            if (c < 'A' || c > 'Z') return npos;
            i = i * 26 + static_cast<std::size_t>(c - 'A');
        }
        return i;
    }
    std::array<std::uint64_t, (count + 63) / 64> bits_{};
};

class checker {
public:
    field_errors result;

    void add(std::string_view field, std::string_view message) {
        result.push_back({std::string(field), std::string(message)});
    }

    // Encoding and length, common to every string; false when a problem was reported.
    bool text(std::string_view field, std::string_view s) {
        // ASCII, nearly always: a character a byte, so a short one is within the limit.
        if (s.size() <= max_chars && detail::is_ascii(s)) return true;
        const std::size_t n = utf8_length(s);
        if (n == std::string_view::npos) {
            add(field, msg::bad_utf8);
            return false;
        }
        if (n > max_chars) {
            add(field, msg::too_long);
            return false;
        }
        return true;
    }

    void required_text(std::string_view field, const std::string& s, bool (*rule)(std::string_view) noexcept,
                       std::string_view rule_message) {
        if (s.empty()) return add(field, msg::required);
        if (text(field, s) && rule && !rule(s)) add(field, rule_message);
    }

    void optional_text(std::string_view field, const std::optional<std::string>& s,
                       bool (*rule)(std::string_view) noexcept = nullptr, std::string_view rule_message = {},
                       bool required = false) {
        if (!s) {
            if (required) add(field, msg::required);
            return;
        }
        if (text(field, *s) && rule && !rule(*s)) add(field, rule_message);
    }

    void decimal(std::string_view field, const std::optional<std::string>& s, bool required) {
        if (!s) {
            if (required) add(field, msg::required);
            return;
        }
        if (!text(field, *s)) return;
        if (const std::string_view* problem = decimal_problem(*s)) add(field, *problem);
    }
};

}  // namespace

namespace rules {

bool is_uuid(std::string_view s) noexcept {
    constexpr std::size_t size = 36;
    if (s.size() != size) return false;
#if defined(__SSE2__)
    // Bytes 0-31 in two steps: each must be a lower-case hex digit, but at 8, 13, 18 and 23 a
    // hyphen; bytes 32-35 are digits, checked in the last step (bytes 20-35).
    const auto digits = [](const char* p) {
        const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        // x - lo <= hi - lo, unsigned: x in [lo, hi].
        const auto in = [x](char lo, char hi) {
            const __m128i d = _mm_sub_epi8(x, _mm_set1_epi8(lo));
            return _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(static_cast<char>(hi - lo))), d);
        };
        return static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(in('0', '9'), in('a', 'f'))));
    };
    const auto hyphens = [](const char* p) {
        const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        return static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('-'))));
    };
    constexpr unsigned hyphens_0 = 1u << 8 | 1u << 13, hyphens_16 = 1u << 2 | 1u << 7;  // 18, 23
    const char* p = s.data();
    return digits(p) == (0xffffu & ~hyphens_0) && hyphens(p) == hyphens_0 &&
           digits(p + 16) == (0xffffu & ~hyphens_16) && hyphens(p + 16) == hyphens_16 &&
           (digits(p + 20) >> 12) == 0xfu;
#else
    for (std::size_t i = 0; i < size; ++i) {
        const char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') return false;
        } else if (!is_digit(c) && !(c >= 'a' && c <= 'f')) {
            return false;
        }
    }
    return true;
#endif
}

bool is_ip_literal(std::string_view s) noexcept {
    if (is_ipv4(s)) return true;
    // inet_pton(AF_INET6) takes no zone id ("%eth0") and checks an embedded IPv4 strictly.
    char buf[64];
    if (s.empty() || s.size() >= sizeof buf || s.find('\0') != std::string_view::npos) return false;
    std::memcpy(buf, s.data(), s.size());
    buf[s.size()] = '\0';
    unsigned char addr[16];
    return ::inet_pton(AF_INET6, buf, addr) == 1;
}

bool is_country_code(std::string_view s) noexcept {
    static const code_set<2> codes(detail::iso3166_alpha2());
    return codes.contains(s);
}

bool is_currency_code(std::string_view s) noexcept {
    static const code_set<3> codes(detail::iso4217_active());
    return codes.contains(s);
}

bool is_decimal_10_2(std::string_view s) noexcept { return decimal_problem(s) == nullptr; }

bool is_plausible_email(std::string_view s) noexcept {
    const std::size_t at = s.find('@');
    if (at == std::string_view::npos || at == 0 || s.find('@', at + 1) != std::string_view::npos)
        return false;
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c == 0x7F) return false;  // spaces and control characters
    }
    const std::string_view domain = s.substr(at + 1);
    const std::size_t dot = domain.find('.');
    return dot != std::string_view::npos && domain.front() != '.' && domain.back() != '.' &&
           domain.find("..") == std::string_view::npos;
}

}  // namespace rules

field_errors validate(const session_request& req) {
    checker c;
    const bool direct = !req.campaign_mode();
    c.optional_text("campaign_id", req.campaign_id, rules::is_uuid, msg::uuid);

    const lead& l = req.lead;
    c.required_text("lead.first_name", l.first_name, nullptr, {});
    c.required_text("lead.last_name", l.last_name, nullptr, {});
    c.required_text("lead.email", l.email, rules::is_plausible_email, msg::email);
    c.required_text("lead.country", l.country, rules::is_country_code, msg::country);
    c.optional_text("lead.address", l.address);
    c.optional_text("lead.city", l.city);
    c.optional_text("lead.postal_code", l.postal_code);
    c.optional_text("lead.phone", l.phone);

    c.optional_text("customer_ip", req.customer_ip, rules::is_ip_literal, msg::ip);
    c.decimal("amount", req.amount, direct);
    c.optional_text("currency", req.currency, rules::is_currency_code, msg::currency, direct);
    if (direct && !req.billing_type) c.add("billing_type", msg::required);
    if (req.trial_period && *req.trial_period < 1) c.add("trial_period", msg::min_1);
    c.decimal("trial_price", req.trial_price, false);
    c.optional_text("gateway_id", req.gateway_id, rules::is_uuid, msg::uuid, direct);
    if (req.max_payment_attempts) {
        if (*req.max_payment_attempts < 1) c.add("max_payment_attempts", msg::min_1);
        else if (*req.max_payment_attempts > 10) c.add("max_payment_attempts", msg::max_10);
    }
    c.optional_text("webhook_profile_id", req.webhook_profile_id, rules::is_uuid, msg::uuid);
    c.optional_text("hosted_page_id", req.hosted_page_id, rules::is_uuid, msg::uuid);
    return std::move(c.result);
}

}  // namespace catalyst
