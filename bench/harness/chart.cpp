#include "chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>

namespace catalyst::bench {
namespace {

constexpr double height = 440;
constexpr double top = 70, bottom = 360;  // plot area, y
constexpr double first_left = 90, panel_step = 500, panel_width = 360;
constexpr const char* colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"};

// What a panel draws: one of a point's values.
enum class quantity { throughput, cpu, p99 };

double value_of(quantity q, const chart_point& p) {
    switch (q) {
    case quantity::throughput: return p.throughput;
    case quantity::cpu: return p.cpu_us;
    case quantity::p99: return p.p99_ms;
    }
    return -1;
}

bool known(double v) { return v >= 0 && std::isfinite(v); }

const char* title_of(quantity q) {
    switch (q) {
    case quantity::throughput: return "Throughput (sessions/s, higher is better)";
    case quantity::cpu: return "CPU per request (us, lower is better)";
    case quantity::p99: return "p99 latency (ms, lower is better)";
    }
    return "";
}

}  // namespace

std::string svg_number(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
}

std::string axis_label(double v) {
    char buf[64];
    if (v >= 10'000) std::snprintf(buf, sizeof buf, "%.0fk", v / 1000);
    else if (v >= 100 || v == std::floor(v)) std::snprintf(buf, sizeof buf, "%.0f", v);
    else if (v >= 10) std::snprintf(buf, sizeof buf, "%.1f", v);
    else std::snprintf(buf, sizeof buf, "%.2f", v);
    return buf;
}

std::string svg_text(double x, double y, std::string_view s, const char* anchor, int size, std::string_view extra) {
    return "<text x=\"" + svg_number(x) + "\" y=\"" + svg_number(y) + "\" text-anchor=\"" + anchor + "\" font-size=\"" +
           std::to_string(size) + "\"" + std::string(extra) + ">" + xml_escape(s) + "</text>\n";
}

double nice_ceiling(double v) {
    if (!(v > 0) || !std::isfinite(v)) return 1;
    const double p = std::pow(10.0, std::floor(std::log10(v)));
    for (double m : {1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0}) {
        if (m * p >= v * (1 - 1e-12)) return m * p;
    }
    return 10 * p;
}

reference_parse parse_reference_series(std::string_view text) {
    reference_parse out;
    int line_no = 0;
    while (!text.empty()) {
        auto nl = text.find('\n');
        std::string line(text.substr(0, nl));
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        if (line[0] == '#') {
            if (out.series.name.empty()) {
                auto start = line.find_first_not_of("# \t");
                out.series.name = start == std::string::npos ? "" : line.substr(start);
            }
            continue;
        }
        // 2 to 4 numbers, each the whole of its word: "16 100 1 lots" is an error, not a point
        double v[4] = {0, 0, -1, -1};
        int n = 0;
        bool bad = false;
        for (std::size_t pos = line.find_first_not_of(" \t"); pos != std::string::npos && !bad;
             pos = line.find_first_not_of(" \t", pos)) {
            const auto end = std::min(line.find_first_of(" \t", pos), line.size());
            const std::string word = line.substr(pos, end - pos);
            char* stop = nullptr;
            const double x = std::strtod(word.c_str(), &stop);
            if (n == 4 || stop != word.c_str() + word.size()) bad = true;
            else v[n++] = x;
            pos = end;
        }
        const chart_point p{v[0], v[1], v[2], v[3]};
        if (bad || n < 2 || !(p.concurrency > 0) || !(p.throughput >= 0) || !std::isfinite(p.throughput)) {
            out.error = "line " + std::to_string(line_no) + ": expected 'CONCURRENCY THROUGHPUT [P99_MS [CPU_US]]', got '" +
                        line + "'";
            return out;
        }
        out.series.points.push_back(p);
    }
    if (out.series.name.empty()) out.series.name = "reference";
    if (out.series.points.empty()) out.error = "no data line";
    return out;
}

std::string xml_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        default: out += c;
        }
    }
    return out;
}

