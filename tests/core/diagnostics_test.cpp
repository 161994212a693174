#include <catalyst/diagnostics.hpp>
#include <catalyst/logging.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

using catalyst::bounded_excerpt;

bool valid_utf8(const std::string& s) {
    // Re-encoding check via a simple decoder: every lead byte has its continuation bytes.
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
        if (n == 0 || i + n > s.size()) return false;
        for (std::size_t k = 1; k < n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        i += n;
    }
    return true;
}

TEST(bounded_excerpt, short_bodies_pass_through) {
    EXPECT_EQ(bounded_excerpt("<html>Bad Gateway</html>"), "<html>Bad Gateway</html>");
    EXPECT_EQ(bounded_excerpt(""), "");
    EXPECT_EQ(bounded_excerpt("Grüße 中文 😀"), "Grüße 中文 😀");
}

TEST(bounded_excerpt, at_most_limit_bytes) {
    const std::string body(10000, 'x');
    EXPECT_EQ(bounded_excerpt(body).size(), 256u);
    EXPECT_EQ(bounded_excerpt(body, 10), std::string(10, 'x'));
    EXPECT_EQ(bounded_excerpt(body, 0), "");
}

TEST(bounded_excerpt, cuts_on_a_code_point_boundary) {
    std::string body;
    for (int i = 0; i < 200; ++i) body += "😀";  // 4 bytes each
    for (std::size_t limit : {255u, 254u, 253u, 256u, 1u, 5u}) {
        const std::string e = bounded_excerpt("a" + body, limit);
        EXPECT_LE(e.size(), limit);
        EXPECT_GE(e.size() + 4, std::min<std::size_t>(limit, 1 + body.size()));
        EXPECT_TRUE(valid_utf8(e)) << limit;
    }
}

TEST(bounded_excerpt, control_characters_and_bad_bytes_are_replaced) {
    EXPECT_EQ(bounded_excerpt(std::string("a\nb\r\tc\x01\x1b[31m\x7f") + std::string(1, '\0') + "d"),
              "a b  c??[31m??d");
    EXPECT_EQ(bounded_excerpt("x\xff\xc3(y"), "x?" "?(y");
}

TEST(bounded_excerpt, api_keys_are_masked) {
    EXPECT_EQ(bounded_excerpt(R"({"detail":"Invalid token rk_live_9f8e7d6c5b4a3210."})"),
              R"({"detail":"Invalid token rk_****."})");
    EXPECT_EQ(bounded_excerpt("Authorization: Bearer rk_test-ABCdef123"), "Authorization: Bearer rk_****");
    EXPECT_EQ(bounded_excerpt("rk_abc rk_def"), "rk_**** rk_****");
    EXPECT_EQ(bounded_excerpt("work_item framework_x"), "work_item framework_x");
}

TEST(bounded_excerpt, a_key_straddling_the_limit_never_leaks) {
    const std::string body = std::string(250, '.') + "rk_live_supersecretvalue";
    for (std::size_t limit = 250; limit <= 270; ++limit) {
        const std::string e = bounded_excerpt(body, limit);
        EXPECT_EQ(e.find("rk_l"), std::string::npos) << limit;
        EXPECT_EQ(e.find("secret"), std::string::npos) << limit;
        EXPECT_LE(e.size(), limit);
    }
}

TEST(diagnostics, to_string_summarises_for_people) {
    catalyst::diagnostics d;
    d.http_status = 409;
    d.api_code = "duplicate_lead";
    d.detail = "A lead with this email already exists.";
    d.attempts = 2;
    d.elapsed = std::chrono::milliseconds(31);
    EXPECT_EQ(d.to_string(), "HTTP 409 duplicate_lead: A lead with this email already exists. (2 attempts, 31 ms)");
    d.clear();
    d.fields = {{"lead.email", "Enter a valid email address."}, {"amount", "This field is required."}};
    EXPECT_EQ(d.to_string(),
              "lead.email: Enter a valid email address., amount: This field is required. (0 attempts, 0 ms)");
    d.clear();
    d.http_status = 503;
    d.attempts = 1;
    d.no_retry_reason = "retry budget exhausted";
    d.body_excerpt = "<html>";
    d.request_id = "req-1";
    EXPECT_EQ(d.to_string(),
              "HTTP 503; not retried: retry budget exhausted; body: <html> (1 attempt, 0 ms, request id req-1)");
    d.clear();
    EXPECT_EQ(d.to_string(), "no details (0 attempts, 0 ms)");
}

TEST(names, log_levels_and_retry_reasons) {
    EXPECT_EQ(catalyst::to_string(catalyst::log_level::warning), "warning");
    EXPECT_EQ(catalyst::to_string(catalyst::log_level::trace), "trace");
    EXPECT_EQ(catalyst::to_string(catalyst::retry_reason::stale_connection), "stale_connection");
    EXPECT_EQ(catalyst::to_string(catalyst::retry_reason::attempt_timeout), "attempt_timeout");
    EXPECT_EQ(catalyst::to_string(catalyst::retry_reason::none), "none");
}

}  // namespace
