#include "client/retry_after.hpp"

#include <gtest/gtest.h>

using namespace catalyst::detail;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::system_clock;

namespace {
// 1994-11-06 08:49:37 UTC, the RFC's example date.
const system_clock::time_point rfc_date = system_clock::time_point(seconds(784111777));
}  // namespace

TEST(retry_after, delta_seconds) {
    EXPECT_EQ(parse_retry_after("120", rfc_date), milliseconds(120000));
    EXPECT_EQ(parse_retry_after(" 0 ", rfc_date), milliseconds(0));
    EXPECT_EQ(parse_retry_after("99999999999999999999999", rfc_date), milliseconds::max());
    EXPECT_FALSE(parse_retry_after("", rfc_date));
    EXPECT_FALSE(parse_retry_after("-1", rfc_date));
    EXPECT_FALSE(parse_retry_after("1.5", rfc_date));
    EXPECT_FALSE(parse_retry_after("12abc", rfc_date));
}

TEST(retry_after, the_three_date_formats) {
    EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
    EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
    EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), 784111777);
    EXPECT_EQ(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
    EXPECT_EQ(parse_http_date("Tue, 29 Feb 2028 12:00:00 GMT"), 1835438400);
}

TEST(retry_after, dates_against_now) {
    EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", rfc_date), milliseconds(30000));
    EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", rfc_date), milliseconds(0));  // past
}

TEST(retry_after, garbage_is_refused) {
    for (const char* v : {"Sun, 06 Nov 1994 08:49:37", "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 6 Nov 1994 08:49:37 GMT",
                          "Sun, 06 Nov 1994 25:49:37 GMT", "tomorrow", "Sun Nov  6 08:49:37 1994 extra",
                          "Sun, 32 Nov 1994 08:49:37 GMT"}) {
        EXPECT_FALSE(parse_retry_after(v, rfc_date)) << v;
    }
}
