// catalyst-bench and catalyst-soak as a user runs them: --help, --version, --flag=value,
// a bad boolean, the shared --config/--cacert/CATALYST_* settings, soak's thresholds, and a
// run against the embedded sandbox's scheduled rate limit (--rate-limit-schedule): there the
// shape of the output is checked (the limit's steps, sent = accepted + 429s, the client's
// allowed rate sampled), not rates: the machine is shared, and the rates are the business of
// the client's own tests.
#include "batch/process.hpp"
#include "cli/version.hpp"

#include <catalyst/sandbox.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

namespace {

using catalyst::batch::test::run;
using catalyst::batch::test::slurp;
using catalyst::batch::test::spit;

struct tools_cli : ::testing::Test {
    std::string dir;
    void SetUp() override {
        dir = ::testing::TempDir() + "/tools_cli_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name();
        std::filesystem::create_directories(dir);
    }
    void TearDown() override { std::filesystem::remove_all(dir); }
    catalyst::batch::test::result bench(const std::vector<std::string>& args, std::map<std::string, std::string> env = {}) {
        return run(CATALYST_BENCH_EXE, args, env, dir);
    }
    catalyst::batch::test::result soak(const std::vector<std::string>& args) { return run(CATALYST_SOAK_EXE, args, {}, dir); }
};

// The TSV's rows, split into their fields (the header left out).
std::vector<std::vector<double>> rows(const std::string& tsv) {
    std::vector<std::vector<double>> out;
    std::istringstream in(tsv);
    std::string line;
    std::getline(in, line);
    EXPECT_EQ(line, "second\tlimit\tsent\taccepted\tthrottled\tallowed");
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::vector<double> v;
        for (double x; fields >> x;) v.push_back(x);
        EXPECT_EQ(v.size(), 6u) << line;
        out.push_back(v);
    }
    return out;
}

}  // namespace

TEST_F(tools_cli, help_lists_the_shared_options_and_the_exit_codes) {
    for (auto* exe : {CATALYST_BENCH_EXE, CATALYST_SOAK_EXE}) {
        auto r = run(exe, {"--help"}, {}, dir);
        EXPECT_EQ(r.code, 0) << exe << r.err;
        for (const char* part : {"--help", "--version", "Exit codes:", "  2  usage"})
            EXPECT_NE(r.out.find(part), std::string::npos) << exe << " --help lacks " << part;
        for (const char* here : {CATALYST_SOURCE_DIR, CATALYST_BINARY_DIR})
            EXPECT_EQ(r.out.find(here), std::string::npos) << exe << " --help names a path of the build machine";
    }
    auto b = bench({"-h"});
    for (const char* part : {"--cacert", "--config", "--api-key-file", "CATALYST_BENCH_URL", "CATALYST_CA_FILE"})
        EXPECT_NE(b.out.find(part), std::string::npos) << part;
    auto s = soak({"--help"});
    for (const char* part : {"--max-error-rate", "--max-p99", "--max-rss-growth-kib", "--max-fd-growth", "  1  a threshold"})
        EXPECT_NE(s.out.find(part), std::string::npos) << part;
}

TEST_F(tools_cli, version_is_the_catalyst_version) {
    auto b = bench({"--version"});
    EXPECT_EQ(b.code, 0);
    EXPECT_EQ(b.out, "catalyst-bench " + std::string(catalyst::cli::version()) + "\n");
    auto s = soak({"--version"});
    EXPECT_EQ(s.code, 0);  // the hand-written parser refused --version with a usage line
    EXPECT_EQ(s.out, "catalyst-soak " + std::string(catalyst::cli::version()) + "\n");
}

TEST_F(tools_cli, a_bad_boolean_or_an_unknown_flag_exits_2_naming_it) {
    auto b = bench({"--json=maybe"});
    EXPECT_EQ(b.code, 2);
    EXPECT_NE(b.err.find("--json: expected true or false"), std::string::npos) << b.err;
    auto s = soak({"--no-faults=maybe"});
    EXPECT_EQ(s.code, 2);
    EXPECT_NE(s.err.find("--no-faults: expected true or false"), std::string::npos) << s.err;
    auto u = soak({"--frobnicate=1"});
    EXPECT_EQ(u.code, 2);
    EXPECT_NE(u.err.find("unknown option '--frobnicate'"), std::string::npos) << u.err;
    auto d = soak({"--duration=soon"});
    EXPECT_EQ(d.code, 2);
    EXPECT_NE(d.err.find("--duration: expected a duration"), std::string::npos) << d.err;
}

