// Inputs the fuzzers found (fuzz/*), each reduced to the smallest case that showed the bug,
// kept here so that the normal and sanitizer test runs guard the fix.
#include "batch/resume.hpp"
#include "sandbox/config.hpp"
#include "sandbox/service.hpp"

#include <catalyst/json.hpp>
#include <catalyst/sandbox.hpp>

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>

namespace catalyst {
namespace {

batch::read_function from_string(std::string text) {
    auto s = std::make_shared<std::pair<std::string, std::size_t>>(std::move(text), 0);
    return [s](char* buf, std::size_t size) {
        const std::size_t n = std::min(size, s->first.size() - s->second);
        std::memcpy(buf, s->first.data() + s->second, n);
        s->second += n;
        return n;
    };
}

// fuzz_request_decode: an unknown member with an empty name gave a field error with an empty
// field path (the batch output printed ": unknown field").
TEST(hardening_regressions, empty_unknown_key_names_its_object) {
    session_request req;
    field_errors errors;
    EXPECT_FALSE(decode(R"({"":1,"lead":{"":2}})", req, errors, unknown_fields::reject));
    ASSERT_EQ(errors.size(), 2u);
    for (const auto& e : errors) EXPECT_FALSE(e.field.empty()) << e.message;
    EXPECT_EQ(errors[0].field, "lead");
    EXPECT_EQ(errors[1].field, "non_field_errors");
}

// fuzz_sandbox_config: {"threads": 7.7e34} converted a double beyond 2^64 to an integer
// (undefined behaviour, reported by UBSan) before the range check.
TEST(hardening_regressions, sandbox_config_huge_double_is_a_range_error) {
    for (const char* text : {R"({"threads": 7.7e34})", R"({"threads": 1.8446744073709552e19})",
                             R"({"faults": {"server_error": {"every_nth": 1e300}}})"}) {
        sandbox_params p;
        try {
            apply_sandbox_json(p, text);
            ADD_FAILURE() << "accepted " << text;
        } catch (const sandbox_config_error& e) {
            EXPECT_NE(std::string(e.what()).find("must be <="), std::string::npos) << e.what();
        }
    }
    sandbox_params p;
    apply_sandbox_json(p, R"({"threads": 2.0})");
    EXPECT_EQ(p.threads, 2u);
}

// fuzz_batch_resume: a record's line number sized the resume bitmap: line 10^12 asked for
// 125 GB, line 2^64-1 overflowed `line + 1` to 0 and wrote out of bounds.
TEST(hardening_regressions, resume_refuses_line_numbers_beyond_any_input) {
    std::string header;  // an output starts with one (issue 11); without, it is refused earlier
    batch::append_header(batch::run_header{}, header);
    for (const char* line : {"18446744073709551615", "1000000000000", "4294967297"}) {
        std::string file = header + R"({"line":)" + line + R"(,"key":"k","outcome":"ok"})" + "\n";
        try {
            batch::scan_output(from_string(file));
            ADD_FAILURE() << line << " accepted";
        } catch (const batch::resume_error& e) {
            EXPECT_NE(std::string(e.what()).find("beyond any input"), std::string::npos) << e.what();
        }
    }
    auto st = batch::scan_output(from_string(header + R"({"line":3,"key":"k","outcome":"ok"})" "\n"));
    EXPECT_TRUE(st.is_done(3));
    EXPECT_EQ(st.ok, 1u);
}

// fuzz_sandbox_request: the 415 answer echoed the request's Content-Type byte for byte, so a
// header with bytes >= 0x80 made the JSON body invalid UTF-8 (unparsable for any client).
TEST(hardening_regressions, sandbox_415_body_stays_valid_json_for_any_content_type) {
    sandbox_params p;
    p.api_keys = {"rk_test_123"};
    sandbox_detail::service svc(sandbox_detail::normalize(p));
    sandbox_detail::api_request r;
    r.method = sandbox_detail::http_method::post;
    r.target = "/api/v1/payment-sessions/";
    r.has_authorization = true;
    r.authorization = "Bearer rk_test_123";
    r.has_content_type = true;
    r.content_type = "text/p\xec\x61\x14\x03\xff\"x";
    r.body = "{}";
    sandbox_detail::api_response out;
    svc.handle_api(r, out);
    EXPECT_EQ(out.status, 415u);
    boost::system::error_code ec;
    (void)boost::json::parse(out.body, ec);
    EXPECT_FALSE(ec) << out.body;
}

}  // namespace
}  // namespace catalyst
