// Differential: the client's HTTP/1.1 response parser against Beast's
// response_parser<string_body>, both fed the same bytes in the same pieces.
//
// Input: byte 0 picks how the bytes arrive (bits 0-1: how many piece sizes follow, 0-3;
// bit 2: the read buffer grows (moves) like the connection's instead of being allocated
// once), then that many bytes of piece sizes (1-256, used in turn until the input is fed),
// then the response bytes.
//
// Ours is driven as src/client/connection.cpp drives it: one buffer, each read appended,
// parse_response called again with the new length and the same progress until it says
// done or error. Beast gets the same pieces through put() (eager, need_more handled the
// usual way: the unconsumed bytes are offered again with the next piece); a 1xx answer is
// a whole message to Beast, so a new parser takes the bytes after it, as ours skips it.
//
// EOF: our client never takes the end of the connection as the end of a body (an answer
// cut short is a failed attempt), and it refuses at once a response that has neither
// Content-Length nor chunking. So Beast never gets put_eof(): a response Beast would
// delimit by EOF (need_eof()) is the tolerated case "ours refuses, Beast waits".
//
// Compared once all bytes are in: the outcome (both complete / both need more / both
// refuse), and when both complete the status code, the body (de-chunked), the bytes used
// (`consumed` against what Beast's puts used, 1xx included) and whether the connection may
// be kept. Every tolerated difference is listed in `tolerated()` with its reason and is
// taken only when the input shows its cause.
#include "client/http_response.hpp"
#include "fuzz_common.hpp"

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace http = boost::beast::http;
using namespace catalyst::detail;

constexpr std::size_t body_limit = 2048;
constexpr std::size_t header_limit = 1024;
// Ours refuses a chunk header line (size and extensions) this long without its CRLF.
constexpr std::size_t chunk_line_limit = 1024;

enum class outcome { need_more, done, refused };

const char* name(outcome o) {
    return o == outcome::done ? "done" : o == outcome::refused ? "refused" : "need_more";
}

struct ours_result {
    outcome out = outcome::need_more;
    http_response resp;
    std::string body;
    std::size_t message_start = 0;  ///< where the head ours parsed last starts (after any 1xx)
};

struct beast_result {
    outcome out = outcome::need_more;
    boost::system::error_code ec;
    std::size_t consumed = 0;       ///< bytes used by every message, 1xx included
    std::size_t message_start = 0;  ///< where the message being parsed started
    std::vector<std::size_t> starts;  ///< where each message started (1xx, then the answer)
    bool header_done = false;
    bool need_eof = false;
    bool after_last_chunk = false;  ///< the last chunk was seen (an error is in the trailers)
    unsigned status = 0;
    int version = 11;
    bool keep_alive = true;
    std::string body;
};

ours_result run_ours(std::string_view input, const std::vector<std::size_t>& pieces, bool moving_buffer) {
    ours_result r;
    std::vector<char> buf(moving_buffer ? std::size_t{16} : input.size() + 1);
    std::size_t len = 0;
    response_progress progress;
    parse_status st = parse_status::need_more;
    for (std::size_t piece : pieces) {
        if (buf.size() - len < piece) {
            std::size_t n = buf.size();
            while (n - len < piece) n *= 2;
            std::vector<char> bigger(n);  // a new address: the parser must restart cleanly
            std::copy(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(len), bigger.begin());
            buf.swap(bigger);
        }
        std::copy_n(input.data() + len, piece, buf.data() + len);
        len += piece;
        st = parse_response(buf.data(), len, body_limit, header_limit, r.resp, progress);
        if (st != parse_status::need_more) break;
    }
    r.message_start = progress.start;
    if (st == parse_status::need_more) {
        // The connection reads on into the same buffer: need_more leaves it untouched.
        FUZZ_CHECK(std::string_view(buf.data(), len) == input.substr(0, len));
        return r;
    }
    if (st == parse_status::error) {
        FUZZ_CHECK(r.resp.error != nullptr);
        r.out = outcome::refused;
        return r;
    }
    r.out = outcome::done;
    FUZZ_CHECK(r.resp.consumed <= len);
    if (!r.resp.body.empty()) {
        FUZZ_CHECK(r.resp.body.data() >= buf.data() && r.resp.body.data() + r.resp.body.size() <= buf.data() + len);
    }
    r.body = std::string(r.resp.body);  // the buffer dies here
    return r;
}

