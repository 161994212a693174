#include "options.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

using catalyst::bench::base_url_from;
using catalyst::bench::parse_list;
using catalyst::bench::parse_options;

namespace {

struct fake_env {
    std::map<std::string, std::string> vars;
    catalyst::bench::env_function fn() const {
        return [this](const char* name) -> const char* {
            auto it = vars.find(name);
            return it == vars.end() ? nullptr : it->second.c_str();
        };
    }
};

catalyst::bench::parse_outcome parse(std::vector<std::string_view> args, const fake_env& env = {}) {
    return parse_options(args, env.fn());
}

}  // namespace

TEST(bench_options, defaults_are_a_closed_loop_of_64_for_5_seconds_on_the_sandbox) {
    auto r = parse({});
    ASSERT_EQ(r.error, "");
    EXPECT_EQ(r.opts.concurrency, 64u);
    EXPECT_EQ(r.opts.duration_s, 5.0);
    EXPECT_EQ(r.opts.sessions, 0u);
    EXPECT_EQ(r.opts.rate, 0.0);
    EXPECT_EQ(r.opts.url, "");
    EXPECT_FALSE(r.opts.brief);
}

TEST(bench_options, compare_sh_environment_drives_a_brief_run) {
    fake_env env{{{"CATALYST_BENCH_URL", "https://127.0.0.1:18443/api/v1/payment-sessions/"},
                  {"CATALYST_BENCH_CA", "/tmp/ref/ca.crt"},
                  {"CATALYST_BENCH_CONCURRENCY", "16"},
                  {"CATALYST_BENCH_SECONDS", "8"}}};
    auto r = parse({}, env);
    ASSERT_EQ(r.error, "");
    EXPECT_EQ(r.opts.url, "https://127.0.0.1:18443/api/v1");
    EXPECT_EQ(r.opts.ca_file, "/tmp/ref/ca.crt");
    EXPECT_EQ(r.opts.concurrency, 16u);
    EXPECT_EQ(r.opts.duration_s, 8.0);
    EXPECT_TRUE(r.opts.brief);
}

TEST(bench_options, flags_win_over_the_environment) {
    fake_env env{{{"CATALYST_BENCH_CONCURRENCY", "16"}, {"CATALYST_BENCH_SECONDS", "8"}, {"CATALYST_API_KEY", "rk_env"}}};
    auto r = parse({"--concurrency", "4", "--sessions=1000", "--json"}, env);
    ASSERT_EQ(r.error, "");
    EXPECT_EQ(r.opts.concurrency, 4u);
    EXPECT_EQ(r.opts.sessions, 1000u);
    EXPECT_EQ(r.opts.duration_s, 0.0);  // the count given on the command line decides
    EXPECT_TRUE(r.opts.json);
    EXPECT_FALSE(r.opts.brief);
    EXPECT_EQ(r.opts.api_key, "rk_env");
}

TEST(bench_options, open_loop_and_sweep) {
    auto open = parse({"--rate", "2500", "--duration", "3"});
    ASSERT_EQ(open.error, "");
    EXPECT_EQ(open.opts.rate, 2500.0);
    EXPECT_EQ(open.opts.concurrency, 0u);
    EXPECT_EQ(open.opts.duration_s, 3.0);

    auto sweep = parse({"--sweep", "1,16,64,256", "--chart", "out.svg", "-d", "2"});
    ASSERT_EQ(sweep.error, "");
    EXPECT_EQ(sweep.opts.sweep, (std::vector<unsigned>{1, 16, 64, 256}));
    EXPECT_EQ(sweep.opts.chart_file, "out.svg");
}

TEST(bench_options, bad_input_names_the_flag_or_variable) {
    struct { std::vector<std::string_view> args; const char* names; } cases[] = {
        {{"--concurrency", "0"}, "--concurrency"},
        {{"--concurrency", "many"}, "--concurrency"},
        {{"--sessions", "-3"}, "--sessions"},
        {{"--duration", "abc"}, "--duration"},
        {{"--rate", "0"}, "--rate"},
        {{"--rate", "100", "--concurrency", "8"}, "--rate and --concurrency"},
        {{"--sweep", "1,,4"}, "--sweep"},
        {{"--sweep", "1,4", "--rate", "10"}, "--sweep"},
        {{"--chart", "x.svg"}, "--chart"},
        {{"--sweep", "1", "--reference", "wrk.txt"}, "--reference"},
        {{"--chart", "x.svg", "--reference", "wrk.txt", "-c", "4"}, "only draws"},
        {{"--url", "ftp://x"}, "--url"},
        {{"--ca", "ca.pem"}, "--ca"},
        {{"--threads", "1000"}, "--threads"},
        {{"--duration"}, "--duration: missing value"},
        {{"--frobnicate"}, "unknown argument '--frobnicate'"},
    };
    for (const auto& c : cases) {
        auto r = parse(c.args);
        EXPECT_NE(r.error.find(c.names), std::string::npos) << c.names << " -> " << r.error;
    }
    fake_env env{{{"CATALYST_BENCH_CONCURRENCY", "lots"}}};
    EXPECT_NE(parse({}, env).error.find("CATALYST_BENCH_CONCURRENCY"), std::string::npos);
    fake_env env2{{{"CATALYST_BENCH_SECONDS", "-1"}}};
    EXPECT_NE(parse({}, env2).error.find("CATALYST_BENCH_SECONDS"), std::string::npos);
}

TEST(bench_options, chart_only_draws_references) {
    auto r = parse({"--chart", "c.svg", "--reference", "wrk.txt", "--reference", "catalyst.txt", "--title", "T"});
    ASSERT_EQ(r.error, "");
    EXPECT_TRUE(r.opts.chart_only);
    EXPECT_EQ(r.opts.reference_files, (std::vector<std::string>{"wrk.txt", "catalyst.txt"}));
    EXPECT_EQ(r.opts.chart_title, "T");
    auto with_sweep = parse({"--sweep", "1,2", "--chart", "c.svg", "--reference", "wrk.txt"});
    ASSERT_EQ(with_sweep.error, "");
    EXPECT_FALSE(with_sweep.opts.chart_only);
}

TEST(bench_options, help) {
    auto r = parse({"--help"});
    EXPECT_EQ(r.error, "");
    EXPECT_TRUE(r.opts.help);
    EXPECT_NE(catalyst::bench::usage().find("--sweep"), std::string::npos);
}

TEST(bench_options, base_url_from_endpoint_or_base) {
    EXPECT_EQ(base_url_from("https://127.0.0.1:18443/api/v1/payment-sessions/"), "https://127.0.0.1:18443/api/v1");
    EXPECT_EQ(base_url_from("https://127.0.0.1:18443/api/v1/payment-sessions"), "https://127.0.0.1:18443/api/v1");
    EXPECT_EQ(base_url_from("https://api.catalystpay.com/api/v1/"), "https://api.catalystpay.com/api/v1");
    EXPECT_EQ(base_url_from("https://api.catalystpay.com/api/v1"), "https://api.catalystpay.com/api/v1");
}

TEST(bench_options, lists) {
    EXPECT_EQ(parse_list("1"), (std::vector<unsigned>{1}));
    EXPECT_EQ(parse_list("1,16,64,256"), (std::vector<unsigned>{1, 16, 64, 256}));
    EXPECT_TRUE(parse_list("").empty());
    EXPECT_TRUE(parse_list("1,").empty());
    EXPECT_TRUE(parse_list("0,4").empty());
    EXPECT_TRUE(parse_list("4;8").empty());
}
