// The API's refusals, each mapped to its error code with the diagnostics that explain it:
// 409 duplicate_lead, a 200 that reuses a session, 404 unknown campaign, 401 bad key.
#include "client_fixture.hpp"

#include <boost/asio/use_future.hpp>

#include <gtest/gtest.h>

namespace net = boost::asio;
using namespace catalyst;
using namespace catalyst::test;

namespace {

using api_errors = client_test;

TEST_F(api_errors, api_errors_map_to_codes_with_diagnostics) {
    start();
    client c(params());
    // 409 duplicate_lead from the reject campaign, on the second lead with one email.
    auto r = valid_request("dup@example.com");
    r.campaign_id = "11111111-1111-4111-8111-111111111111";
    c.async_create_session(r, net::use_future).get();
    diagnostics d;
    EXPECT_EQ(error_of(c, r, request_options{}, d), errc::duplicate_lead);
    EXPECT_EQ(d.http_status, 409u);
    EXPECT_EQ(d.api_code, "duplicate_lead");
    EXPECT_EQ(d.attempts, 1u);
    EXPECT_FALSE(d.detail.empty());

    // 200 reuse.
    auto u = valid_request("reuse@example.com");
    u.campaign_id = "22222222-2222-4222-8222-222222222222";
    auto first = c.async_create_session(u, net::use_future).get();
    auto again = c.async_create_session(u, net::use_future).get();
    EXPECT_TRUE(again.reused);
    EXPECT_EQ(first.token, again.token);

    // 404 unknown campaign; 401 bad key.
    auto unknown = valid_request();
    unknown.campaign_id = "33333333-3333-4333-8333-333333333333";
    diagnostics d404;
    auto f404 = c.async_create_session(unknown, request_options{}, d404, net::use_future);
    EXPECT_THROW(f404.get(), boost::system::system_error);
    EXPECT_EQ(d404.http_status, 404u);

    auto p = params();
    p.api_key = "rk_wrong_key_0000";
    client bad(p);
    EXPECT_EQ(error_of(bad, valid_request()), errc::unauthorized);
}

}  // namespace
