// The base URL's parser and the host-name rule (src/core/origin.*): what the client connects
// to, verifies in the certificate and sends as SNI.
#include "core/origin.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace catalyst::detail;

TEST(origin, parses_base_urls) {
    origin o;
    ASSERT_EQ(parse_origin("https://api.catalystpay.com/api/v1", o), "");
    EXPECT_EQ(o.host, "api.catalystpay.com");
    EXPECT_EQ(o.port, "443");
    EXPECT_FALSE(o.host_is_ip);
    EXPECT_EQ(o.host_header, "api.catalystpay.com");
    EXPECT_EQ(o.path, "/api/v1/payment-sessions/");

    ASSERT_EQ(parse_origin("https://127.0.0.1:8443/api/v1/", o), "");
    EXPECT_TRUE(o.host_is_ip);
    EXPECT_EQ(o.host_header, "127.0.0.1:8443");
    EXPECT_EQ(o.path, "/api/v1/payment-sessions/");

    ASSERT_EQ(parse_origin("https://[::1]:9000/api/v1", o), "");
    EXPECT_EQ(o.host, "::1");
    EXPECT_EQ(o.host_header, "[::1]:9000");

    ASSERT_EQ(parse_origin("https://Example.COM/x", o), "");
    EXPECT_EQ(o.host, "example.com");

    ASSERT_EQ(parse_origin("https://my_host-1.example.test:8443/", o), "");
    EXPECT_EQ(o.host, "my_host-1.example.test");
}

TEST(origin, refuses_bad_urls_with_a_reason) {
    origin o;
    for (const char* bad : {"", "not a url", "http://example.com/api/v1", "ftp://example.com/", "https:///api",
                            "https://user:pw@example.com/api", "https://example.com/api?x=1", "https://example.com:0/"}) {
        EXPECT_NE(parse_origin(bad, o), "") << bad;
    }
}

// A host that decodes to a NUL reaches OpenSSL as an empty C string, which SSL_set1_host
// takes as "check no host at all" (and SNI is skipped, and the resolver looks up ""). Every
// byte that has no place in a host name is refused once decoded, encoded or not.
TEST(origin, refuses_hosts_that_decode_to_control_characters) {
    const std::string bad[] = {
        "https://%00api.example.com/api/v1",
        "https://%00localhost:8443/api/v1",
        "https://api.example.com%00.evil.test/",
        "https://api%0a.example.com/",
        "https://api%0d%0aX-Evil:%201.example.com/",
        "https://%7fapi.example.com/",
        "https://api%20x.example.com/",
        "https://api%09.example.com/",
        std::string("https://api\x01.example.com/"),      // raw: not even a URL
        std::string("https://api.example.com\x7f/"),
    };
    for (const auto& url : bad) {
        origin o;
        o.host = "unchanged";
        const std::string why = parse_origin(url, o);
        EXPECT_NE(why, "") << url;
        EXPECT_EQ(o.host, "unchanged") << "a refused URL must leave the origin alone: " << url;
    }
    origin o;
    EXPECT_NE(parse_origin("https://%00localhost:8443/api/v1", o).find("NUL"), std::string::npos);
}

TEST(origin, refuses_hosts_that_decode_to_other_non_host_characters) {
    for (const char* url : {"https://a%2fb.example/", "https://a%5cb.example/", "https://a%3ab.example/",
                            "https://%c3%bc.example/", "https://a!b.example/", "https://a*.example/",
                            "https://a%25b.example/"}) {
        origin o;
        EXPECT_NE(parse_origin(url, o), "") << url;
    }
    origin o;
    EXPECT_NE(parse_origin("https://" + std::string(254, 'a') + "/", o), "");
    EXPECT_EQ(parse_origin("https://" + std::string(63, 'a') + ".example/", o), "");
}

TEST(origin, a_percent_encoded_address_is_an_address) {
    origin o;
    ASSERT_EQ(parse_origin("https://%31%32%37.0.0.1:8443/api/v1", o), "");
    EXPECT_EQ(o.host, "127.0.0.1");
    EXPECT_TRUE(o.host_is_ip) << "an IP literal would be sent as SNI and looked up in DNS";
    ASSERT_EQ(parse_origin("https://%61pi.example.com/", o), "");
    EXPECT_EQ(o.host, "api.example.com");
    EXPECT_FALSE(o.host_is_ip);
}

TEST(origin, host_name_problem_and_ip_literals) {
    EXPECT_EQ(host_name_problem("api.example.com"), "");
    EXPECT_EQ(host_name_problem("xn--bcher-kva.example"), "");
    EXPECT_NE(host_name_problem(""), "");
    EXPECT_NE(host_name_problem(std::string("localhost\0.evil.test", 20)), "");
    EXPECT_NE(host_name_problem(std::string("\0", 1)), "");
    EXPECT_NE(host_name_problem("a\x1f" "b"), "");
    EXPECT_NE(host_name_problem("a\x7f" "b"), "");
    EXPECT_NE(host_name_problem("a b"), "");
    EXPECT_NE(host_name_problem("b\xc3\xbc" "cher.example"), "");

    EXPECT_TRUE(is_ip_literal("127.0.0.1"));
    EXPECT_TRUE(is_ip_literal("::1"));
    EXPECT_TRUE(is_ip_literal("2001:db8::7"));
    EXPECT_FALSE(is_ip_literal(""));
    EXPECT_FALSE(is_ip_literal("localhost"));
    EXPECT_FALSE(is_ip_literal("[::1]"));
    EXPECT_FALSE(is_ip_literal("fe80::1%eth0"));
    EXPECT_FALSE(is_ip_literal(std::string("127.0.0.1\0x", 11)));
}
