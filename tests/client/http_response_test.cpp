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

// Found by fuzz/http_response_diff_fuzzer.cpp (against Beast's parser).

namespace {
// Feeds `full` in pieces of `step` bytes into one buffer, as the connection does.
parse_status parse_in_pieces(const std::string& full, std::size_t step, std::size_t header_limit, http_response& r) {
    std::string buf(full.size(), '\0');
    response_progress pr;
    parse_status st = parse_status::need_more;
    for (std::size_t n = 0; n < full.size() && st == parse_status::need_more;) {
        const std::size_t piece = std::min(step, full.size() - n);
        std::copy_n(full.data() + n, piece, buf.data() + n);
        n += piece;
        st = parse_response(buf.data(), n, 1024, header_limit, r, pr);
    }
    return st;
}
}  // namespace

// Chunked must be the only coding: with chunked not last the body runs to EOF (RFC 9112
// 6.3), and another coding would hand the caller an undecoded body.
TEST(http_response, transfer_coding_other_than_chunked_is_refused) {
    const char* bad[] = {
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
    };
    for (const char* b : bad) {
        std::string s = b;
        http_response r;
        EXPECT_EQ(parse(s, r), parse_status::error) << b;
    }
    std::string ok = "HTTP/1.1 200 OK\r\nTransfer-Encoding:  Chunked \r\n\r\n2\r\nok\r\n0\r\n\r\n";
    http_response r;
    ASSERT_EQ(parse(ok, r), parse_status::done);
    EXPECT_EQ(r.body, "ok");
}

