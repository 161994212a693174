// Retry-After values (delta-seconds or one of the three HTTP-date formats).
// Properties: never negative; a date the parser accepted, written back as an IMF-fixdate,
// reads as the same instant.
#include "client/retry_after.hpp"
#include "fuzz_common.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace catalyst::detail;
    std::string_view v(reinterpret_cast<const char*>(data), size);
    const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));

    auto delay = parse_retry_after(v, now);
    if (delay) FUZZ_CHECK(delay->count() >= 0);

    auto at = parse_http_date(v);
    if (at && *at >= 0 && *at < 253'402'300'800LL) {  // years 1970..9999: what gmtime/%Y print
        std::time_t t = static_cast<std::time_t>(*at);
        std::tm tm{};
        FUZZ_CHECK(gmtime_r(&t, &tm) != nullptr);
        char text[64];
        std::size_t n = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        FUZZ_CHECK(n > 0);
        auto again = parse_http_date(std::string_view(text, n));
        FUZZ_CHECK(again && *again == *at);
    }
    return 0;
}
