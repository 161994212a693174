#include <catalyst/diagnostics.hpp>
#include <catalyst/error.hpp>
#include <catalyst/metrics.hpp>

#include <gtest/gtest.h>

using namespace catalyst;

TEST(metrics, prometheus_text_format) {
    metrics_snapshot m;
    m.requests = 7;
    m.successes = 5;
    m.failures = 2;
    m.failures_by_errc[static_cast<int>(errc::timeout)] = 2;
    m.retries_by_reason[static_cast<int>(retry_reason::rate_limited)] = 3;
    m.latency_buckets[0] = 4;
    m.latency_buckets[3] = 1;
    m.latency_buckets.back() = 2;
    m.latency_count = 7;
    m.latency_sum_seconds = 61.5;
    m.in_flight = 1;
    const auto t = m.to_prometheus();
    EXPECT_NE(t.find("# TYPE catalyst_client_requests_total counter\ncatalyst_client_requests_total 7\n"), std::string::npos);
    EXPECT_NE(t.find("# HELP catalyst_client_requests_total "), std::string::npos);
    EXPECT_NE(t.find("catalyst_client_failures_total{code=\"timeout\"} 2\n"), std::string::npos);
    EXPECT_NE(t.find("catalyst_client_failures_total{code=\"queue_full\"} 0\n"), std::string::npos);
    EXPECT_NE(t.find("catalyst_client_retries_total{reason=\"rate_limited\"} 3\n"), std::string::npos);
    EXPECT_NE(t.find("# TYPE catalyst_client_request_duration_seconds histogram\n"), std::string::npos);
    // Cumulative buckets.
    EXPECT_NE(t.find("catalyst_client_request_duration_seconds_bucket{le=\"0.001\"} 4\n"), std::string::npos);
    EXPECT_NE(t.find("catalyst_client_request_duration_seconds_bucket{le=\"0.0025\"} 4\n"), std::string::npos);
    EXPECT_NE(t.find("catalyst_client_request_duration_seconds_bucket{le=\"0.01\"} 5\n"), std::string::npos);
    EXPECT_NE(t.find("catalyst_client_request_duration_seconds_bucket{le=\"30\"} 5\n"), std::string::npos);
    EXPECT_NE(t.find("catalyst_client_request_duration_seconds_bucket{le=\"+Inf\"} 7\n"), std::string::npos);
    EXPECT_NE(t.find("catalyst_client_request_duration_seconds_sum 61.5\n"), std::string::npos);
    EXPECT_NE(t.find("catalyst_client_request_duration_seconds_count 7\n"), std::string::npos);
    EXPECT_NE(t.find("# TYPE catalyst_client_in_flight gauge\ncatalyst_client_in_flight 1\n"), std::string::npos);
    // Every non-comment line is "name{labels} value" or "name value".
    std::size_t pos = 0;
    while (pos < t.size()) {
        auto eol = t.find('\n', pos);
        ASSERT_NE(eol, std::string::npos);
        auto line = t.substr(pos, eol - pos);
        if (line[0] != '#') {
            EXPECT_EQ(line.rfind("catalyst_client_", 0), 0u) << line;
            EXPECT_NE(line.find(' '), std::string::npos) << line;
        }
        pos = eol + 1;
    }
}
