// catalyst-bench's options for a run against the embedded sandbox's scheduled rate limit
// (--rate-limit-schedule, --timeline) and for drawing a saved one (--sandbox-stats).
#include "options.hpp"

#include "cli/fake_env.hpp"

#include <gtest/gtest.h>

#include <string>

using catalyst::bench::parse_options;
using catalyst::cli::test::fake_env;

namespace {

catalyst::bench::parse_outcome parse(std::vector<std::string_view> args, const fake_env& env = {}) {
    return parse_options(args, env.fn());
}

}  // namespace

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
