#include "client/http_response.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

using namespace catalyst::detail;

namespace {
parse_status parse(std::string& s, http_response& r, std::size_t body_limit = 1024) {
    return parse_response(s.data(), s.size(), body_limit, 8192, r);
}
}  // namespace

TEST(http_response, content_length_body_and_headers) {
    std::string s =
        "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 7\r\nIdempotent-Replayed: true\r\n"
        "X-Request-Id: abc\r\nRetry-After: 3\r\n\r\n{\"a\":1}";
    http_response r;
    ASSERT_EQ(parse(s, r), parse_status::done);
    EXPECT_EQ(r.status, 201u);
    EXPECT_EQ(r.body, "{\"a\":1}");
    EXPECT_TRUE(r.replayed);
    EXPECT_EQ(r.request_id, "abc");
    EXPECT_EQ(r.retry_after, "3");
    EXPECT_EQ(r.consumed, s.size());
    EXPECT_FALSE(r.connection_close);
}

TEST(http_response, every_prefix_needs_more) {
    const std::string full = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
    for (std::size_t n = 0; n < full.size(); ++n) {
        std::string part = full.substr(0, n);
        http_response r;
        EXPECT_EQ(parse(part, r), parse_status::need_more) << n;
    }
    std::string s = full;
    http_response r;
    ASSERT_EQ(parse(s, r), parse_status::done);
    EXPECT_TRUE(r.connection_close);
}

TEST(http_response, chunked_body_is_decoded_in_place) {
    const std::string full = "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3;x=y\r\nefg\r\n0\r\nT: v\r\n\r\nNEXT";
    for (std::size_t n = 0; n + 4 < full.size(); ++n) {
        std::string part = full.substr(0, n);
        http_response r;
        EXPECT_EQ(parse(part, r), parse_status::need_more) << n;
    }
    std::string s = full;
    http_response r;
    ASSERT_EQ(parse(s, r), parse_status::done);
    EXPECT_EQ(r.body, "abcdefg");
    EXPECT_EQ(r.consumed, full.size() - 4);
}

TEST(http_response, limits_and_malformed_input) {
    const char* bad[] = {
        "HTTX/1.1 200 OK\r\n\r\n",
        "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
        "HTTP/1.1 200 OK\r\n\r\n",  // no length: would run to EOF
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n",  // over the body limit
        "<html>",
    };
    for (const char* b : bad) {
        std::string s = b;
        http_response r;
        EXPECT_EQ(parse(s, r), parse_status::error) << b;
        EXPECT_NE(r.error, nullptr) << b;
    }
    std::string huge = "HTTP/1.1 200 OK\r\nX: " + std::string(9000, 'a');
    http_response r;
    EXPECT_EQ(parse(huge, r), parse_status::error);
}

TEST(http_response, http10_closes_and_interim_responses_are_skipped) {
    std::string s = "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok";
    http_response r;
    ASSERT_EQ(parse(s, r), parse_status::done);
    EXPECT_TRUE(r.connection_close);
    std::string c = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
    ASSERT_EQ(parse(c, r), parse_status::done);
    EXPECT_EQ(r.status, 201u);
    EXPECT_EQ(r.consumed, c.size());
}

// Incremental: a response fed a few bytes at a time parses the same, and once the head is
// parsed it is not looked at again (a later change to its bytes goes unnoticed).
TEST(http_response, incremental_parse_does_not_restart_from_byte_zero) {
    const std::string full =
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 7\r\nKeep-Alive: timeout=5\r\n\r\n{\"a\":1}";
    std::string buf(full.size(), '\0');
    http_response r;
    response_progress pr;
    parse_status st = parse_status::need_more;
    std::size_t n = 0;
    while (n < full.size()) {
        const std::size_t step = std::min<std::size_t>(3, full.size() - n);
        std::copy_n(full.data() + n, step, buf.data() + n);
        n += step;
        st = parse_response(buf.data(), n, 1024, 8192, r, pr);
        if (st != parse_status::need_more) break;
        if (pr.body_start != 0) buf[25] = 'X';  // the 201's status line: not re-read
    }
    ASSERT_EQ(st, parse_status::done);
    EXPECT_EQ(r.status, 201u);
    EXPECT_EQ(r.body, "{\"a\":1}");
    EXPECT_EQ(r.keep_alive, "timeout=5");
    EXPECT_EQ(r.consumed, full.size());
}

TEST(http_response, incremental_chunked_walks_each_chunk_once) {
    const std::string full = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n";
    std::string buf = full;
    http_response r;
    response_progress pr;
    for (std::size_t n = 1; n < full.size(); ++n) ASSERT_EQ(parse_response(buf.data(), n, 1024, 8192, r, pr), parse_status::need_more) << n;
    ASSERT_EQ(parse_response(buf.data(), full.size(), 1024, 8192, r, pr), parse_status::done);
    EXPECT_EQ(r.body, "abcdefg");
    EXPECT_EQ(r.consumed, full.size());
}
