// catalyst-bench --rate-limit-schedule as a user runs it: a short run against the embedded
// sandbox's scheduled limit writes the seconds (TSV), the chart and the figures; a saved
// sandbox stats answer is drawn without a run. What is checked is the shape of the output
// (the limit's steps, sent = accepted + 429s, the client's allowed rate sampled), not rates:
// the machine is shared, and the rates are the business of the client's own tests.
#include "batch/process.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

namespace {

using catalyst::batch::test::run;
using catalyst::batch::test::slurp;
using catalyst::batch::test::spit;

struct rate_limit_run : ::testing::Test {
    std::string dir;
    void SetUp() override {
        dir = ::testing::TempDir() + "/rate_limit_run_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name();
        std::filesystem::create_directories(dir);
    }
    void TearDown() override { std::filesystem::remove_all(dir); }
    catalyst::batch::test::result bench(const std::vector<std::string>& args) {
        return run(CATALYST_BENCH_EXE, args, {}, dir);
    }
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

TEST_F(rate_limit_run, writes_the_seconds_the_chart_and_the_figures) {
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

TEST_F(rate_limit_run, draws_a_saved_sandbox_stats_answer_without_running) {
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

TEST_F(rate_limit_run, a_bad_schedule_exits_2_naming_the_flag_and_the_item) {
    auto r = bench({"--rate-limit-schedule", "400@15s,200@x", "--duration", "1s"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("--rate-limit-schedule"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("200@x"), std::string::npos) << r.err;
}
