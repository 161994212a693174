// decode(json, session&) on arbitrary bytes. The decoder reuses the caller's session (its
// strings keep their capacity between answers), so the same input is decoded into a fresh
// session and into one left over from another answer: the results must be the same. decode()
// reads the usual flat answer with a scan of its own and anything else with the general
// reader: both readers must give the same result for every input.
#include "fuzz_common.hpp"

#include <catalyst/error.hpp>
#include <catalyst/json.hpp>

#include "core/session_decoder.hpp"

#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace catalyst;
    std::string_view json(reinterpret_cast<const char*>(data), size);

    session fresh;
    auto ec = decode(json, fresh);
    if (ec) FUZZ_CHECK(ec == errc::protocol_error);
    else FUZZ_CHECK(fresh.status == parse_session_status(fresh.status_text));

    session general;
    auto general_ec = detail::decode_session_general(json, general);
    FUZZ_CHECK(ec == general_ec);
    if (!ec) {
        FUZZ_CHECK(general.token == fresh.token);
        FUZZ_CHECK(general.status_text == fresh.status_text);
        FUZZ_CHECK(general.payment_url == fresh.payment_url);
    }

    session reused;
    reused.token = "ps_left_over_from_an_earlier_answer_with_a_long_token";
    reused.status_text = "PAYMENT_IN_PROGRESS";
    reused.status = session_status::payment_in_progress;
    reused.payment_url = "https://pay.example/s/ps_left_over";
    auto ec2 = decode(json, reused);
    FUZZ_CHECK(static_cast<bool>(ec) == static_cast<bool>(ec2));
    if (!ec) {
        FUZZ_CHECK(reused.token == fresh.token);
        FUZZ_CHECK(reused.status_text == fresh.status_text);
        FUZZ_CHECK(reused.payment_url == fresh.payment_url);
        FUZZ_CHECK(reused.status == fresh.status);
    }
    return 0;
}
