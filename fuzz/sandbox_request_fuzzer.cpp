// The sandbox's request handling without sockets (sandbox_detail::service, the part the server
// (server.cpp) hands every parsed request to): routing, authentication, idempotency, decoding and
// validation of the body, the duplicate-lead rules, and the admin endpoints (the global rate
// limit's schedule included).
//
// Input: byte 0 = flags (method, which Authorization, which headers are present, admin or
// API); then up to four parts separated by NUL bytes: target, Authorization or
// Content-Type override, Idempotency-Key, body.
//
// Properties: a status in 200..599; a JSON body when the content type says JSON; a 201 body is
// a session; the same request with the same key answers the same (replay); no answer echoes
// the API key.
#include "fuzz_common.hpp"
#include "sandbox/config.hpp"
#include "sandbox/service.hpp"

#include <catalyst/json.hpp>

#include <boost/json/parse.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace catalyst;
using namespace catalyst::sandbox_detail;

constexpr std::string_view good_key = "rk_fuzz_secret_key_0123456789";

std::unique_ptr<service> make_service() {
    sandbox_params p;
    p.api_keys = {std::string(good_key), "rk_test_123"};
    p.plain_http = true;
    return std::make_unique<service>(normalize(p));
}

// `echoes_ok`: the key was also sent outside Authorization (in a header or body the
// sandbox may quote back, like the 415's media type); only Authorization must stay unechoed.
void check_answer(const api_response& out, bool echoes_ok = false) {
    FUZZ_CHECK(out.status >= 200 && out.status <= 599);
    if (!echoes_ok) {
        FUZZ_CHECK(out.body.find(good_key) == std::string::npos);
        FUZZ_CHECK(out.headers.find(good_key) == std::string::npos);
    }
    if (out.content_type.starts_with("application/json") && !out.body.empty()) {
        boost::system::error_code ec;
        (void)boost::json::parse(out.body, ec);
        FUZZ_CHECK(!ec);
    }
    const bool replayed = out.headers.find("Idempotent-Replayed: true") != std::string::npos;
    FUZZ_CHECK(!(out.created && replayed));
    if (out.status == 201) {
        FUZZ_CHECK(out.created || replayed);
        session s;
        FUZZ_CHECK(!decode(out.body, s));
        FUZZ_CHECK(s.token.starts_with("ps_"));
    }
    // Extra header lines must be well formed: no bare CR or LF inside a line.
    std::string_view h = out.headers;
    while (!h.empty()) {
        auto eol = h.find("\r\n");
        FUZZ_CHECK(eol != std::string_view::npos);
        auto line = h.substr(0, eol);
        FUZZ_CHECK(line.find('\r') == std::string_view::npos && line.find('\n') == std::string_view::npos);
        h.remove_prefix(eol + 2);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static std::unique_ptr<service> svc;
    static unsigned runs = 0;
    // A fresh service now and then keeps the ledger (which only grows) from filling memory.
    if (!svc || ++runs % 20'000 == 0) svc = make_service();
    if (size == 0) return 0;

    const std::uint8_t flags = data[0];
    std::vector<std::string_view> parts;
    std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    while (parts.size() < 3) {
        auto nul = rest.find('\0');
        if (nul == std::string_view::npos) break;
        parts.push_back(rest.substr(0, nul));
        rest.remove_prefix(nul + 1);
    }
    parts.push_back(rest);
    parts.resize(4);

    static constexpr http_method methods[] = {http_method::post, http_method::post, http_method::get,
                                              http_method::put,  http_method::del,  http_method::head,
                                              http_method::other, http_method::post};
    api_request r;
    r.method = methods[flags & 7];
    r.target = parts[0];
    const std::string bearer = "Bearer " + std::string(good_key);
    switch ((flags >> 3) & 3) {
    case 0: break;
    case 1:
        r.has_authorization = true;
        r.authorization = bearer;
        break;
    case 2:
        r.has_authorization = true;
        r.authorization = parts[1];
        break;
    default:
        r.has_authorization = true;
        r.authorization = "Bearer rk_test_123";
        break;
    }
    if (flags & 0x20) {
        r.has_content_type = true;
        r.content_type = ((flags >> 3) & 3) == 2 ? std::string_view("application/json") : parts[1];
    } else {
        r.has_content_type = true;
        r.content_type = "application/json; charset=utf-8";
    }
    if (flags & 0x40) {
        r.has_idempotency_key = true;
        r.idempotency_key = parts[2];
    }
    r.body = parts[3];

    const bool key_elsewhere = std::string_view(reinterpret_cast<const char*>(data), size).find(good_key) !=
                               std::string_view::npos;
    api_response out;
    const bool admin = (flags & 0x80) && r.target.starts_with("/sandbox/");
    if (admin) {
        svc->handle_admin(r, out);
        check_answer(out, key_elsewhere);
        // PUT /sandbox/faults changes the shared faults, POST /sandbox/rate-limit-schedule the
        // global limit (which would make a replay below a 429): put them back.
        if (r.method == http_method::put) svc->set_faults(fault_params{});
        if (r.method == http_method::post) {
            api_request off;
            off.method = http_method::post;
            off.target = "/sandbox/rate-limit-schedule";
            off.body = "off";
            api_response ignored;
            svc->handle_admin(off, ignored);
            FUZZ_CHECK(ignored.status == 200 && ignored.body == "null");
        }
        return 0;
    }
    svc->handle_api(r, out);
    check_answer(out, key_elsewhere);

    if (r.has_idempotency_key && out.status == 201) {
        api_response again;
        svc->handle_api(r, again);
        check_answer(again, key_elsewhere);
        FUZZ_CHECK(again.status == out.status);
        FUZZ_CHECK(again.body == out.body);
        FUZZ_CHECK(!again.created);
    }
    return 0;
}
