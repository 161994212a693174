// The shape of the sandbox's error answers: DRF's, with the lead's fields nested, and API keys
// redacted wherever they are shown.

#include "sandbox/config.hpp"
#include "sandbox/faults.hpp"
#include "sandbox/service.hpp"

#include <gtest/gtest.h>

#include <catalyst/sandbox.hpp>

#include <boost/json.hpp>

using namespace catalyst;
using namespace catalyst::sandbox_detail;
using namespace std::chrono_literals;

namespace {

TEST(error_bodies, drf_shape_nests_lead) {
    const auto body = field_errors_body({{"amount", "A valid number is required."},
                                         {"lead.email", "Enter a valid email address."},
                                         {"lead.country", "This field is required."},
                                         {"amount", "second"}});
    const auto v = boost::json::parse(body);
    EXPECT_EQ(v.at("amount").as_array().size(), 2u);
    EXPECT_EQ(v.at("lead").at("email").at(0).as_string(), "Enter a valid email address.");
    EXPECT_EQ(v.at("lead").at("country").at(0).as_string(), "This field is required.");
    const auto nf =
        boost::json::parse(field_errors_body({{"non_field_errors", "malformed \"JSON\""}}));
    EXPECT_EQ(nf.at("non_field_errors").at(0).as_string(), "malformed \"JSON\"");
}

TEST(error_bodies, redact_key) {
    EXPECT_EQ(redact_sandbox_key("rk_your_api_key"), "rk_****_key");
    EXPECT_EQ(redact_sandbox_key("rk_test_123"), "rk_****");
    EXPECT_EQ(redact_sandbox_key(""), "");
}

}  // namespace
