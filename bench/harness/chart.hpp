#ifndef CATALYST_BENCH_CHART_HPP
#define CATALYST_BENCH_CHART_HPP

#include <string>
#include <string_view>
#include <vector>

namespace catalyst::bench {

struct chart_point {
    double concurrency = 0;
    double throughput = 0;  ///< sessions/s; negative or NaN: not known (not drawn)
    double p99_ms = 0;      ///< negative or NaN: not known (not drawn)
    double cpu_us = -1;     ///< CPU microseconds per request; negative or NaN: not known (not drawn)
};

struct chart_series {
    std::string name;
    std::vector<chart_point> points;
};

/// A self-contained SVG (no script, no external font or style) with panels side by side:
/// throughput against concurrency; then CPU per request and p99 latency against
/// concurrency, each when some point knows it. The concurrency on a log2 axis; each point
/// labelled with its value.
std::string render_chart(std::string_view title, const std::vector<chart_series>& series);

/// Reads a reference series to draw beside the sweep (wrk's throughput from compare.sh):
/// a first line "# NAME", then one "CONCURRENCY THROUGHPUT [P99_MS [CPU_US]]" line per point
/// (a negative P99_MS or CPU_US: not known; blank lines and further "#" lines skipped). On a
/// bad line, `error` names its number.
struct reference_parse {
    chart_series series;
    std::string error;
};
reference_parse parse_reference_series(std::string_view text);

/// The smallest "round" number (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten) >= v;
/// 1 for v <= 0.
double nice_ceiling(double v);
/// Escapes &, <, >, " for SVG text.
std::string xml_escape(std::string_view s);

// The SVG pieces every chart of catalyst-bench is drawn with.
/// A coordinate: one decimal.
std::string svg_number(double v);
/// An axis or point label: 12k, 250, 2.5, 0.25.
std::string axis_label(double v);
/// A <text> element; `extra` holds further attributes, each with its leading space.
std::string svg_text(double x, double y, std::string_view s, const char* anchor = "middle", int size = 12,
                     std::string_view extra = "");

}  // namespace catalyst::bench

#endif
