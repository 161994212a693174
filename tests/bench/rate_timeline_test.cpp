// The figures and the chart of a run against a scheduled rate limit (bench/harness/
// rate_timeline.*, timeline_chart.*): pure, on timelines written here.
#include "rate_timeline.hpp"
#include "timeline_chart.hpp"

#include "text_count.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace catalyst::bench;
using catalyst::bench::test::count_of;

namespace {

// 100/s for 12 s (a cold start: 30, 60, 95, then 95 a second with a 429 in seconds 3 and 11),
// then 50/s for 3 s (too short for a steady state), 20 at first.
std::vector<timeline_second> halving() {
    std::vector<timeline_second> v;
    const std::uint64_t accepted[] = {30, 60, 95, 95, 95, 95, 95, 95, 95, 95, 95, 95, 20, 45, 48};
    for (std::uint64_t s = 0; s < 15; ++s)
        v.push_back({s, s < 12 ? 100.0 : 50.0, accepted[s], (s == 3 || s == 11 || s == 12) ? 2u : 0u, -1});
    return v;
}

}  // namespace

TEST(bench_rate_timeline, steps_reach_and_steady_state) {
    const auto f = summarize(halving(), 10);
    EXPECT_EQ(f.seconds, 15u);
    EXPECT_EQ(f.accepted, 30u + 60 + 95 * 10 + 20 + 45 + 48);
    EXPECT_EQ(f.throttled, 6u);
    EXPECT_DOUBLE_EQ(f.throttled_share(), 6.0 / static_cast<double>(f.accepted + 6));
    ASSERT_EQ(f.steps.size(), 2u);

    const auto& first = f.steps[0];
    EXPECT_EQ(first.limit, 100);
    EXPECT_EQ(first.first, 0u);
    EXPECT_EQ(first.end, 12u);
    ASSERT_TRUE(first.to_90);
    EXPECT_EQ(*first.to_90, 2u);  // 95 >= 90 first in second 2
    ASSERT_TRUE(first.steady);    // seconds 10 and 11
    EXPECT_DOUBLE_EQ(*first.steady, 190.0 / 200.0);
    EXPECT_EQ(first.steady_throttled, 2u);

    const auto& second = f.steps[1];
    EXPECT_EQ(second.limit, 50);
    EXPECT_EQ(second.first, 12u);
    EXPECT_EQ(second.end, 15u);
    ASSERT_TRUE(second.to_90);
    EXPECT_EQ(*second.to_90, 1u);  // 45 >= 45 in second 13
    EXPECT_FALSE(second.steady);   // ends before 10 s

    const auto none = summarize({{0, 100, 10, 0, -1}}, 10);
    ASSERT_EQ(none.steps.size(), 1u);
    EXPECT_FALSE(none.steps[0].to_90);
    EXPECT_EQ(summarize(std::vector<timeline_second>{}).throttled_share(), 0.0);
}

TEST(bench_rate_timeline, allowed_rate_is_the_mean_of_each_seconds_samples) {
    auto v = halving();
    set_allowed(v, {{0.1, 10}, {0.9, 30}, {2.5, 100}, {-1, 5}, {99, 5}, {1e300, 5}});
    EXPECT_DOUBLE_EQ(v[0].allowed, 20);
    EXPECT_EQ(v[1].allowed, -1);  // no sample: not known
    EXPECT_DOUBLE_EQ(v[2].allowed, 100);
    EXPECT_EQ(v[14].allowed, -1);
}

TEST(bench_rate_timeline, tsv_has_a_header_and_a_line_per_second) {
    auto v = halving();
    v[0].allowed = 12.34;
    const std::string tsv = to_tsv(v);
    EXPECT_EQ(tsv.rfind("second\tlimit\tsent\taccepted\tthrottled\tallowed\n", 0), 0u) << tsv;
    EXPECT_EQ(count_of(tsv, "\n"), 16u);
    EXPECT_NE(tsv.find("\n0\t100\t30\t30\t0\t12.3\n"), std::string::npos) << tsv;
    EXPECT_NE(tsv.find("\n3\t100\t97\t95\t2\t-1.0\n"), std::string::npos) << tsv;
}

