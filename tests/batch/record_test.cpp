#include "batch/record.hpp"

#include <gtest/gtest.h>

namespace catalyst::batch {
namespace {

TEST(record, ok_record_round_trips) {
    result_record r;
    r.line = 12;
    r.key = "0123456789abcdef0123456789abcdef";
    r.ok = true;
    r.session_token = "ps_abc";
    r.payment_url = "https://pay.example/s/ps_abc";
    r.status = "PENDING";
    r.replayed = true;
    r.http_status = 201;
    r.attempts = 2;
    r.latency_ms = 17;
    std::string line;
    append_record(r, line);
    ASSERT_FALSE(line.empty());
    EXPECT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1);
    EXPECT_NE(line.find("\"outcome\":\"ok\""), std::string::npos);
    EXPECT_EQ(line.find("\"error\""), std::string::npos);
    auto back = parse_record(std::string_view(line).substr(0, line.size() - 1));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, r);
}

TEST(record, error_record_round_trips_and_escapes) {
    result_record r;
    r.line = 3;
    r.key = "k";
    r.error = "validation_failed";
    r.message = "lead.email: \"quoted\"\nnext";
    std::string line;
    append_record(r, line);
    EXPECT_EQ(line.find('\n'), line.size() - 1);  // the message's newline is escaped
    EXPECT_EQ(line.find("session_token"), std::string::npos);
    auto back = parse_record(line);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, r);
}

TEST(record, rejects_what_is_not_ours) {
    EXPECT_FALSE(parse_record(""));
    EXPECT_FALSE(parse_record("{\"line\":1,\"key\":\"k\",\"outcome\":\"o"));  // torn
    EXPECT_FALSE(parse_record("[1,2]"));
    EXPECT_FALSE(parse_record("{\"line\":1,\"key\":\"k\",\"outcome\":\"maybe\"}"));
    EXPECT_FALSE(parse_record("{\"line\":-1,\"key\":\"k\",\"outcome\":\"ok\"}"));
    EXPECT_FALSE(parse_record("{\"key\":\"k\",\"outcome\":\"ok\"}"));
}

}  // namespace
}  // namespace catalyst::batch
