#include "client/http_response.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <array>
#include <cstring>

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

// No line of a head may hold a control character, or the line could be split differently by
// another parser (a hidden field).
bool has_control(std::string_view line) noexcept {
    unsigned char any = 0;
    for (char c : line) any |= byte_class[static_cast<unsigned char>(c)];
    return (any & control) != 0;
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

// Status line and header fields of `head` (up to and including the last field's CRLF).
parse_status parse_head(std::string_view head, http_response& out, head_info& h) {
    // Status line: HTTP/1.x SP 3DIGIT SP reason CRLF
    auto eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[8] != ' ') return fail(out, "bad status line");
    if (line[7] != '0' && line[7] != '1') return fail(out, "unsupported HTTP version");
    out.version_minor = line[7] - '0';
    for (int i = 9; i < 12; ++i)
        if (line[static_cast<std::size_t>(i)] < '0' || line[static_cast<std::size_t>(i)] > '9')
            return fail(out, "bad status code");
    if (line.size() > 12 && line[12] != ' ') return fail(out, "bad status line");
    if (has_control(line)) return fail(out, "control character in the status line");
    out.status = static_cast<unsigned>((line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0'));
    if (out.status < 100) return fail(out, "bad status code");

    bool keep_alive = false;
    head.remove_prefix(eol + 2);
    while (!head.empty()) {
        eol = head.find("\r\n");
        std::string_view field = head.substr(0, eol);
        head.remove_prefix(eol + 2);
        // A continuation line (obs-fold) is refused, not unfolded: no field we act on is
        // ever folded, and a folded line read as a field of its own would be worse.
        if (!field.empty() && (field.front() == ' ' || field.front() == '\t'))
            return fail(out, "folded header line (obs-fold)");
        auto colon = field.find(':');
        if (colon == std::string_view::npos || colon == 0) return fail(out, "bad header line");
        std::string_view name = field.substr(0, colon);
        if (!std::all_of(name.begin(), name.end(), is_token_char)) return fail(out, "bad header name");
        if (has_control(field)) return fail(out, "control character in a header line");
        const std::string_view value = trim(field.substr(colon + 1));
        switch (name.size()) {
        case 10:
            if (iequals(name, "connection")) {
                if (has_token(value, "close")) out.connection_close = true;
                if (has_token(value, "keep-alive")) keep_alive = true;
            } else if (iequals(name, "keep-alive")) {
                out.keep_alive = value;
            }
            break;
        case 11:
            if (iequals(name, "retry-after")) out.retry_after = value;
            break;
        case 12:
            if (iequals(name, "content-type")) out.content_type = value;
            else if (iequals(name, "x-request-id")) out.request_id = value;
            break;
        case 14:
            if (iequals(name, "content-length")) {
                std::size_t n = 0;
                if (!parse_size(value, 10, n)) return fail(out, "bad Content-Length");
                if (h.have_length && n != h.length) return fail(out, "conflicting Content-Length");
                h.have_length = true;
                h.length = n;
            }
            break;
        case 17:
            if (iequals(name, "transfer-encoding")) {
                // Only "chunked", once: another coding would reach the caller undecoded,
                // and with chunked not last the body would run to EOF (RFC 9112 6.3).
                if (!iequals(value, "chunked") || h.chunked) return fail(out, "unsupported Transfer-Encoding");
                h.chunked = true;
            }
            break;
        case 19:
            if (iequals(name, "idempotent-replayed")) out.replayed = iequals(value, "true");
            break;
        default: break;
        }
    }
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
        const auto head_end = all.find("\r\n\r\n", from);
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