// Both framings at once: a sign of response splitting (RFC 9112 6.3), refused.
TEST(http_response, content_length_with_chunked_is_refused) {
    for (std::string s : {std::string("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"),
                          std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n2\r\nok\r\n0\r\n\r\n")}) {
        http_response r;
        EXPECT_EQ(parse(s, r), parse_status::error) << s;
    }
}

// A field name is a token; a control character (a bare CR or LF above all) may not hide in a
// line of the head, a chunk line or a trailer: another parser could split the line there.
TEST(http_response, malformed_field_lines_and_control_characters_are_refused) {
    const char* bad[] = {
        "HTTP/1.1 200 OK\r\nX-A: 1\r\n Content-Length: 9\r\nContent-Length: 2\r\n\r\nok",  // obs-fold, with a colon
        "HTTP/1.1 200 OK\r\nX-A: 1\r\n\tb\r\nContent-Length: 2\r\n\r\nok",                   // obs-fold
        "HTTP/1.1 200 OK\r\nBad Name: 1\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.1 200 OK\r\nX-A: 1\nContent-Length: 9\r\nContent-Length: 2\r\n\r\nok",      // bare LF
        "HTTP/1.1 200 OK\r\nX-A: 1\rContent-Length: 9\r\nContent-Length: 2\r\n\r\nok",      // bare CR
        "HTTP/1.1 200 OK\nContent-Length: 9\r\nContent-Length: 2\r\n\r\nok",                // in the status line
        "HTTP/1.1 200 OK\r\nX-A: a\x01z\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x\n0\r\nok\r\n0\r\n\r\n",  // bare LF in a chunk line
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nT: a\n\nb\r\n\r\n",  // in a trailer
    };
    for (const char* b : bad) {
        std::string s = b;
        http_response r;
        EXPECT_EQ(parse(s, r), parse_status::error) << b;
        EXPECT_NE(r.error, nullptr) << b;
    }
    std::string ok = "HTTP/1.1 200 OK\r\nX-A: tab\there \xc3\xa9\r\nContent-Length: 2\r\n\r\nok";
    http_response r;
    ASSERT_EQ(parse(ok, r), parse_status::done);
    EXPECT_EQ(r.body, "ok");
}

// The head is checked for control characters eight bytes at a time: every byte value at every
// place of lines of every length up to three words, so that a word boundary, the last partial
// word and a line shorter than a word are all covered.
TEST(http_response, every_control_byte_is_found_wherever_it_stands) {
    for (std::size_t len = 1; len <= 24; ++len) {
        for (std::size_t at = 0; at < len; ++at) {
            for (int b = 0; b < 256; ++b) {
                std::string value(len, 'v');
                value[at] = static_cast<char>(b);
                std::string s = "HTTP/1.1 200 OK\r\nX-Pad: " + value + "\r\nContent-Length: 2\r\n\r\nok";
                http_response r;
                const bool control = (b < 0x20 && b != '\t') || b == 0x7f;
                ASSERT_EQ(parse(s, r), control ? parse_status::error : parse_status::done)
                    << "byte " << b << " at " << at << " of " << len;
            }
        }
    }
}

// Header names are matched without regard to case, and only the names themselves: a byte that
// folds near a name's ('_' next to '-', '@' next to '`') is another name.
TEST(http_response, header_names_match_in_any_case_and_nothing_else) {
    for (const char* name : {"Content-Length", "content-length", "CONTENT-LENGTH", "cOnTeNt-LeNgTh"}) {
        std::string s = std::string("HTTP/1.1 200 OK\r\n") + name + ": 2\r\n\r\nok";
        http_response r;
        ASSERT_EQ(parse(s, r), parse_status::done) << name;
        EXPECT_EQ(r.body, "ok") << name;
    }
    for (const char* name : {"Content_Length", "Content-Lengti", "Dontent-Length", "Content-Lengt`"}) {
        std::string s = std::string("HTTP/1.1 200 OK\r\n") + name + ": 2\r\n\r\nok";
        http_response r;
        EXPECT_EQ(parse(s, r), parse_status::error) << name;
        EXPECT_STREQ(r.error, "response without Content-Length") << name;
    }
    std::string s = "HTTP/1.1 429 Too Many\r\nRETRY-AFTER: 3\r\nX-REQUEST-ID: abc\r\nIdempotent-REPLAYED: true\r\n"
                    "content-length: 0\r\n\r\n";
    http_response r;
    ASSERT_EQ(parse(s, r), parse_status::done);
    EXPECT_EQ(r.retry_after, "3");
    EXPECT_EQ(r.request_id, "abc");
    EXPECT_TRUE(r.replayed);
}

// The limits on a head, a chunk line and a trailer line give the same answer however the
// reads cut the response (before, a head of exactly the limit was refused when a read ended
// inside its blank line, and a too long chunk line was taken when it came in one read).
TEST(http_response, limits_do_not_depend_on_where_reads_cut) {
    const std::string head = "HTTP/1.1 200 OK\r\nX-Pad: ";
    const std::size_t limit = 256;
    const std::string at_limit = head + std::string(limit - head.size(), 'a') + "\r\n\r\n";
    const std::string full = at_limit.substr(0, at_limit.size() - 4) + "\r\nContent-Length: 2\r\n\r\nok";
    for (std::size_t step : {std::size_t{1}, std::size_t{7}, full.size()}) {
        // A head of `limit` bytes (blank line excluded) without Content-Length: refused for
        // that, never for its size; one byte more: refused for its size.
        http_response r;
        ASSERT_EQ(parse_in_pieces(at_limit, step, limit, r), parse_status::error) << step;
        EXPECT_STREQ(r.error, "response without Content-Length") << step;
        const std::string over = head + std::string(limit + 1 - head.size(), 'a') + "\r\n\r\n";
        ASSERT_EQ(parse_in_pieces(over, step, limit, r), parse_status::error) << step;
        EXPECT_STREQ(r.error, "header block too large") << step;
    }
    const std::string chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    const std::string long_ext = chunked + "2;x=" + std::string(2000, 'y') + "\r\nok\r\n0\r\n\r\n";
    const std::string long_trailer = chunked + "2\r\nok\r\n0\r\nT: " + std::string(9000, 'y') + "\r\n\r\n";
    for (std::size_t step : {std::size_t{1}, std::size_t{5}, long_trailer.size()}) {
        http_response r;
        EXPECT_EQ(parse_in_pieces(long_ext, step, 8192, r), parse_status::error) << step;
        EXPECT_EQ(parse_in_pieces(long_trailer, step, 8192, r), parse_status::error) << step;
    }
}
