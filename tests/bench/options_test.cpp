#include "options.hpp"

#include "cli/fake_env.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

using catalyst::bench::base_url_from;
using catalyst::bench::parse_list;
using catalyst::bench::parse_options;
using catalyst::cli::test::fake_env;

namespace {

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
    EXPECT_EQ(r.opts.api.ca_file, "/tmp/ref/ca.crt");
    EXPECT_EQ(r.opts.api.base_url, "https://127.0.0.1:18443/api/v1");
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
        {{"--ca", "ca.pem"}, "--cacert: only meaningful with --url"},
        {{"--cacert=ca.pem"}, "--cacert: only meaningful with --url"},
        {{"--json=maybe"}, "--json: expected true or false"},
        {{"--duration", "0"}, "--duration"},
        {{"--duration=5x"}, "--duration"},
        {{"--api-key", "rk_live_x"}, "--api-key is refused"},
        {{"--threads", "1000"}, "--threads"},
        {{"--duration"}, "--duration: missing value"},
        {{"--frobnicate"}, "unknown option '--frobnicate'"},
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

TEST(bench_options, durations_take_units_and_plain_numbers_count_seconds) {
    auto r = parse({"--duration=500ms", "--warmup", "2m"});
    ASSERT_EQ(r.error, "");
    EXPECT_DOUBLE_EQ(r.opts.duration_s, 0.5);
    EXPECT_DOUBLE_EQ(r.opts.warmup_s, 120.0);
    auto plain = parse({"-d", "2.5"});
    ASSERT_EQ(plain.error, "");
    EXPECT_DOUBLE_EQ(plain.opts.duration_s, 2.5);
    fake_env env{{{"CATALYST_BENCH_SECONDS", "1m"}}};
    EXPECT_DOUBLE_EQ(parse({}, env).opts.duration_s, 60.0);
}

TEST(bench_options, every_flag_takes_the_equals_form_and_booleans_their_value) {
    auto r = parse({"--concurrency=8", "--url=https://h:1/api/v1/payment-sessions/", "--cacert=ca.pem", "--json=false",
                    "--brief=true", "--threads=0", "--max-connections=4", "--config=c.json", "--api-key-file=k"});
    ASSERT_EQ(r.error, "");
    EXPECT_EQ(r.opts.concurrency, 8u);
    EXPECT_EQ(r.opts.url, "https://h:1/api/v1");
    EXPECT_EQ(r.opts.api.ca_file, "ca.pem");
    EXPECT_FALSE(r.opts.json);
    EXPECT_TRUE(r.opts.brief);
    EXPECT_EQ(r.opts.threads, 0u);
    EXPECT_EQ(r.opts.max_connections, 4u);
    EXPECT_EQ(r.opts.api.config_file, "c.json");
    EXPECT_EQ(r.opts.api.api_key_file, "k");
}

TEST(bench_options, the_catalyst_environment_and_a_config_file_make_cacert_meaningful) {
    fake_env env{{{"CATALYST_BASE_URL", "https://h:1/api/v1"}, {"CATALYST_THREADS", "3"}}};
    auto r = parse({"--cacert", "ca.pem"}, env);
    ASSERT_EQ(r.error, "");
    EXPECT_EQ(r.opts.threads, 3u);
    EXPECT_EQ(parse({"--cacert", "ca.pem", "--config", "c.json"}).error, "");
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

TEST(bench_options, help_and_version) {
    auto r = parse({"--help"});
    EXPECT_EQ(r.error, "");
    EXPECT_TRUE(r.opts.help);
    EXPECT_TRUE(parse({"--version"}).opts.version);
    const std::string usage = catalyst::bench::usage();
    for (const char* part : {"--sweep", "--cacert", "--config", "CATALYST_BENCH_URL", "CATALYST_CA_FILE", "Exit codes:"})
        EXPECT_NE(usage.find(part), std::string::npos) << part;
    EXPECT_EQ(usage.find(CATALYST_SOURCE_DIR), std::string::npos) << "--help names a path of the build machine";
    EXPECT_EQ(usage.find("shared/bench"), std::string::npos) << "--help names a script outside the repository";
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

// --rate-limit-schedule, --timeline (a run against the embedded sandbox's scheduled limit)
// and --sandbox-stats (drawing a saved one).
TEST(bench_rate_limit_options, a_schedule_runs_a_closed_loop_for_its_own_length_unless_told) {
    auto r = parse({"--rate-limit-schedule", "400@15s,200@15s,400", "--concurrency", "256", "--chart", "a.svg",
                    "--timeline", "a.tsv"});
    ASSERT_EQ(r.error, "");
    EXPECT_EQ(r.opts.rate_limit_schedule, "400@15s,200@15s,400");
    EXPECT_TRUE(r.opts.duration_from_schedule);
    EXPECT_EQ(r.opts.duration_s, 0.0);
    EXPECT_EQ(r.opts.concurrency, 256u);
    EXPECT_FALSE(r.opts.chart_only);  // the chart of the run, over time
    EXPECT_EQ(r.opts.timeline_file, "a.tsv");

    auto timed = parse({"--rate-limit-schedule=2000", "--duration", "30s"});
    ASSERT_EQ(timed.error, "");
    EXPECT_FALSE(timed.opts.duration_from_schedule);
    EXPECT_EQ(timed.opts.duration_s, 30.0);
    EXPECT_EQ(timed.opts.concurrency, 64u);

    auto counted = parse({"--rate-limit-schedule=400", "--sessions", "12000"});
    ASSERT_EQ(counted.error, "");
    EXPECT_FALSE(counted.opts.duration_from_schedule);
    EXPECT_EQ(counted.opts.sessions, 12000u);
}

TEST(bench_rate_limit_options, conflicts_are_refused_naming_the_flags) {
    struct bad {
        std::vector<std::string_view> args;
        const char* message;
    };
    const bad cases[] = {
        {{"--rate-limit-schedule", "400", "--rate", "100"}, "--rate-limit-schedule: runs a closed loop"},
        {{"--rate-limit-schedule", "400", "--sweep", "1,2"}, "--rate-limit-schedule: one run; not with --sweep"},
        {{"--rate-limit-schedule", "400", "--warmup", "2s"}, "not with --warmup"},
        {{"--rate-limit-schedule", "400", "--url", "https://127.0.0.1:1/api/v1"}, "not with --url"},
        {{"--rate-limit-schedule", "400", "--chart", "a.svg", "--reference", "w.txt"}, "not with --reference"},
        {{"--rate-limit-schedule", "400", "--sandbox-stats", "s.json", "--chart", "a.svg"}, "--sandbox-stats: draws a saved run"},
        {{"--timeline", "a.tsv"}, "--timeline: needs --rate-limit-schedule or --sandbox-stats"},
        {{"--sandbox-stats", "s.json"}, "--sandbox-stats: needs --chart or --timeline"},
        {{"--sandbox-stats", "s.json", "--chart", "a.svg", "--concurrency", "4"}, "takes no run options"},
        {{"--sandbox-stats", "s.json", "--timeline", "a.tsv", "--sweep", "1,2"}, "takes no run options"},
    };
    for (const auto& c : cases) {
        const auto r = parse(c.args);
        EXPECT_NE(r.error.find(c.message), std::string::npos) << c.message << " -> '" << r.error << "'";
    }
}

TEST(bench_rate_limit_options, a_saved_run_is_only_drawn) {
    auto r = parse({"--sandbox-stats", "s.json", "--chart", "a.svg", "--title", "batch"});
    ASSERT_EQ(r.error, "");
    EXPECT_EQ(r.opts.sandbox_stats_file, "s.json");
    EXPECT_EQ(r.opts.chart_file, "a.svg");
    EXPECT_FALSE(r.opts.chart_only);  // not the references' chart
    EXPECT_EQ(parse({"--sandbox-stats", "s.json", "--timeline", "a.tsv"}).error, "");
}
