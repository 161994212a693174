#ifndef CATALYST_SRC_CORE_JSON_STRING_HPP
#define CATALYST_SRC_CORE_JSON_STRING_HPP

// A JSON string literal appended to a buffer: the one escaper of the request encoder (on the
// client's hot path, hence inline) and of the sandbox's answers.

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace catalyst::detail {

// RFC 8259 §7: '"', '\\' and U+0000..U+001F must be escaped; everything else, UTF-8
// included, may pass through unchanged.
// A table beats the three comparisons in the byte loop (measured: bench/micro/codec_bench).
inline constexpr auto json_escape_table = [] {
    std::array<bool, 256> t{};
    for (int c = 0; c < 0x20; ++c) t[c] = true;
    t['"'] = t['\\'] = true;
    return t;
}();

/// How many bytes at the start of `s` go into a JSON string as they are (none needs an escape):
/// the first '"', '\\' or control character ends them; with `AsciiOnly`, a byte outside ASCII
/// too (the reader of the usual answer takes only plain ASCII, and leaves the rest to the
/// general reader). Sixteen bytes a step: every string of a request and of its answer is
/// looked at once per call.
template <bool AsciiOnly = false>
std::size_t json_plain_prefix(std::string_view s) noexcept {
    const char* const begin = s.data();
    const char* p = begin;
    const char* const end = begin + s.size();
#if defined(__SSE2__)
    for (; end - p >= 16; p += 16) {
        const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        __m128i stop =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')), _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
                         _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1f)), x));
        // movemask takes each byte's top bit: set in the matches, and in every byte outside ASCII.
        if constexpr (AsciiOnly) stop = _mm_or_si128(stop, x);
        if (const auto bits = static_cast<unsigned>(_mm_movemask_epi8(stop)))
            return static_cast<std::size_t>(p - begin) + static_cast<std::size_t>(std::countr_zero(bits));
    }
#endif
    // Fewer than sixteen left: eight at a time, the last eight overlapping (most of a lead's
    // strings are this short).
    if (end - p >= 8) {
        const auto plain8 = [](const char* at) {
            constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
            std::uint64_t x;
            std::memcpy(&x, at, 8);
            const std::uint64_t quote = x ^ (ones * '"'), backslash = x ^ (ones * '\\');
            // A bit in a byte that is '"', '\\' or below 0x20 (exact when none is: a borrow
            // only ever spreads up from a byte that is one), and in one outside ASCII.
            return ((((quote - ones) & ~quote) | ((backslash - ones) & ~backslash) | ((x - ones * 0x20) & ~x) |
                     (AsciiOnly ? x : 0)) &
                    highs) == 0;
        };
        if (plain8(p) && plain8(end - 8)) return s.size();
    }
    while (p != end && !json_escape_table[static_cast<unsigned char>(*p)] &&
           (!AsciiOnly || static_cast<unsigned char>(*p) < 0x80))
        ++p;
    return static_cast<std::size_t>(p - begin);
}

/// Writes the escape of `c` (a byte json_escape_table marks) at `p`: at most six bytes. Returns
/// the end of what it wrote.
inline char* write_json_escape(char* p, unsigned char c) noexcept {
    static constexpr char hex_digits[] = "0123456789abcdef";
    *p++ = '\\';
    switch (c) {
        case '"': *p++ = '"'; break;
        case '\\': *p++ = '\\'; break;
        case '\n': *p++ = 'n'; break;
        case '\r': *p++ = 'r'; break;
        case '\t': *p++ = 't'; break;
        case '\b': *p++ = 'b'; break;
        case '\f': *p++ = 'f'; break;
        default:
            *p++ = 'u';
            *p++ = '0';
            *p++ = '0';
            *p++ = hex_digits[c >> 4];
            *p++ = hex_digits[c & 0xF];
    }
    return p;
}

/// Appends `s` as a JSON string literal, quotes included; runs of plain bytes in one append.
inline void append_json_string(std::string& out, std::string_view s) {
    out.push_back('"');
    for (;;) {
        const std::size_t plain = json_plain_prefix(s);
        out.append(s.data(), plain);
        if (plain == s.size()) break;
        char escape[6];
        out.append(escape, write_json_escape(escape, static_cast<unsigned char>(s[plain])));
        s.remove_prefix(plain + 1);
    }
    out.push_back('"');
}

}  // namespace catalyst::detail

#endif
