#include "chart.hpp"

#include "text_count.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace catalyst::bench;
using catalyst::bench::test::count_of;

TEST(bench_chart, nice_ceiling) {
    EXPECT_EQ(nice_ceiling(0), 1.0);
    EXPECT_EQ(nice_ceiling(-5), 1.0);
    EXPECT_EQ(nice_ceiling(1), 1.0);
    EXPECT_EQ(nice_ceiling(1.2), 1.5);
    EXPECT_EQ(nice_ceiling(1.6), 2.0);
    EXPECT_EQ(nice_ceiling(2.2), 2.5);
    EXPECT_EQ(nice_ceiling(3), 3.0);
    EXPECT_EQ(nice_ceiling(4.5), 5.0);
    EXPECT_EQ(nice_ceiling(7), 8.0);
    EXPECT_EQ(nice_ceiling(9), 10.0);
    EXPECT_EQ(nice_ceiling(47'500), 50'000.0);
    EXPECT_DOUBLE_EQ(nice_ceiling(0.031), 0.04);
}

TEST(bench_chart, escapes_text) {
    EXPECT_EQ(xml_escape("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
}

TEST(bench_chart, two_panels_with_every_point) {
    chart_series s{"catalyst <client>", {{1, 4'000, 0.4}, {16, 30'000, 1.1}, {64, 45'000, 2.5}, {256, 44'000, 9.8}}};
    const std::string svg = render_chart("throughput & p99", {s});
    EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
    EXPECT_NE(svg.find("</svg>"), std::string::npos);
    EXPECT_EQ(count_of(svg, "<polyline"), 2u);  // one line per panel
    EXPECT_EQ(count_of(svg, "<circle"), 8u);    // every point in both panels
    EXPECT_NE(svg.find("throughput &amp; p99"), std::string::npos);
    EXPECT_NE(svg.find("catalyst &lt;client&gt;"), std::string::npos);
    EXPECT_EQ(svg.find("<script"), std::string::npos);  // self-contained, nothing active
    for (const char* label : {">45k<", ">9.80<", ">256<", ">16<"}) EXPECT_NE(svg.find(label), std::string::npos) << label;
}

TEST(bench_chart, several_series_and_a_single_point) {
    chart_series a{"wrk", {{64, 47'500, 2.0}}};
    chart_series b{"catalyst", {{64, 40'000, 3.0}}};
    const std::string svg = render_chart("one point", {a, b});
    EXPECT_EQ(count_of(svg, "<circle"), 4u);
    EXPECT_NE(svg.find(">wrk<"), std::string::npos);
    EXPECT_NE(svg.find(">catalyst<"), std::string::npos);
    // no NaN or infinity leaks into coordinates when the x range is one value
    EXPECT_EQ(svg.find("nan"), std::string::npos);
    EXPECT_EQ(svg.find("inf"), std::string::npos);
}

TEST(bench_chart, unknown_values_are_not_drawn) {
    chart_series wrk{"wrk", {{1, 4'500, -1}, {64, 47'500, -1}}};  // wrk's p99 is not known here
    const std::string svg = render_chart("partial", {wrk});
    EXPECT_EQ(count_of(svg, "<circle"), 2u);  // throughput panel only
    EXPECT_EQ(count_of(svg, "<polyline"), 1u);
    EXPECT_EQ(svg.find("p99 latency"), std::string::npos);  // no empty panel
}

TEST(bench_chart, empty_input_still_renders) {
    const std::string svg = render_chart("nothing", {});
    EXPECT_NE(svg.find("</svg>"), std::string::npos);
    EXPECT_EQ(count_of(svg, "<circle"), 0u);
}

TEST(bench_chart, reference_series_from_text) {
    auto r = parse_reference_series("# wrk 4.1 (compare.sh medians)\n1 4500\n\n64 47500 2.5\r\n");
    ASSERT_EQ(r.error, "");
    EXPECT_EQ(r.series.name, "wrk 4.1 (compare.sh medians)");
    ASSERT_EQ(r.series.points.size(), 2u);
    EXPECT_EQ(r.series.points[0].concurrency, 1.0);
    EXPECT_EQ(r.series.points[0].throughput, 4500.0);
    EXPECT_LT(r.series.points[0].p99_ms, 0.0);  // not given: not drawn
    EXPECT_LT(r.series.points[0].cpu_us, 0.0);
    EXPECT_EQ(r.series.points[1].p99_ms, 2.5);

    EXPECT_NE(parse_reference_series("# x\n1 2\n16 lots\n").error.find("line 3"), std::string::npos);
    EXPECT_NE(parse_reference_series("# x\n0 5\n").error.find("line 2"), std::string::npos);
    EXPECT_NE(parse_reference_series("# x\n1 2 3 4 5\n").error.find("line 2"), std::string::npos);
    EXPECT_EQ(parse_reference_series("# only a name\n").error, "no data line");
    EXPECT_EQ(parse_reference_series("8 100\n").series.name, "reference");
}

TEST(bench_chart, reference_series_with_cpu_per_request) {
    // bench-compare.sh's form: "CONCURRENCY THROUGHPUT P99_MS CPU_US", -1 for not known
    auto r = parse_reference_series("# wrk\n16 41675 -1 9.3\n256 43392 11.2 12.1\n");
    ASSERT_EQ(r.error, "");
    ASSERT_EQ(r.series.points.size(), 2u);
    EXPECT_LT(r.series.points[0].p99_ms, 0.0);
    EXPECT_EQ(r.series.points[0].cpu_us, 9.3);
    EXPECT_EQ(r.series.points[1].p99_ms, 11.2);
    EXPECT_EQ(r.series.points[1].cpu_us, 12.1);
    auto bad = parse_reference_series("# x\n16 100 1 lots\n");
    EXPECT_NE(bad.error.find("line 2"), std::string::npos);
    EXPECT_NE(bad.error.find("CPU_US"), std::string::npos);  // the message shows the form
}

TEST(bench_chart, cpu_per_request_panel_beside_throughput) {
    chart_series wrk{"wrk", {{16, 41'675, -1, 9.3}, {64, 32'621, -1, 11.1}, {256, 43'392, -1, 12.1}}};
    chart_series cat{"catalyst", {{16, 41'771, 4.3, 9.6}, {64, 32'625, 10.0, 12.0}, {256, 39'919, 11.2, 14.0}}};
    const std::string svg = render_chart("cpu", {cat, wrk});
    // three panels: throughput (2 series), CPU per request (2 series), p99 (catalyst only)
    EXPECT_EQ(count_of(svg, "<polyline"), 5u);
    EXPECT_EQ(count_of(svg, "<circle"), 15u);
    const auto tput = svg.find("Throughput (sessions/s"), cpu = svg.find("CPU per request (us, lower is better)"),
               p99 = svg.find("p99 latency (ms");
    ASSERT_NE(cpu, std::string::npos);
    EXPECT_LT(tput, cpu);  // beside throughput, before the latency
    EXPECT_LT(cpu, p99);
    EXPECT_NE(svg.find("width=\"1480.0\""), std::string::npos);  // the canvas grew by one panel
    // the CPU panel's title centred over the second panel (x 590..950)
    EXPECT_NE(svg.find("<text x=\"770.0\" y=\"56.0\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">CPU per"),
              std::string::npos);
    for (const char* label : {">9.30<", ">14<", ">12.1<", ">11.1<"}) EXPECT_NE(svg.find(label), std::string::npos) << label;
    EXPECT_EQ(svg.find("nan"), std::string::npos);
}

TEST(bench_chart, no_cpu_panel_without_cpu_figures) {
    chart_series s{"sweep", {{1, 4'000, 0.4}, {64, 45'000, 2.5}}};
    const std::string svg = render_chart("two", {s});
    EXPECT_EQ(svg.find("CPU per request"), std::string::npos);
    EXPECT_NE(svg.find("width=\"980.0\""), std::string::npos);  // as before
    EXPECT_EQ(count_of(svg, "<polyline"), 2u);
}

TEST(bench_chart, cpu_without_latency_draws_two_panels) {
    // sandbox-vs-nginx.sh's chart: throughput and server CPU per request, no latency measured
    chart_series nginx{"nginx", {{64, 10'551, -1, 24.9}, {256, 10'277, -1, 29.7}}};
    chart_series sandbox{"sandbox", {{64, 5'084, -1, 35.6}, {256, 5'198, -1, 37.9}}};
    const std::string svg = render_chart("servers", {sandbox, nginx});
    EXPECT_NE(svg.find("CPU per request"), std::string::npos);
    EXPECT_EQ(svg.find("p99 latency"), std::string::npos);
    EXPECT_NE(svg.find("width=\"980.0\""), std::string::npos);
    EXPECT_EQ(count_of(svg, "<polyline"), 4u);
    for (const char* label : {">35.6<", ">29.7<", ">10k<"}) EXPECT_NE(svg.find(label), std::string::npos) << label;
}