TEST(bench_rate_timeline, reads_the_sandbox_stats) {
    const std::string stats =
        R"({"created":5,"global_rate_limit":{"schedule":"400@15s,200","elapsed_ms":2500,"seconds":[)"
        R"({"second":0,"limit":400,"accepted":300,"throttled":4},{"second":1,"limit":400,"accepted":390,"throttled":0},)"
        R"({"second":2,"limit":400,"accepted":100,"throttled":0}]}})";
    const auto p = parse_sandbox_stats(stats);
    ASSERT_EQ(p.error, "");
    ASSERT_EQ(p.seconds.size(), 3u);  // the last one too: read after the run, it holds the run's end
    EXPECT_EQ(p.seconds[0].accepted, 300u);
    EXPECT_EQ(p.seconds[0].throttled, 4u);
    EXPECT_EQ(p.seconds[1].second, 1u);
    EXPECT_EQ(p.seconds[1].limit, 400);
    EXPECT_LT(p.seconds[1].allowed, 0);
    EXPECT_EQ(p.seconds[2].accepted, 100u);

    EXPECT_NE(parse_sandbox_stats("{\"global_rate_limit\":null}").error.find("--rate-limit-schedule"), std::string::npos);
    EXPECT_EQ(parse_sandbox_stats("[1]").error, "not a JSON object");
    EXPECT_EQ(parse_sandbox_stats("{\"global_rate_limit\":{\"seconds\":[{\"second\":0,\"limit\":1,\"accepted\":\"x\","
                                  "\"throttled\":0}]}}")
                  .error,
              "global_rate_limit.seconds[0]: expected the numbers second, limit, accepted and throttled");
    EXPECT_EQ(parse_sandbox_stats("{\"global_rate_limit\":{\"seconds\":[{\"second\":0,\"limit\":1,\"accepted\":1,"
                                  "\"throttled\":0},{\"second\":2,\"limit\":1,\"accepted\":1,\"throttled\":0}]}}")
                  .error,
              "global_rate_limit.seconds[1]: second 2 does not follow 0");
    EXPECT_NE(parse_sandbox_stats("{\"global_rate_limit\":{\"seconds\":[]}}").error, "");
}

TEST(bench_rate_timeline, figures_for_people) {
    const auto f = summarize(halving(), 10);
    const std::string text = format_figures(f);
    EXPECT_NE(text.find("accepted 1 153, 429s 6 (0.52 % of attempts)"), std::string::npos) << text;
    EXPECT_NE(text.find("0.950 (from 10 s)"), std::string::npos) << text;
    EXPECT_NE(text.find("(step too short)"), std::string::npos) << text;
    const std::string headline = figures_headline(f);
    EXPECT_EQ(headline, "429s 0.52 % of 1 159 attempts; accepted / limit in steady state 0.95 (100/s); "
                        "90 % of each limit after 2 s, 1 s")
        << headline;
}

TEST(bench_rate_timeline, chart_draws_the_limit_the_rates_and_each_second_with_429s) {
    auto v = halving();
    const std::string no_allowed = render_timeline_chart("limit <halved>", "429s & more", v);
    EXPECT_EQ(no_allowed.rfind("<svg", 0), 0u);
    EXPECT_NE(no_allowed.find("limit &lt;halved&gt;"), std::string::npos);
    EXPECT_NE(no_allowed.find("429s &amp; more"), std::string::npos);
    EXPECT_NE(no_allowed.find("stroke-dasharray=\"7,4\""), std::string::npos);  // the limit
    EXPECT_EQ(count_of(no_allowed, "<rect"), 1u + 2 + 3);  // the background, 2 legend blocks, 3 seconds with 429s
    EXPECT_EQ(no_allowed.find("<polyline"), std::string::npos) << "an allowed rate drawn that is not known";
    EXPECT_EQ(no_allowed.find("allowed rate"), std::string::npos);
    EXPECT_EQ(no_allowed.find("nan"), std::string::npos);

    set_allowed(v, {{0.5, 40}, {1.5, 80}, {5.5, 90}, {6.5, 95}});
    const std::string with_allowed = render_timeline_chart("t", "s", v);
    EXPECT_EQ(count_of(with_allowed, "<polyline"), 2u);  // seconds 0-1 and 5-6: a gap where it is not known
    EXPECT_NE(with_allowed.find("client's allowed rate"), std::string::npos);

    // a long title gets a smaller font rather than leaving the picture
    const std::string long_title(150, 'x');
    EXPECT_NE(render_timeline_chart(long_title, "s", v).find("font-size=\"9\" font-weight=\"bold\">" + long_title),
              std::string::npos);
    EXPECT_NE(with_allowed.find("font-size=\"16\" font-weight=\"bold\">t<"), std::string::npos);

    const std::string empty = render_timeline_chart("t", "s", {});
    EXPECT_NE(empty.find("</svg>"), std::string::npos);
    EXPECT_EQ(empty.find("nan"), std::string::npos);
}
