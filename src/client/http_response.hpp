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
    std::string_view body;           ///< the (de-chunked) body
    std::size_t consumed = 0;        ///< bytes of the buffer this response used
    const char* error = nullptr;     ///< why parsing failed
};

/// Parses one response at the start of `data` (which may hold more than one response, or
/// part of one). Returns need_more until the whole response is there (the buffer is then
/// left untouched); once done, `out` points into `data`. A chunked body is decoded in place,
/// which is why `data` is mutable. A body larger than `body_limit` or a header block larger
/// than `header_limit` is an error; so is a response delimited by EOF (no length).
parse_status parse_response(char* data, std::size_t size, std::size_t body_limit, std::size_t header_limit,
                            http_response& out);

}  // namespace catalyst::detail

#endif
