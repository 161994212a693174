#include "client/http_response.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace catalyst::detail {
namespace {

// Does a comma-separated header value contain `token` (case-insensitive)?
bool has_token(std::string_view v, std::string_view token) noexcept {
    while (!v.empty()) {
        auto comma = v.find(',');
        const auto item = trim(v.substr(0, comma));
        if (iequals(item, token)) return true;
        if (comma == std::string_view::npos) break;
        v.remove_prefix(comma + 1);
    }
    return false;
}

bool parse_size(std::string_view v, int base, std::size_t& out) noexcept {
    if (v.empty() || v.size() > 15) return false;
    std::size_t n = 0;
    for (char c : v) {
        int d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (base == 16 && c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (base == 16 && c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return false;
        n = n * static_cast<std::size_t>(base) + static_cast<std::size_t>(d);
    }
    out = n;
    return true;
}

// The bytes of a head, by class: a table lookup per byte (a head is read byte by byte twice,
// for its field names and for control characters; branches and strchr cost three times more).
enum : unsigned char {
    token_char = 1,  ///< tchar (RFC 9110 5.6.2): what a field name is made of
    control = 2,     ///< a control character other than HTAB (a bare CR or LF among them)
};
constexpr auto byte_class = [] {
    std::array<unsigned char, 256> t{};
    for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = token_char;
    for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] = token_char;
    for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = token_char;
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = token_char;
    for (int c = 0; c < 0x20; ++c)
        if (c != '\t') t[static_cast<std::size_t>(c)] = control;
    t[0x7f] = control;
    return t;
}();

bool is_token_char(char c) noexcept { return byte_class[static_cast<unsigned char>(c)] & token_char; }

constexpr std::uint64_t every_byte(unsigned char b) noexcept { return 0x0101010101010101ULL * b; }

// Bit k set when byte k of the sixteen at `p` is a control character, HTAB included (the
// callers allow it). A head is looked at sixteen bytes a step, once per answer: a table
// lookup per byte was a third of the parse.
unsigned control_bits16(const char* p) noexcept {
#if defined(__SSE2__)
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i below_space = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1f)), x);
    const __m128i del = _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f));
    return static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(below_space, del)));
#else
    unsigned bits = 0;
    for (unsigned k = 0; k < 16; ++k) {
        const auto c = static_cast<unsigned char>(p[k]);
        if (c < 0x20 || c == 0x7f) bits |= 1u << k;
    }
    return bits;
#endif
}

// Calls `f(at)` for each control character of `s`, in order, while it returns true; false
// when `f` stopped it.
template <class F>
bool each_control(std::string_view s, F&& f) {
    const char* p = s.data();
    const std::size_t n = s.size();
    if (n < 16) {
        char block[16];
        std::memset(block, 'a', sizeof block);
        std::memcpy(block, p, n);
        for (unsigned bits = control_bits16(block); bits != 0; bits &= bits - 1)
            if (!f(static_cast<std::size_t>(std::countr_zero(bits)))) return false;
        return true;
    }
    for (std::size_t i = 0; i < n; i += 16) {
        // The last sixteen bytes, overlapping what was seen, when fewer are left.
        const std::size_t at = std::min(i, n - 16);
        for (unsigned bits = control_bits16(p + at) >> (i - at); bits != 0; bits &= bits - 1)
            if (!f(i + static_cast<std::size_t>(std::countr_zero(bits)))) return false;
    }
    return true;
}

// No line of a head may hold a control character, or the line could be split differently by
// another parser (a hidden field).
bool has_control(std::string_view line) noexcept {
    return !each_control(line, [line](std::size_t at) { return line[at] == '\t'; });
}