TEST_F(tools_cli, bench_runs_with_equals_forms_and_false_booleans) {
    auto r = bench({"--sessions=20", "--concurrency=2", "--json=false", "--brief=true"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out.find('{'), std::string::npos) << "--json=false printed JSON:\n" << r.out;
    auto j = bench({"--sessions=20", "--concurrency=2", "--json"});
    ASSERT_EQ(j.code, 0) << j.err;
    EXPECT_EQ(j.out.rfind("{", 0), 0u) << j.out;
}

TEST_F(tools_cli, bench_takes_the_target_from_config_and_the_ca_from_cacert_or_the_environment) {
    catalyst::sandbox sb;
    sb.start();
    spit(dir + "/ca.pem", sb.ca_pem());
    spit(dir + "/client.json", "{\"base_url\":\"" + sb.base_url() + "\"}");
    auto r = bench({"--config=" + dir + "/client.json", "--cacert=" + dir + "/ca.pem", "--sessions=10", "--concurrency=1",
                    "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find(sb.base_url()), std::string::npos) << "did not run against the configured target:\n" << r.out;
    auto env = bench({"--sessions=10", "--concurrency=1", "--json"},
                     {{"CATALYST_BASE_URL", sb.base_url()}, {"CATALYST_CA_FILE", dir + "/ca.pem"}});
    ASSERT_EQ(env.code, 0) << env.err;
    EXPECT_NE(env.out.find(sb.base_url()), std::string::npos) << env.out;
    auto no_ca = bench({"--config=" + dir + "/client.json", "--sessions=5", "--concurrency=1"});
    EXPECT_NE(no_ca.code, 0) << "the sandbox's certificate was trusted without its CA";
    sb.stop();
}

TEST_F(tools_cli, soak_fails_a_run_that_crosses_a_threshold_and_passes_one_that_does_not) {
    auto fail = soak({"--duration=2s", "--sample=1s", "--concurrency=4", "--connections=2", "--no-faults", "--max-p99=0ms"});
    EXPECT_EQ(fail.code, 1) << fail.out << fail.err;  // exited 0 whatever happened before
    EXPECT_NE(fail.err.find("FAIL p99"), std::string::npos) << fail.err;
    auto pass = soak({"--duration", "3", "--sample", "1", "--concurrency", "4", "--connections", "2", "--no-faults"});
    EXPECT_EQ(pass.code, 0) << pass.out << pass.err;
}

TEST_F(tools_cli, bench_rate_limit_schedule_writes_the_seconds_the_chart_and_the_figures) {
    auto r = bench({"--rate-limit-schedule", "100@2s,50", "--duration", "4s", "--concurrency", "16", "--timeline",
                    dir + "/t.tsv", "--chart", dir + "/t.svg"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("adaptive rate: "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("100/s"), std::string::npos) << r.out;
    const auto v = rows(slurp(dir + "/t.tsv"));
    ASSERT_GE(v.size(), 3u);  // the whole seconds of a 4 s run that started a little after the schedule
    ASSERT_LE(v.size(), 4u);
    for (std::size_t i = 0; i < v.size(); ++i) {
        EXPECT_EQ(v[i][0], static_cast<double>(i));
        EXPECT_EQ(v[i][1], i < 2 ? 100 : 50) << "second " << i;
        EXPECT_EQ(v[i][2], v[i][3] + v[i][4]) << "sent = accepted + 429s, second " << i;
        EXPECT_GT(v[i][5], 0) << "the client's allowed rate was not sampled in second " << i;
    }
    const std::string svg = slurp(dir + "/t.svg");
    EXPECT_EQ(svg.rfind("<svg", 0), 0u);
    EXPECT_NE(svg.find("hidden limit 100@2s,50"), std::string::npos) << "the title names the schedule";
    EXPECT_NE(svg.find("client's allowed rate"), std::string::npos);
}

TEST_F(tools_cli, bench_rate_limit_schedule_draws_a_saved_sandbox_stats_answer_without_running) {
    spit(dir + "/stats.json",
         R"({"global_rate_limit":{"seconds":[{"second":0,"limit":400,"accepted":380,"throttled":3},)"
         R"({"second":1,"limit":200,"accepted":150,"throttled":0},{"second":2,"limit":200,"accepted":7,"throttled":0}]}})");
    auto r = bench({"--sandbox-stats", dir + "/stats.json", "--timeline", dir + "/s.tsv", "--chart", dir + "/s.svg",
                    "--title", "the batch case"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(slurp(dir + "/s.tsv"),
              "second\tlimit\tsent\taccepted\tthrottled\tallowed\n0\t400\t383\t380\t3\t-1.0\n1\t200\t150\t150\t0\t-1.0\n"
              "2\t200\t7\t7\t0\t-1.0\n");
    EXPECT_NE(slurp(dir + "/s.svg").find("the batch case"), std::string::npos);
    EXPECT_NE(r.out.find("accepted 537, 429s 3 (0.56 % of attempts)"), std::string::npos) << r.out;

    auto bad = bench({"--sandbox-stats", dir + "/nothing.json", "--chart", dir + "/x.svg"});
    EXPECT_EQ(bad.code, 2);
    EXPECT_NE(bad.err.find("nothing.json"), std::string::npos) << bad.err;
    EXPECT_FALSE(std::filesystem::exists(dir + "/x.svg"));
}

TEST_F(tools_cli, bench_rate_limit_schedule_a_bad_schedule_exits_2_naming_the_flag_and_the_item) {
    auto r = bench({"--rate-limit-schedule", "400@15s,200@x", "--duration", "1s"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("--rate-limit-schedule"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("200@x"), std::string::npos) << r.err;
}
