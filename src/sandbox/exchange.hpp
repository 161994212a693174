#ifndef CATALYST_SRC_SANDBOX_EXCHANGE_HPP
#define CATALYST_SRC_SANDBOX_EXCHANGE_HPP

// One request as the service sees it (parsed by the server, no sockets) and the answer it
// builds, with the answers every endpoint shares: the DRF-shaped error bodies, 404, 429.

#include <catalyst/field_error.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace catalyst::sandbox_detail {

enum class http_method { get, post, put, del, head, other };

struct api_request {
    http_method method = http_method::other;
    std::string_view target;
    bool has_authorization = false;
    std::string_view authorization;
    bool has_content_type = false;
    std::string_view content_type;
    bool has_idempotency_key = false;
    std::string_view idempotency_key;
    std::string_view body;
};

struct api_response {
    unsigned status = 200;
    std::string body;
    std::string_view content_type = "application/json";
    std::string headers;   ///< extra header lines, each ending in "\r\n"
    bool created = false;  ///< a session was created while answering

    void clear() {
        status = 200;
        body.clear();
        content_type = "application/json";
        headers.clear();
        created = false;
    }
};

/// `status` with `{"detail": text}`.
void detail(api_response& out, unsigned status, std::string_view text);
/// `status` with `{"detail": text, "code": code}`.
void detail_code(api_response& out, unsigned status, std::string_view text, std::string_view code);
/// 404 `{"detail": "Not found."}`.
void not_found(api_response& out);
/// 405 with the `Allow` header.
void method_not_allowed(api_response& out, std::string_view allow);
/// 429 as the API answers it (docs/api.md): `Retry-After: seconds` (at least 1) and
/// `{"detail": "Request was throttled. Expected available in N seconds."}`.
void throttled(api_response& out, unsigned seconds);
/// DRF-shaped 400 body: {"field": ["msg"], "lead": {"email": ["msg"]}}.
std::string field_errors_body(const field_errors& errors);
/// "2024-05-01T12:00:00.123Z".
std::string iso_time(std::chrono::system_clock::time_point t);

}  // namespace catalyst::sandbox_detail

#endif