// Where the first "\r\n\r\n" at or after `from` starts, npos when there is none.
std::size_t find_blank_line(std::string_view s, std::size_t from) noexcept {
#if defined(__SSE2__)
    const char* p = s.data();
    const std::size_t n = s.size();
    constexpr std::uint32_t crlfcrlf = 0x0a0d0a0d;  // "\r\n\r\n" read as a little-endian word
    const auto blank_at = [p](std::size_t at) {
        std::uint32_t w;
        std::memcpy(&w, p + at, 4);
        return w == crlfcrlf;
    };
    std::size_t i = from;
    for (; i + 16 <= n; i += 16) {
        const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
        for (auto bits = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('\r')))); bits != 0;
             bits &= bits - 1) {
            const std::size_t at = i + static_cast<std::size_t>(std::countr_zero(bits));
            if (at + 4 <= n && blank_at(at)) return at;
        }
    }
    for (; i + 4 <= n; ++i)
        if (p[i] == '\r' && blank_at(i)) return i;
    return std::string_view::npos;
#else
    return s.find("\r\n\r\n", from);
#endif
}

// A field name (or a value) against a lower-case name of ours made of letters and '-', in any
// case. Setting bit 0x20 folds a letter's case and leaves '-' as it is; of the other bytes only
// CR (0x0d) would fold onto one of ours ('-'), and the head's scan has refused every CR that
// does not end a line, so that a match is exact: a name that matches is a token.
bool name_is(std::string_view name, std::string_view lower) noexcept {
    if (name.size() != lower.size()) return false;
    if (name.size() < 8) return iequals(name, lower);
    const std::size_t n = name.size();
    for (std::size_t i = 0;; i += 8) {
        if (i > n - 8) i = n - 8;
        std::uint64_t a, b;
        std::memcpy(&a, name.data() + i, 8);
        std::memcpy(&b, lower.data() + i, 8);
        if ((a | every_byte(0x20)) != b) return false;
        if (i == n - 8) return true;
    }
}

// The longest chunk header line (size and extensions) taken.
constexpr std::size_t max_chunk_line = 1024;

parse_status fail(http_response& out, const char* why) {
    out.error = why;
    return parse_status::error;
}

}  // namespace

