#include "client/http_response.hpp"

#include <cstring>

namespace catalyst::detail {
namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

// Does a comma-separated header value contain `token` (case-insensitive)?
bool has_token(std::string_view v, std::string_view token) noexcept {
    while (!v.empty()) {
        auto comma = v.find(',');
        auto item = v.substr(0, comma);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
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

parse_status fail(http_response& out, const char* why) {
    out.error = why;
    return parse_status::error;
}

}  // namespace

parse_status parse_response(char* data, std::size_t size, std::size_t body_limit, std::size_t header_limit,
                            http_response& out) {
    out = http_response{};
    std::string_view all(data, size);
    auto head_end = all.find("\r\n\r\n");
    if (head_end == std::string_view::npos) {
        if (size > header_limit) return fail(out, "header block too large");
        // An obviously wrong first byte is an error now, not after the header limit.
        if (size >= 5 && all.substr(0, 5) != "HTTP/") return fail(out, "not an HTTP response");
        return parse_status::need_more;
    }
    if (head_end > header_limit) return fail(out, "header block too large");
    std::string_view head = all.substr(0, head_end + 2);

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
    out.status = static_cast<unsigned>((line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0'));
    if (out.status < 100) return fail(out, "bad status code");

    bool have_length = false, chunked = false, keep_alive = false;
    std::size_t length = 0;
    head.remove_prefix(eol + 2);
    while (!head.empty()) {
        eol = head.find("\r\n");
        std::string_view field = head.substr(0, eol);
        head.remove_prefix(eol + 2);
        auto colon = field.find(':');
        if (colon == std::string_view::npos || colon == 0) return fail(out, "bad header line");
        std::string_view name = field.substr(0, colon);
        if (name.back() == ' ' || name.back() == '\t') return fail(out, "bad header line");
        std::string_view value = field.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
        while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
        switch (name.size()) {
        case 10:
            if (iequals(name, "connection")) {
                if (has_token(value, "close")) out.connection_close = true;
                if (has_token(value, "keep-alive")) keep_alive = true;
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
                if (have_length && n != length) return fail(out, "conflicting Content-Length");
                have_length = true;
                length = n;
            }
            break;
        case 17:
            if (iequals(name, "transfer-encoding")) {
                if (!has_token(value, "chunked")) return fail(out, "unsupported Transfer-Encoding");
                chunked = true;
            }
            break;
        case 19:
            if (iequals(name, "idempotent-replayed")) out.replayed = iequals(value, "true");
            break;
        default: break;
        }
    }
    if (out.version_minor == 0 && !keep_alive) out.connection_close = true;

    std::size_t body_start = head_end + 4;
    // 1xx: skip an interim response (100 Continue) and parse what follows.
    if (out.status >= 100 && out.status < 200) {
        std::size_t skip = body_start;
        auto st = parse_response(data + skip, size - skip, body_limit, header_limit, out);
        if (st == parse_status::done) out.consumed += skip;
        return st;
    }
    if (out.status == 204 || out.status == 304) {
        out.consumed = body_start;
        return parse_status::done;
    }
    if (chunked) {
        // Two passes: the first only walks the chunks (so that a need_more leaves the buffer
        // untouched for the next call), the second moves the chunk data together in place.
        std::size_t rd = body_start, total = 0, end_of_message = 0;
        for (;;) {
            std::string_view rest(data + rd, size - rd);
            auto le = rest.find("\r\n");
            if (le == std::string_view::npos) {
                if (rest.size() > 1024) return fail(out, "bad chunk header");
                return parse_status::need_more;
            }
            std::string_view size_line = rest.substr(0, le);
            if (auto semi = size_line.find(';'); semi != std::string_view::npos) size_line = size_line.substr(0, semi);
            while (!size_line.empty() && (size_line.back() == ' ' || size_line.back() == '\t')) size_line.remove_suffix(1);
            std::size_t n = 0;
            if (!parse_size(size_line, 16, n)) return fail(out, "bad chunk size");
            if (n > body_limit || total + n > body_limit) return fail(out, "body too large");
            std::size_t data_at = rd + le + 2;
            if (n == 0) {
                // Trailer fields (ignored), then an empty line.
                std::size_t t = data_at;
                for (;;) {
                    std::string_view tail(data + t, size - t);
                    auto e = tail.find("\r\n");
                    if (e == std::string_view::npos) {
                        if (tail.size() > header_limit) return fail(out, "trailers too large");
                        return parse_status::need_more;
                    }
                    t += e + 2;
                    if (e == 0) break;
                }
                end_of_message = t;
                break;
            }
            if (size - data_at < n + 2) return parse_status::need_more;
            if (data[data_at + n] != '\r' || data[data_at + n + 1] != '\n') return fail(out, "bad chunk end");
            total += n;
            rd = data_at + n + 2;
        }
        std::size_t wr = body_start;
        rd = body_start;
        for (;;) {
            std::string_view rest(data + rd, size - rd);
            auto le = rest.find("\r\n");
            std::string_view size_line = rest.substr(0, le);
            if (auto semi = size_line.find(';'); semi != std::string_view::npos) size_line = size_line.substr(0, semi);
            while (!size_line.empty() && (size_line.back() == ' ' || size_line.back() == '\t')) size_line.remove_suffix(1);
            std::size_t n = 0;
            parse_size(size_line, 16, n);
            if (n == 0) break;
            std::memmove(data + wr, data + rd + le + 2, n);
            wr += n;
            rd += le + 2 + n + 2;
        }
        out.body = std::string_view(data + body_start, wr - body_start);
        out.consumed = end_of_message;
        return parse_status::done;
    }
    if (!have_length) {
        // No length and no chunking: the body runs to EOF. We never send requests whose
        // answers may do that; treat it as malformed rather than wait forever.
        return fail(out, "response without Content-Length");
    }
    if (length > body_limit) return fail(out, "body too large");
    if (size - body_start < length) return parse_status::need_more;
    out.body = std::string_view(data + body_start, length);
    out.consumed = body_start + length;
    return parse_status::done;
}

}  // namespace catalyst::detail
