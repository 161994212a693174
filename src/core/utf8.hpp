// Strict UTF-8 (RFC 3629) decoding steps shared by validation and the diagnostics excerpt.
#ifndef CATALYST_SRC_CORE_UTF8_HPP
#define CATALYST_SRC_CORE_UTF8_HPP

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace catalyst::detail {

/// Length in bytes of the well-formed UTF-8 sequence starting at `p` (1..4), or 0 when the
/// bytes there are not one: overlong forms, surrogates, code points past U+10FFFF, truncation.
inline std::size_t utf8_sequence_length(const unsigned char* p, const unsigned char* end) noexcept {
    const unsigned char c = *p;
    std::size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range depends on the first
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (static_cast<std::size_t>(end - p) < len || p[1] < lo || p[1] > hi) return 0;
    for (std::size_t i = 2; i < len; ++i)
        if ((p[i] & 0xC0) != 0x80) return 0;
    return len;
}

/// No byte of `s` outside ASCII (then it is well-formed UTF-8, a code point a byte).
inline bool is_ascii(std::string_view s) noexcept {
    const char* p = s.data();
    const std::size_t n = s.size();
    std::uint64_t any = 0;
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        std::uint64_t word;
        std::memcpy(&word, p + i, 8);
        any |= word;
    }
    for (; i < n; ++i) any |= static_cast<unsigned char>(p[i]);
    return (any & 0x8080808080808080ULL) == 0;
}

/// Number of code points in `s`, or npos when `s` is not well-formed UTF-8.
inline std::size_t utf8_length(std::string_view s) noexcept {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* const end = p + s.size();
    std::size_t count = 0;
    while (p < end) {
        // Most text is ASCII: eight bytes at a time while none has its high bit set.
        if (end - p >= 8) {
            std::uint64_t word;
            std::memcpy(&word, p, 8);
            if ((word & 0x8080808080808080ULL) == 0) {
                p += 8;
                count += 8;
                continue;
            }
        }
        const std::size_t len = utf8_sequence_length(p, end);
        if (len == 0) return std::string_view::npos;
        p += len;
        ++count;
    }
    return count;
}

}  // namespace catalyst::detail

#endif
