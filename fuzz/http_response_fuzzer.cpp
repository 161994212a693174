// The client's response path on hostile bytes: the HTTP/1.1 parser, the session decoder on
// whatever body it yields, and the retry classification of the status and Retry-After.
//
// Properties beyond "no crash, no sanitizer report":
// - a completed parse points inside the buffer and consumes no more than it was given;
// - every strict prefix of a completed response is `need_more` (never an error, never done)
//   and leaves the buffer untouched, since the connection calls the parser after each read;
// - the body never exceeds the limit.
#include "client/http_response.hpp"
#include "client/retry_after.hpp"
#include "client/retry_policy.hpp"
#include "fuzz_common.hpp"

#include <catalyst/json.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace {

using namespace catalyst;
using namespace catalyst::detail;

constexpr std::size_t body_limit = 4096;
constexpr std::size_t header_limit = 2048;

void classify(const http_response& r) {
    session s;
    auto ec = decode(r.body, s);
    if (!ec) FUZZ_CHECK(s.status == parse_session_status(s.status_text));

    attempt_outcome o;
    o.result = attempt_result::response;
    o.status = r.status;
    o.retry_after = parse_retry_after(r.retry_after, std::chrono::system_clock::time_point{});
    if (o.retry_after) FUZZ_CHECK(o.retry_after->count() >= 0);
    retry_params p;
    for (unsigned attempts = 1; attempts <= p.max_attempts; ++attempts) {
        retry_state st;
        st.attempts = attempts;
        st.key_makes_retry_safe = attempts % 2 == 0;
        st.remaining = std::chrono::milliseconds(10'000);
        auto d = decide(o, st, p, 0.5);
        FUZZ_CHECK(d.wait.count() >= 0);
        if (d.action == next_action::retry) {
            FUZZ_CHECK(attempts < p.max_attempts);
            FUZZ_CHECK(d.wait <= p.max_retry_after);
        }
        if (r.status == 200 || r.status == 201) FUZZ_CHECK(d.action == next_action::succeed);
    }
    (void)status_to_errc(r.status);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string original(reinterpret_cast<const char*>(data), size);
    std::vector<char> buf(original.begin(), original.end());
    http_response r;
    auto st = parse_response(buf.data(), buf.size(), body_limit, header_limit, r);
    if (st == parse_status::error) {
        FUZZ_CHECK(r.error != nullptr);
        return 0;
    }
    if (st == parse_status::need_more) {
        FUZZ_CHECK(std::string_view(buf.data(), buf.size()) == original);
        return 0;
    }
    FUZZ_CHECK(r.consumed <= size);
    FUZZ_CHECK(r.status >= 200 && r.status <= 999);
    FUZZ_CHECK(r.body.size() <= body_limit);
    if (!r.body.empty()) {
        FUZZ_CHECK(r.body.data() >= buf.data());
        FUZZ_CHECK(r.body.data() + r.body.size() <= buf.data() + buf.size());
    }
    classify(r);

    // A few strict prefixes of what was consumed: the parser must ask for more, untouched.
    std::size_t cuts[] = {r.consumed - 1, r.consumed / 2, r.consumed / 3, r.consumed > 4 ? r.consumed - 4 : 0};
    for (std::size_t cut : cuts) {
        if (cut >= r.consumed) continue;
        std::vector<char> part(original.begin(), original.begin() + static_cast<std::ptrdiff_t>(cut));
        http_response pr;
        auto ps = parse_response(part.data(), part.size(), body_limit, header_limit, pr);
        FUZZ_CHECK(ps == parse_status::need_more);
        FUZZ_CHECK(std::string_view(part.data(), part.size()) == std::string_view(original).substr(0, cut));
    }
    return 0;
}
