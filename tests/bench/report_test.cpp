#include "report.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>

#include <gtest/gtest.h>

using namespace catalyst::bench;

namespace {

run_result sample() {
    run_result r;
    r.target = "https://127.0.0.1:18443/api/v1";
    r.mode = "closed";
    r.concurrency = 64;
    r.started = 40'000;
    r.succeeded = 39'990;
    r.failed = 10;
    r.wall_s = 2.0;
    r.latency = {40'000, 1.5e6, 300'000, 1'400'000, 2'000'000, 3'500'000, 9'000'000, 120'000'000};
    r.client_cpu_s = 0.8;
    r.process_user_s = 0.5;
    r.process_sys_s = 0.3;
    r.peak_rss_bytes = 12'345'678;
    r.connections_opened = 64;
    r.tls_full = 64;
    r.tls_resumed = 0;
    r.retries = 3;
    r.errors = {{"timeout", 7}, {"connect_failed", 3}};
    return r;
}

}  // namespace

TEST(bench_report, derived_figures) {
    const auto r = sample();
    EXPECT_DOUBLE_EQ(r.sessions_per_s(), 19'995.0);
    EXPECT_DOUBLE_EQ(r.cpu_us_per_session(), 20.0);  // 0.8 s over 40 000 completions
    run_result empty;
    EXPECT_EQ(empty.sessions_per_s(), 0.0);
    EXPECT_EQ(empty.cpu_us_per_session(), 0.0);
}

TEST(bench_report, units) {
    EXPECT_EQ(format_latency(999), "999 ns");
    EXPECT_EQ(format_latency(812'345), "812 us");
    EXPECT_EQ(format_latency(3'412'000), "3.41 ms");
    EXPECT_EQ(format_latency(1'200'000'000), "1.20 s");
    EXPECT_EQ(format_bytes(512'000), "512 kB");
    EXPECT_EQ(format_bytes(12'345'678), "12.3 MB");
}

TEST(bench_report, table_shows_every_figure) {
    const std::string t = format_table(sample());
    for (const char* want : {"closed loop, 64 in flight", "39990 ok, 10 failed", "19995 sessions/s", "p50 1.40 ms",
                             "p90 2.00 ms", "p99 3.50 ms", "p99.9 9.00 ms", "max 120.00 ms", "20.0 us", "12.3 MB",
                             "connections opened", "64 full, 0 resumed", "7 timeout", "3 connect_failed"}) {
        EXPECT_NE(t.find(want), std::string::npos) << want << "\n" << t;
    }
    auto open = sample();
    open.mode = "open";
    open.rate = 5000;
    open.sandbox_in_process = true;
    open.errors.clear();
    const std::string o = format_table(open);
    EXPECT_NE(o.find("open loop at 5000 sessions/s"), std::string::npos) << o;
    EXPECT_NE(o.find("sandbox threads excluded"), std::string::npos) << o;
    EXPECT_NE(o.find("errors"), std::string::npos);
    EXPECT_NE(o.find("none"), std::string::npos);
}

TEST(bench_report, sweep_table_has_a_row_per_run) {
    auto a = sample();
    auto b = sample();
    b.concurrency = 256;
    const std::string t = format_sweep_table({a, b});
    EXPECT_EQ(std::count(t.begin(), t.end(), '\n'), 3);
    EXPECT_NE(t.find("   256 "), std::string::npos) << t;
    EXPECT_NE(t.find("19995"), std::string::npos) << t;
}

TEST(bench_report, brief_is_one_line) {
    const std::string b = format_brief(sample());
    EXPECT_EQ(std::count(b.begin(), b.end(), '\n'), 1);
    EXPECT_NE(b.find("19995 sessions/s"), std::string::npos) << b;
    EXPECT_NE(b.find("10 failed"), std::string::npos) << b;
}

TEST(bench_report, json_round_trips_with_base_units) {
    boost::json::object machine;
    machine["cpu"] = "test \"cpu\"";
    const std::string text = to_json_report({sample()}, machine);
    const auto v = boost::json::parse(text);
    EXPECT_EQ(v.at("machine").at("cpu").as_string(), "test \"cpu\"");
    const auto& run = v.at("runs").at(0);
    EXPECT_EQ(run.at("mode").as_string(), "closed");
    EXPECT_EQ(run.at("concurrency").to_number<unsigned>(), 64u);
    EXPECT_EQ(run.at("succeeded").to_number<std::uint64_t>(), 39'990u);
    EXPECT_DOUBLE_EQ(run.at("sessions_per_s").to_number<double>(), 19'995.0);
    EXPECT_EQ(run.at("latency").at("p99_ns").to_number<std::uint64_t>(), 3'500'000u);
    EXPECT_EQ(run.at("latency").at("p99_9_ns").to_number<std::uint64_t>(), 9'000'000u);
    EXPECT_DOUBLE_EQ(run.at("client_cpu_us_per_session").to_number<double>(), 20.0);
    EXPECT_EQ(run.at("peak_rss_bytes").to_number<std::uint64_t>(), 12'345'678u);
    EXPECT_EQ(run.at("tls_handshakes_full").to_number<std::uint64_t>(), 64u);
    EXPECT_EQ(run.at("errors").at("timeout").to_number<std::uint64_t>(), 7u);
    EXPECT_FALSE(run.as_object().contains("rate"));
    // several lines, so that two reports diff line by line
    EXPECT_GT(std::count(text.begin(), text.end(), '\n'), 20);
}