namespace {

struct head_info {
    bool have_length = false;
    bool chunked = false;
    std::size_t length = 0;
};

// The status line: HTTP/1.x SP 3DIGIT SP reason.
parse_status status_line(std::string_view line, http_response& out) {
    if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[8] != ' ') return fail(out, "bad status line");
    if (line[7] != '0' && line[7] != '1') return fail(out, "unsupported HTTP version");
    out.version_minor = line[7] - '0';
    for (int i = 9; i < 12; ++i)
        if (line[static_cast<std::size_t>(i)] < '0' || line[static_cast<std::size_t>(i)] > '9')
            return fail(out, "bad status code");
    if (line.size() > 12 && line[12] != ' ') return fail(out, "bad status line");
    out.status = static_cast<unsigned>((line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0'));
    if (out.status < 100) return fail(out, "bad status code");
    return parse_status::done;
}

// One header field line (its CRLF excluded, no control character in it but HTAB).
parse_status field_line(std::string_view field, http_response& out, head_info& h, bool& keep_alive) {
    // A continuation line (obs-fold) is refused, not unfolded: no field we act on is
    // ever folded, and a folded line read as a field of its own would be worse.
    if (!field.empty() && (field.front() == ' ' || field.front() == '\t'))
        return fail(out, "folded header line (obs-fold)");
    // The name is a token, up to the colon. A name of ours matched (name_is) is one; any other
    // is looked at byte by byte.
    const std::size_t colon = field.find(':');
    if (colon == std::string_view::npos || colon == 0) return fail(out, "bad header line");
    const std::string_view name = field.substr(0, colon);
    const std::string_view value = trim(field.substr(colon + 1));
    const auto other_name = [&out, name] {
        if (!std::all_of(name.begin(), name.end(), is_token_char)) return fail(out, "bad header name");
        return parse_status::done;
    };
    switch (name.size()) {
    case 10:
        if (name_is(name, "connection")) {
            // The usual value alone, else the list read item by item.
            if (name_is(value, "keep-alive")) {
                keep_alive = true;
            } else {
                if (has_token(value, "close")) out.connection_close = true;
                if (has_token(value, "keep-alive")) keep_alive = true;
            }
            return parse_status::done;
        }
        if (name_is(name, "keep-alive")) {
            out.keep_alive = value;
            return parse_status::done;
        }
        break;
    case 11:
        if (name_is(name, "retry-after")) {
            out.retry_after = value;
            return parse_status::done;
        }
        break;
    case 12:
        if (name_is(name, "content-type")) {
            out.content_type = value;
            return parse_status::done;
        }
        if (name_is(name, "x-request-id")) {
            out.request_id = value;
            return parse_status::done;
        }
        break;
    case 14:
        if (name_is(name, "content-length")) {
            std::size_t n = 0;
            if (!parse_size(value, 10, n)) return fail(out, "bad Content-Length");
            if (h.have_length && n != h.length) return fail(out, "conflicting Content-Length");
            h.have_length = true;
            h.length = n;
            return parse_status::done;
        }
        break;
    case 17:
        if (name_is(name, "transfer-encoding")) {
            // Only "chunked", once: another coding would reach the caller undecoded,
            // and with chunked not last the body would run to EOF (RFC 9112 6.3).
            if (!iequals(value, "chunked") || h.chunked) return fail(out, "unsupported Transfer-Encoding");
            h.chunked = true;
            return parse_status::done;
        }
        break;
    case 19:
        if (name_is(name, "idempotent-replayed")) {
            out.replayed = iequals(value, "true");
            return parse_status::done;
        }
        break;
    default: break;
    }
    return other_name();
}

// Status line and header fields of `head` (up to and including the last field's CRLF). One
// scan finds the control characters: each must be HTAB or a line's CRLF, and each CRLF hands
// its line over as it is found.
parse_status parse_head(std::string_view head, http_response& out, head_info& h) {
    bool keep_alive = false;
    bool first = true;
    std::size_t line_start = 0;
    parse_status st = parse_status::done;
    each_control(head, [&](std::size_t at) {
        if (at < line_start) return true;  // the LF of the CRLF just taken
        const char c = head[at];
        if (c == '\t') return true;
        if (c == '\r' && at + 1 < head.size() && head[at + 1] == '\n') {
            const std::string_view line = head.substr(line_start, at - line_start);
            st = first ? status_line(line, out) : field_line(line, out, h, keep_alive);
            first = false;
            line_start = at + 2;
            return st != parse_status::error;
        }
        st = fail(out, first ? "control character in the status line" : "control character in a header line");
        return false;
    });
    if (st == parse_status::error) return st;
    // Both framings: a sign of response splitting or smuggling (RFC 9112 6.3), and the
    // connection could not be trusted for the next response anyway.
    if (h.chunked && h.have_length) return fail(out, "both Content-Length and Transfer-Encoding");
    if (out.version_minor == 0 && !keep_alive) out.connection_close = true;
    return parse_status::done;
}

// The size of the chunk whose header line is `line` (extensions and trailing blanks ignored).
bool chunk_size(std::string_view line, std::size_t& n) noexcept {
    if (auto semi = line.find(';'); semi != std::string_view::npos) line = line.substr(0, semi);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    return parse_size(line, 16, n);
}

}  // namespace

parse_status parse_response(char* data, std::size_t size, std::size_t body_limit, std::size_t header_limit,
                            http_response& out) {
    response_progress progress;
    return parse_response(data, size, body_limit, header_limit, out, progress);
}

parse_status parse_response(char* data, std::size_t size, std::size_t body_limit, std::size_t header_limit,
                            http_response& out, response_progress& pr) {
    if (pr.base != data || size < pr.scanned) {
        pr = response_progress{};
        pr.base = data;
    }
    const std::string_view all(data, size);
    while (pr.body_start == 0) {
        // The head: search for its end only in what was not searched yet.
        out = http_response{};
        const std::size_t from = std::max(pr.start, pr.scanned >= 3 ? pr.scanned - 3 : std::size_t{0});
        const auto head_end = find_blank_line(all, from);
        // The head's size so far, blank line excluded: while that line has not arrived, up
        // to 3 bytes at the end may be its start ("\r\n\r"), so that a head's fate does not
        // depend on where the reads cut it.
        const std::size_t head_size =
            head_end != std::string_view::npos ? head_end - pr.start : size - pr.start - std::min<std::size_t>(3, size - pr.start);
        if (head_size > header_limit) return fail(out, "header block too large");
        if (head_end == std::string_view::npos) {
            // An obviously wrong first byte is an error now, not after the header limit.
            if (size - pr.start >= 5 && all.substr(pr.start, 5) != "HTTP/") return fail(out, "not an HTTP response");
            pr.scanned = size;
            return parse_status::need_more;
        }
        head_info h;
        if (parse_head(all.substr(pr.start, head_end + 2 - pr.start), out, h) == parse_status::error)
            return parse_status::error;
        const std::size_t body_start = head_end + 4;
        // 1xx: skip an interim response (100 Continue) and parse what follows.
        if (out.status < 200) {
            pr.start = pr.scanned = body_start;
            continue;
        }
        if (out.status == 204 || out.status == 304) {
            out.consumed = body_start;
            return parse_status::done;
        }
        if (!h.chunked) {
            // No length and no chunking: the body runs to EOF. We never send requests whose
            // answers may do that; treat it as malformed rather than wait forever.
            if (!h.have_length) return fail(out, "response without Content-Length");
            if (h.length > body_limit) return fail(out, "body too large");
        }
        pr.body_start = body_start;
        pr.chunked = h.chunked;
        pr.length = h.length;
        pr.chunk_at = body_start;
    }
    if (!pr.chunked) {
        if (size - pr.body_start < pr.length) return parse_status::need_more;
        out.body = std::string_view(data + pr.body_start, pr.length);
        out.consumed = pr.body_start + pr.length;
        return parse_status::done;
    }
    // Chunked: walk the complete chunks not walked yet (the buffer is left untouched until the
    // whole message is there), then move the chunk data together in place.
    std::size_t end_of_message = 0;
    for (;;) {
        std::string_view rest = all.substr(pr.chunk_at);
        auto le = rest.find("\r\n");
        // A chunk line is bounded whether or not its CRLF is there yet (its last byte may
        // be the CR), so that the outcome does not depend on where the reads cut it.
        if (le == std::string_view::npos) {
            if (rest.size() > max_chunk_line + 1) return fail(out, "bad chunk header");
            return parse_status::need_more;
        }
        if (le > max_chunk_line) return fail(out, "bad chunk header");
        std::size_t n = 0;
        // Extensions are ignored, not control characters (a bare CR or LF among them):
        // another parser could end the line there and read the chunks differently.
        if (has_control(rest.substr(0, le))) return fail(out, "control character in a chunk line");
        if (!chunk_size(rest.substr(0, le), n)) return fail(out, "bad chunk size");
        if (n > body_limit || pr.chunk_total + n > body_limit) return fail(out, "body too large");
        const std::size_t data_at = pr.chunk_at + le + 2;
        if (n == 0) {
            // Trailer fields (ignored), then an empty line.
            std::size_t t = data_at;
            for (;;) {
                std::string_view tail = all.substr(t);
                auto e = tail.find("\r\n");
                if (e == std::string_view::npos) {
                    if (tail.size() > header_limit + 1) return fail(out, "trailers too large");
                    return parse_status::need_more;
                }
                if (e > header_limit) return fail(out, "trailers too large");
                if (has_control(tail.substr(0, e))) return fail(out, "control character in a trailer line");
                t += e + 2;
                if (e == 0) break;
            }
            end_of_message = t;
            break;
        }
        if (size - data_at < n + 2) return parse_status::need_more;
        if (data[data_at + n] != '\r' || data[data_at + n + 1] != '\n') return fail(out, "bad chunk end");
        pr.chunk_total += n;
        pr.chunk_at = data_at + n + 2;
    }
    std::size_t wr = pr.body_start;
    std::size_t rd = pr.body_start;
    for (;;) {
        std::string_view rest = all.substr(rd);
        auto le = rest.find("\r\n");
        std::size_t n = 0;
        chunk_size(rest.substr(0, le), n);
        if (n == 0) break;
        std::memmove(data + wr, data + rd + le + 2, n);
        wr += n;
        rd += le + 2 + n + 2;
    }
    out.body = std::string_view(data + pr.body_start, wr - pr.body_start);
    out.consumed = end_of_message;
    return parse_status::done;
}

}  // namespace catalyst::detail