std::string render_chart(std::string_view title, const std::vector<chart_series>& series) {
    // throughput always; CPU per request beside it and p99 after, each when some point knows it
    std::vector<quantity> panels{quantity::throughput};
    for (quantity q : {quantity::cpu, quantity::p99}) {
        bool any = false;
        for (const auto& s : series)
            for (const auto& p : s.points) any = any || known(value_of(q, p));
        if (any) panels.push_back(q);
    }
    const double width = first_left + panel_step * static_cast<double>(panels.size() - 1) + panel_width + 30;

    std::set<double> xs;
    std::vector<double> y_max(panels.size(), 0);
    for (const auto& s : series) {
        for (const auto& p : s.points) {
            if (p.concurrency > 0) xs.insert(p.concurrency);
            for (std::size_t i = 0; i < panels.size(); ++i)
                if (known(value_of(panels[i], p))) y_max[i] = std::max(y_max[i], value_of(panels[i], p));
        }
    }
    for (auto& m : y_max) m = nice_ceiling(m * 1.15);
    const double lo = xs.empty() ? 1 : std::log2(*xs.begin());
    const double hi = xs.empty() ? 1 : std::log2(*xs.rbegin());
    auto left_of = [](std::size_t panel) { return first_left + panel_step * static_cast<double>(panel); };
    auto x_of = [&](std::size_t panel, double c) {
        const double inner = panel_width - 40;
        if (hi <= lo) return left_of(panel) + panel_width / 2;
        return left_of(panel) + 20 + (std::log2(c) - lo) / (hi - lo) * inner;
    };
    auto y_of = [&](std::size_t panel, double v) { return bottom - v / y_max[panel] * (bottom - top); };

    std::string svg;
    svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + svg_number(width) + "\" height=\"" + svg_number(height) +
           "\" viewBox=\"0 0 " + svg_number(width) + " " + svg_number(height) + "\" font-family=\"DejaVu Sans, Arial, sans-serif\">\n";
    svg += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
    svg += svg_text(width / 2, 28, title, "middle", 17, " font-weight=\"bold\"");

    for (std::size_t panel = 0; panel < panels.size(); ++panel) {
        const quantity q = panels[panel];
        const double left = left_of(panel), right = left + panel_width;
        svg += svg_text((left + right) / 2, top - 14, title_of(q), "middle", 13, " font-weight=\"bold\"");
        for (int g = 0; g <= 5; ++g) {
            const double v = y_max[panel] * g / 5;
            const double y = y_of(panel, v);
            svg += "<line x1=\"" + svg_number(left) + "\" y1=\"" + svg_number(y) + "\" x2=\"" + svg_number(right) + "\" y2=\"" + svg_number(y) +
                   "\" stroke=\"" + (g == 0 ? "#444444" : "#dddddd") + "\" stroke-width=\"1\"/>\n";
            svg += svg_text(left - 8, y + 4, axis_label(v), "end", 11);
        }
        svg += "<line x1=\"" + svg_number(left) + "\" y1=\"" + svg_number(top) + "\" x2=\"" + svg_number(left) + "\" y2=\"" + svg_number(bottom) +
               "\" stroke=\"#444444\" stroke-width=\"1\"/>\n";
        for (double c : xs) {
            const double x = x_of(panel, c);
            svg += "<line x1=\"" + svg_number(x) + "\" y1=\"" + svg_number(bottom) + "\" x2=\"" + svg_number(x) + "\" y2=\"" + svg_number(bottom + 5) +
                   "\" stroke=\"#444444\"/>\n";
            svg += svg_text(x, bottom + 19, axis_label(c), "middle", 11);
        }
        svg += svg_text((left + right) / 2, bottom + 40, "concurrency (sessions in flight, log scale)", "middle", 12);

        for (std::size_t si = 0; si < series.size(); ++si) {
            const auto& s = series[si];
            const char* color = colors[si % (sizeof colors / sizeof colors[0])];
            std::vector<chart_point> pts = s.points;
            std::sort(pts.begin(), pts.end(), [](auto& a, auto& b) { return a.concurrency < b.concurrency; });
            auto missing = [&](const chart_point& p) { return p.concurrency <= 0 || !known(value_of(q, p)); };
            std::string path;
            for (const auto& p : pts) {
                if (missing(p)) continue;
                path += (path.empty() ? "" : " ") + svg_number(x_of(panel, p.concurrency)) + "," + svg_number(y_of(panel, value_of(q, p)));
            }
            if (!path.empty())
                svg += "<polyline points=\"" + path + "\" fill=\"none\" stroke=\"" + color + "\" stroke-width=\"2.5\"/>\n";
            for (const auto& p : pts) {
                if (missing(p)) continue;
                const double v = value_of(q, p);
                const double x = x_of(panel, p.concurrency), y = y_of(panel, v);
                svg += "<circle cx=\"" + svg_number(x) + "\" cy=\"" + svg_number(y) + "\" r=\"4\" fill=\"" + color + "\"/>\n";
                // a label goes above its point, or below it when another series runs higher
                // there, so that the labels of close series do not overprint
                bool other_higher = false;
                for (std::size_t oi = 0; oi < series.size(); ++oi) {
                    if (oi == si) continue;
                    for (const auto& o : series[oi].points) {
                        const double ov = value_of(q, o);
                        if (o.concurrency == p.concurrency && std::isfinite(ov) && (ov > v || (ov == v && oi < si)))
                            other_higher = true;
                    }
                }
                const double dy = other_higher ? 19 : -9;
                svg += svg_text(x, y + dy, axis_label(v), "middle", 11,
                                std::string(" fill=\"") + color +
                                    "\" stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\"");
            }
        }
    }
    // legend
    double lx = first_left;
    for (std::size_t si = 0; si < series.size(); ++si) {
        const char* color = colors[si % (sizeof colors / sizeof colors[0])];
        svg += "<rect x=\"" + svg_number(lx) + "\" y=\"" + svg_number(height - 22) + "\" width=\"14\" height=\"4\" fill=\"" + color + "\"/>\n";
        svg += svg_text(lx + 20, height - 16, series[si].name, "start", 12);
        lx += 30 + 7.5 * static_cast<double>(series[si].name.size());
    }
    svg += "</svg>\n";
    return svg;
}

}  // namespace catalyst::bench