beast_result run_beast(std::string_view input, const std::vector<std::size_t>& pieces) {
    beast_result r;
    std::optional<http::response_parser<http::string_body>> p;
    auto on_chunk = [&r](std::uint64_t size, boost::string_view, boost::system::error_code&) {
        if (size == 0) r.after_last_chunk = true;
    };
    auto fresh = [&] {
        p.emplace();
        p->eager(true);
        p->body_limit(body_limit);
        // Beast applies its header limit to what one put() is offered from where the last
        // one stopped (fields are consumed one by one), not to a message's head: it cannot
        // be set to match ours. It is set out of reach and ours' limit is checked exactly
        // instead (see tolerated()).
        p->header_limit(1u << 20);
        p->on_chunk_header(on_chunk);
        r.message_start = r.consumed;
        r.starts.push_back(r.consumed);
        r.after_last_chunk = false;
    };
    fresh();
    std::string pending;  // offered but not used yet
    std::size_t fed = 0;
    for (std::size_t piece : pieces) {
        pending.append(input.substr(fed, piece));
        fed += piece;
        while (!pending.empty()) {
            boost::system::error_code ec;
            const std::size_t used = p->put(boost::asio::buffer(pending), ec);
            FUZZ_CHECK(used <= pending.size());
            pending.erase(0, used);
            r.consumed += used;
            if (ec == http::error::need_more) break;
            if (ec) {
                r.out = outcome::refused;
                r.ec = ec;
                r.header_done = p->is_header_done();
                return r;
            }
            if (p->is_done()) {
                if (p->get().result_int() / 100 == 1) {  // interim: the answer follows
                    fresh();
                    continue;
                }
                r.out = outcome::done;
                r.status = p->get().result_int();
                r.version = p->get().version();
                r.keep_alive = p->keep_alive();
                r.body = std::move(p->get().body());
                r.header_done = true;
                return r;
            }
            if (used == 0) break;
        }
    }
    r.header_done = p->is_header_done();
    r.need_eof = r.header_done && p->need_eof();
    return r;
}

// ---- what the input shows, for the narrow tolerances ----

