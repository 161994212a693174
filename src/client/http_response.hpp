#ifndef CATALYST_SRC_CLIENT_HTTP_RESPONSE_HPP
#define CATALYST_SRC_CLIENT_HTTP_RESPONSE_HPP

// A small HTTP/1.1 response parser for one answer to a POST, pure (no I/O): the connection
// appends what it reads to one buffer and calls `parse` until it says done. It keeps only
// what the client needs (status, the few headers it acts on, the body) and points into the
// caller's buffer, so a response costs no allocation. Measured against Beast's
// response_parser<string_body>, which allocates one node per header field.

#include <cstddef>
#include <string_view>

namespace catalyst::detail {

enum class parse_status { need_more, done, error };

struct http_response {
    unsigned status = 0;
    int version_minor = 1;
    bool connection_close = false;   ///< `Connection: close`, or HTTP/1.0 without keep-alive
    bool replayed = false;           ///< `Idempotent-Replayed: true`
    std::string_view retry_after;    ///< raw header value, "" when absent
    std::string_view request_id;     ///< `X-Request-Id`
    std::string_view content_type;
    std::string_view keep_alive;     ///< raw `Keep-Alive` value ("timeout=5, max=100"), "" when absent
    std::string_view body;           ///< the (de-chunked) body
    std::size_t consumed = 0;        ///< bytes of the buffer this response used
    const char* error = nullptr;     ///< why parsing failed
};

/// Where parsing of one response stands between calls, so that each call looks only at the
/// bytes that arrived since the last one (the head is parsed once, complete chunks are walked
/// once). Tied to one buffer address: a buffer that moved (grew) restarts from its start.
struct response_progress {
    const char* base = nullptr;
    std::size_t start = 0;        ///< where this response's head starts (after any 1xx)
    std::size_t scanned = 0;      ///< bytes already searched for the end of the head
    std::size_t body_start = 0;   ///< 0 while the head is incomplete
    bool chunked = false;
    std::size_t length = 0;       ///< Content-Length
    std::size_t chunk_at = 0;     ///< the next chunk header not walked yet
    std::size_t chunk_total = 0;  ///< body bytes in the chunks walked
};

/// As below, resuming from `progress` (value-initialised for a new response; `out` must be the
/// same object between calls, its views point into `data`).
parse_status parse_response(char* data, std::size_t size, std::size_t body_limit, std::size_t header_limit,
                            http_response& out, response_progress& progress);

/// Parses one response at the start of `data` (which may hold more than one response, or
/// part of one). Returns need_more until the whole response is there (the buffer is then
/// left untouched); once done, `out` points into `data`. A chunked body is decoded in place,
/// which is why `data` is mutable. A body larger than `body_limit` or a header block larger
/// than `header_limit` is an error; so is a response delimited by EOF (no length). Stricter
/// than RFC 9112 where a lenient reading could frame the response differently from another
/// parser: a Transfer-Encoding other than exactly `chunked`, Content-Length with chunked,
/// obs-fold, a field name that is not a token and a control character (a bare CR or LF) in
/// the head, a chunk line or a trailer are errors (fuzz/http_response_diff_fuzzer.cpp holds
/// it against Beast's parser and lists where the two differ).
parse_status parse_response(char* data, std::size_t size, std::size_t body_limit, std::size_t header_limit,
                            http_response& out);

}  // namespace catalyst::detail

#endif