bool ieq(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

std::string_view trim(std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
}

// The head of the message starting at `at`: up to (not including) its blank line, or to the
// end of the input when it has none.
std::string_view head_at(std::string_view input, std::size_t at) {
    std::string_view rest = input.substr(std::min(at, input.size()));
    auto end = rest.find("\r\n\r\n");
    return end == std::string_view::npos ? rest : rest.substr(0, end);
}

bool head_complete(std::string_view input, std::size_t at) {
    return input.substr(std::min(at, input.size())).find("\r\n\r\n") != std::string_view::npos;
}

// Calls f(name, value) for each CRLF-delimited field line of `head` after the status line.
template <class F>
void for_each_field(std::string_view head, F f) {
    auto eol = head.find("\r\n");
    while (eol != std::string_view::npos) {
        head.remove_prefix(eol + 2);
        eol = head.find("\r\n");
        std::string_view line = head.substr(0, eol);
        auto colon = line.find(':');
        if (colon != std::string_view::npos) f(line.substr(0, colon), trim(line.substr(colon + 1)));
    }
}

bool has_field(std::string_view head, std::string_view field) {
    bool found = false;
    for_each_field(head, [&](std::string_view n, std::string_view) { found = found || ieq(n, field); });
    return found;
}

template <class Pred>
bool any_field(std::string_view head, std::string_view field, Pred pred) {
    bool found = false;
    for_each_field(head, [&](std::string_view n, std::string_view v) { found = found || (ieq(n, field) && pred(v)); });
    return found;
}

std::size_t field_count(std::string_view head, std::string_view field) {
    std::size_t count = 0;
    for_each_field(head, [&](std::string_view n, std::string_view) { count += ieq(n, field); });
    return count;
}

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Does some line of `input` start with `n` or more hex digits?
bool hex_run_at_line_start(std::string_view input, std::size_t n) {
    for (std::size_t at = 0; at < input.size();) {
        std::size_t run = 0;
        while (at + run < input.size() && is_hex(input[at + run])) ++run;
        if (run >= n) return true;
        auto eol = input.find("\r\n", at);
        if (eol == std::string_view::npos) break;
        at = eol + 2;
    }
    return false;
}

// Does some CRLF-delimited line of `input` hold a control character after a '"'?
bool control_after_quote(std::string_view input) {
    bool quoted = false;
    for (std::size_t i = 0; i < input.size(); ++i) {
        const auto c = static_cast<unsigned char>(input[i]);
        if (c == '\r' && i + 1 < input.size() && input[i + 1] == '\n') quoted = false;
        else if (c == '"') quoted = true;
        else if (quoted && ((c < 0x20 && c != '\t') || c == 0x7f)) return true;
    }
    return false;
}

bool longest_line_over(std::string_view input, std::size_t limit) {
    std::size_t run = 0;
    for (std::size_t i = 0; i < input.size(); ++i) {
        if (input[i] == '\r' && i + 1 < input.size() && input[i + 1] == '\n') run = 0;
        else if (++run > limit) return true;
    }
    return false;
}

// Beast reads a quoted chunk extension to its closing quote, past the line's end; given that
// quote after the input (after a byte that a trailing backslash escapes), it refuses the
// extension.
bool beast_reads_quote_past_line(std::string_view input) {
    const std::string quoted = std::string(input) + "x\"\r\n\r\n";
    return run_beast(quoted, {quoted.size()}).ec == http::error::bad_chunk_extension;
}

// Ours refuses, with `error`, the message whose head is `head`, where Beast accepts it (or
// would at EOF). nullptr: no tolerated reason in this head.
const char* ours_stricter_head(std::string_view error, std::string_view head) {
    // Ours' header limit is the size of one message's head (blank line excluded); Beast's is
    // per put() and was set out of reach. Exact: this head is over the limit.
    if (error == "header block too large" && head.size() > header_limit) return "ours' header limit";
    // Ours refuses obs-fold (a field line starting with SP/HTAB) rather than unfold it;
    // Beast unfolds. No field the client acts on is ever folded. The error ours gives may be
    // the folded field's first line, incomplete without its continuation ("Content-Length:").
    if (head.find("\r\n ") != std::string_view::npos || head.find("\r\n\t") != std::string_view::npos)
        return "ours refuses obs-fold";
    // Ours takes a Content-Length of up to 15 digits and no list ("5, 5"); Beast takes any
    // uint64 and a list of equal values.
    if (error == "bad Content-Length" &&
        any_field(head, "content-length", [](std::string_view v) { return v.size() > 15 || v.find(',') != v.npos; }))
        return "ours' Content-Length syntax";
    // Ours takes exactly one "Transfer-Encoding: chunked"; Beast takes other codings and
    // passes them through undecoded, or reads the body to EOF when chunked is not last.
    if (error == "unsupported Transfer-Encoding" &&
        (field_count(head, "transfer-encoding") > 1 ||
         any_field(head, "transfer-encoding", [](std::string_view v) { return !ieq(v, "chunked"); })))
        return "ours takes only chunked";
    // Ours refuses a status code below 100 (RFC 9110 15: 1xx to 5xx); Beast takes any 3 digits.
    if (error == "bad status code" && head.size() > 9 && head[9] == '0') return "status below 100";
    return nullptr;
}

// Each tolerated difference: ours and Beast legitimately disagree. The name says which (for
// a debugger); nullptr means no tolerance applies and the difference is a broken property.
const char* tolerated(std::string_view input, const ours_result& o, const beast_result& b) {
    const std::string_view head = head_at(input, b.message_start);
    const std::string_view error = o.resp.error ? o.resp.error : "";

    if (o.out == outcome::refused) {
        // Ours refuses a response delimited by EOF (no Content-Length, not chunked): the
        // client never takes EOF as the end of a body. Beast waits for put_eof().
        if (error == "response without Content-Length" && b.out == outcome::need_more && b.need_eof)
            return "ours refuses an EOF-delimited body";
        // Ours bounds a chunk header line, and a trailer line, without their CRLF; Beast
        // bounds neither (nor leading zeros of a chunk size).
        if ((error == "bad chunk header" && longest_line_over(input, chunk_line_limit)) ||
            (error == "trailers too large" && longest_line_over(input, header_limit)))
            return "ours bounds a chunk or trailer line";
    }
    if (o.out == outcome::refused && b.out != outcome::refused) {
        // Ours refuses a control character anywhere in a chunk line; Beast takes any byte
        // but CR inside a quoted chunk extension.
        if (error == "control character in a chunk line" && control_after_quote(input)) return "ours' chunk line bytes";
        // Ours reads a chunk size of up to 15 hex digits; Beast takes leading zeros.
        if (error == "bad chunk size" && b.header_done && hex_run_at_line_start(input, 16)) return "ours' chunk size syntax";
        // Before its head is complete Beast refuses nothing once fed in pieces (it parses
        // the start line with 8 bytes, then waits for the blank line, and can miss one that
        // arrived within its first, too short, piece); ours refuses a head not starting with
        // "HTTP/" from its 5th byte and a complete bad head at once. Exact: given the bytes
        // that complete the head, in one piece, Beast refuses too.
        if (b.out == outcome::need_more && !b.header_done) {
            const std::string more = std::string(input) + "\r\n\r\n\r\n\r\n";
            if (run_beast(more, {more.size()}).out == outcome::refused) return "Beast refuses the same head later";
        }
        // The message ours refused may be an interim (1xx) one Beast went past.
        for (std::size_t start : b.starts)
            if (const char* why = ours_stricter_head(error, head_at(input, start))) return why;
        // In the body, ours checks what it has as soon as it has it; Beast checks a chunk's
        // closing CRLF only with 2 more bytes, a last chunk's line only once the trailers'
        // blank line is there, and reads a quoted chunk extension past the line's end to its
        // closing quote. Exact: given those bytes, Beast refuses too.
        if (b.out == outcome::need_more && b.header_done) {
            const std::string more = std::string(input) + "\r\n\r\n";
            if (run_beast(more, {more.size()}).out == outcome::refused || beast_reads_quote_past_line(input))
                return "Beast refuses the same bytes later";
        }
    }
    if (o.out != outcome::refused && b.out == outcome::refused) {
        // Ours takes a status line without the SP after the code ("HTTP/1.1 200\r\n", a
        // common slip); Beast requires it.
        if (b.ec == http::error::bad_status && input.substr(b.message_start).find("\r\n") == 12)
            return "status line without reason";
        // Ours looks for close/keep-alive in Connection and ignores the rest; Beast refuses
        // a Connection (or Proxy-Connection) that is not a token list.
        if (b.ec == http::error::bad_value && (has_field(head, "connection") || has_field(head, "proxy-connection")))
            return "ours does not validate Connection";
        // Ours skips trailer fields (it acts on none); Beast parses them as header fields.
        if (b.after_last_chunk) return "ours ignores trailers";
        // Ours ignores chunk extensions (and blanks after the size); Beast validates them.
        if (b.ec == http::error::bad_chunk_extension) return "ours ignores chunk extensions";
        // Beast 1.81 takes a chunk's size off its body limit each time it parses the chunk
        // header, also when that parse stops short (need_more: a quoted extension running
        // past the line's end), so its limit runs out early with the bytes fed in pieces.
        // Exact: fed in one piece, Beast does not hit its limit.
        if (b.ec == http::error::body_limit && run_beast(input, {input.size()}).ec != http::error::body_limit)
            return "Beast's body limit counts a retried chunk header again";
    }
    if (o.out == outcome::done && b.out == outcome::need_more) {
        // Ours ignores chunk extensions; Beast reads a quoted one past the line's end to its
        // closing quote and waits for it.
        if (b.header_done && beast_reads_quote_past_line(input)) return "ours ignores chunk extensions";
    }
    if (o.out == outcome::need_more && b.out == outcome::refused) {
        // Ours validates a head once it is complete, a chunk line once its CRLF is there;
        // Beast refuses bad bytes as they come.
        if (!b.header_done && !head_complete(input, b.message_start)) return "ours validates a head once complete";
        if (b.header_done && b.ec == http::error::bad_line_ending) return "ours validates a chunk line once complete";
    }
    return nullptr;
}

// Both complete but disagree on keeping the connection.
bool keep_alive_tolerated(std::string_view input, const beast_result& b) {
    const std::string_view head = head_at(input, b.message_start);
    // Beast reads Proxy-Connection like Connection; it is no response field (RFC 9110 7.6.1
    // obsoletes it) and ours ignores it.
    if (has_field(head, "proxy-connection")) return true;
    // HTTP/1.0 with "Connection: keep-alive, close": Beast keeps the connection (keep-alive
    // wins for 1.0), ours closes it, the safe reading.
    auto has_close = [](std::string_view v) {
        for (std::size_t comma = 0; comma != std::string_view::npos; v.remove_prefix(comma + 1)) {
            comma = v.find(',');
            if (ieq(trim(v.substr(0, comma)), "close")) return true;
        }
        return false;
    };
    if (b.version == 10 && any_field(head, "connection", has_close)) return true;
    // Beast acts on a Connection field in the trailers; ours ignores trailers (RFC 9110 6.5.1:
    // a trailer field does not override the header section).
    const std::size_t body_at = b.message_start + head.size();
    return has_field(input.substr(body_at, b.consumed - body_at), "connection");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const unsigned control = data[0];
    const std::size_t n_sizes = control & 3;
    const bool moving_buffer = (control & 4) != 0;
    if (size < 1 + n_sizes) return 0;
    std::vector<std::size_t> sizes;
    for (std::size_t i = 0; i < n_sizes; ++i) sizes.push_back(std::size_t{data[1 + i]} + 1);
    const std::string_view input(reinterpret_cast<const char*>(data) + 1 + n_sizes, size - 1 - n_sizes);
    if (input.empty()) return 0;

    std::vector<std::size_t> pieces;  // what each read returns
    for (std::size_t fed = 0, i = 0; fed < input.size(); ++i) {
        std::size_t piece = sizes.empty() ? input.size() : std::min(sizes[i % sizes.size()], input.size() - fed);
        pieces.push_back(piece);
        fed += piece;
    }

    const ours_result o = run_ours(input, pieces, moving_buffer);
    const beast_result b = run_beast(input, pieces);

    // Ours' header limit, exactly: a head (blank line excluded) over it is refused for its
    // size, one within it never is, however the reads cut it.
    const bool head_over_limit = head_at(input, o.message_start).size() > header_limit;
    if (o.resp.error && std::string_view(o.resp.error) == "header block too large") FUZZ_CHECK(head_over_limit);
    if (o.out == outcome::done) FUZZ_CHECK(!head_over_limit);

    if (o.out == b.out) {
        if (o.out != outcome::done) return 0;
        FUZZ_CHECK(o.resp.status == b.status);
        FUZZ_CHECK(o.body == b.body);
        FUZZ_CHECK(o.resp.consumed == b.consumed);
        FUZZ_CHECK(o.resp.version_minor == b.version - 10);
        if (o.resp.connection_close != !b.keep_alive) FUZZ_CHECK(keep_alive_tolerated(input, b));
        return 0;
    }
    if (tolerated(input, o, b)) return 0;
    std::fprintf(stderr, "ours %s (%s), beast %s (%s)\n", name(o.out), o.resp.error ? o.resp.error : "-", name(b.out),
                 b.ec.message().c_str());
    FUZZ_CHECK(!"ours and Beast disagree");
    return 0;
}
