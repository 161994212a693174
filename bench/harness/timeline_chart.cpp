#include "timeline_chart.hpp"

#include "chart.hpp"

#include <algorithm>
#include <cmath>

namespace catalyst::bench {
namespace {

constexpr double width = 960, height = 520;
constexpr double left = 70, right = 930;
constexpr double rates_top = 100, rates_bottom = 365;        // requests/s panel, y
constexpr double throttled_top = 395, throttled_bottom = 460;  // 429s/s panel, y
constexpr const char* limit_color = "#000000";
constexpr const char* sent_color = "#1f77b4";
constexpr const char* accepted_color = "#2ca02c";
constexpr const char* allowed_color = "#ff7f0e";
constexpr const char* throttled_color = "#d62728";

std::string line(double x1, double y1, double x2, double y2, const char* color, double w = 1) {
    return "<line x1=\"" + svg_number(x1) + "\" y1=\"" + svg_number(y1) + "\" x2=\"" + svg_number(x2) + "\" y2=\"" +
           svg_number(y2) + "\" stroke=\"" + color + "\" stroke-width=\"" + svg_number(w) + "\"/>\n";
}

// Tick spacing on the time axis: at most about 12 labels.
double time_step(double span) {
    for (double s : {1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0})
        if (span / s <= 12) return s;
    return 1200;
}

// Horizontal grid lines with their labels, `lines` + 1 of them from 0 to `max`.
std::string grid(double top, double bottom, double max, int lines) {
    std::string svg;
    for (int g = 0; g <= lines; ++g) {
        const double v = max * g / lines;
        const double y = bottom - v / max * (bottom - top);
        svg += line(left, y, right, y, g == 0 ? "#444444" : "#dddddd");
        svg += svg_text(left - 8, y + 4, axis_label(v), "end", 11);
    }
    svg += line(left, top, left, bottom, "#444444");
    return svg;
}

// A font size at most `size` at which `s` fits the width, its characters about `em` of the
// size wide on average (DejaVu Sans: 0.62 bold, 0.56 regular), 9 at least.
int fitting(std::string_view s, int size, double em) {
    const double fits = (width - 40) / (em * static_cast<double>(std::max<std::size_t>(1, s.size())));
    return std::clamp(static_cast<int>(fits), 9, size);
}

// How a legend entry shows its series: a line (dashed or not) or a block (an area, bars).
enum class swatch { line, dashed, block };

std::string legend_item(double& x, double y, const char* color, std::string_view name, swatch kind = swatch::line) {
    std::string svg;
    if (kind == swatch::block)
        svg = "<rect x=\"" + svg_number(x + 4) + "\" y=\"" + svg_number(y - 10) + "\" width=\"14\" height=\"11\" fill=\"" +
              color + "\" fill-opacity=\"" + (color == accepted_color ? "0.45" : "1") + "\"/>\n";
    else
        svg = "<line x1=\"" + svg_number(x) + "\" y1=\"" + svg_number(y - 4) + "\" x2=\"" + svg_number(x + 22) + "\" y2=\"" +
              svg_number(y - 4) + "\" stroke=\"" + color + "\" stroke-width=\"3\"" +
              (kind == swatch::dashed ? " stroke-dasharray=\"7,4\"" : "") + "/>\n";
    svg += svg_text(x + 28, y, name, "start", 12);
    x += 40 + 6.8 * static_cast<double>(name.size());
    return svg;
}

}  // namespace

std::string render_timeline_chart(std::string_view title, std::string_view subtitle,
                                  const std::vector<timeline_second>& seconds) {
    const double first = seconds.empty() ? 0 : static_cast<double>(seconds.front().second);
    const double end = seconds.empty() ? 1 : static_cast<double>(seconds.back().second + 1);
    double rate_max = 0, throttled_max = 0;
    bool allowed_known = false;
    for (const auto& s : seconds) {
        rate_max = std::max({rate_max, s.limit, static_cast<double>(s.sent())});
        throttled_max = std::max(throttled_max, static_cast<double>(s.throttled));
        allowed_known = allowed_known || s.allowed >= 0;
    }
    rate_max = nice_ceiling(rate_max * 1.15);
    throttled_max = nice_ceiling(std::max(throttled_max, 4.0));
    if (std::fmod(throttled_max, 2) != 0) throttled_max = nice_ceiling(throttled_max + 1);  // a whole middle line
    auto x_of = [&](double s) { return left + (s - first) / std::max(1.0, end - first) * (right - left); };
    auto y_rate = [&](double v) { return rates_bottom - std::min(v, rate_max) / rate_max * (rates_bottom - rates_top); };
    auto y_throttled = [&](double v) {
        return throttled_bottom - std::min(v, throttled_max) / throttled_max * (throttled_bottom - throttled_top);
    };
    // A per-second count as steps: flat over each second.
    auto steps = [&](auto value) {
        std::string d;
        for (const auto& s : seconds) {
            const double x0 = x_of(static_cast<double>(s.second)), x1 = x_of(static_cast<double>(s.second + 1));
            const double y = y_rate(value(s));
            d += (d.empty() ? "M" : " L") + svg_number(x0) + "," + svg_number(y) + " L" + svg_number(x1) + "," +
                 svg_number(y);
        }
        return d;
    };

    std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + svg_number(width) + "\" height=\"" +
                      svg_number(height) + "\" viewBox=\"0 0 " + svg_number(width) + " " + svg_number(height) +
                      "\" font-family=\"DejaVu Sans, Arial, sans-serif\">\n";
    svg += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
    svg += svg_text(width / 2, 26, title, "middle", fitting(title, 16, 0.62), " font-weight=\"bold\"");
    svg += svg_text(width / 2, 47, subtitle, "middle", fitting(subtitle, 12, 0.56));

    // legend, above the panels
    double lx = left;
    svg += legend_item(lx, 76, limit_color, "hidden limit", swatch::dashed);
    svg += legend_item(lx, 76, sent_color, "sent (accepted + 429)");
    svg += legend_item(lx, 76, accepted_color, "accepted", swatch::block);
    if (allowed_known) svg += legend_item(lx, 76, allowed_color, "client's allowed rate (mean per second)");
    svg += legend_item(lx, 76, throttled_color, "429s (lower panel)", swatch::block);

    svg += grid(rates_top, rates_bottom, rate_max, 5);
    svg += svg_text(18, (rates_top + rates_bottom) / 2, "requests per second", "middle", 12,
                    " transform=\"rotate(-90 18 " + svg_number((rates_top + rates_bottom) / 2) + ")\"");
    svg += grid(throttled_top, throttled_bottom, throttled_max, 2);
    svg += svg_text(18, (throttled_top + throttled_bottom) / 2, "429s/s", "middle", 12,
                    " transform=\"rotate(-90 18 " + svg_number((throttled_top + throttled_bottom) / 2) + ")\"");

    // time axis under the lower panel, with light vertical lines through both panels
    const double step = time_step(end - first);
    for (double t = std::ceil(first / step) * step; t <= end + 1e-9; t += step) {
        const double x = x_of(t);
        svg += line(x, rates_top, x, rates_bottom, "#f0f0f0");
        svg += line(x, throttled_bottom, x, throttled_bottom + 5, "#444444");
        svg += svg_text(x, throttled_bottom + 19, axis_label(t), "middle", 11);
    }
    svg += svg_text((left + right) / 2, throttled_bottom + 42, "seconds since the limit's schedule started", "middle", 12);

    if (!seconds.empty()) {
        // accepted: an area under its steps
        svg += "<path d=\"M" + svg_number(x_of(first)) + "," + svg_number(rates_bottom) + " L" +
               steps([](const timeline_second& s) { return static_cast<double>(s.accepted); }).substr(1) + " L" +
               svg_number(x_of(end)) + "," + svg_number(rates_bottom) + " Z\" fill=\"" + accepted_color +
               "\" fill-opacity=\"0.22\" stroke=\"" + accepted_color + "\" stroke-width=\"1.5\"/>\n";
        svg += "<path d=\"" + steps([](const timeline_second& s) { return static_cast<double>(s.sent()); }) +
               "\" fill=\"none\" stroke=\"" + sent_color + "\" stroke-width=\"1.5\"/>\n";
        svg += "<path d=\"" + steps([](const timeline_second& s) { return s.limit; }) + "\" fill=\"none\" stroke=\"" +
               limit_color + "\" stroke-width=\"2\" stroke-dasharray=\"7,4\"/>\n";
    }
    // the allowed rate through the middle of each second it is known for
    std::string points;
    auto flush_allowed = [&] {
        if (points.find(' ') != std::string::npos)
            svg += "<polyline points=\"" + points + "\" fill=\"none\" stroke=\"" + allowed_color +
                   "\" stroke-width=\"2\" stroke-linejoin=\"round\"/>\n";
        points.clear();
    };
    for (const auto& s : seconds) {
        if (s.allowed < 0) {
            flush_allowed();
            continue;
        }
        points += (points.empty() ? "" : " ") + svg_number(x_of(static_cast<double>(s.second) + 0.5)) + "," +
                  svg_number(y_rate(s.allowed));
    }
    flush_allowed();

    // 429s: a bar per second, its count above it while there is room
    std::size_t bars = 0;
    for (const auto& s : seconds) bars += s.throttled > 0 ? 1 : 0;
    const double bar_width = (right - left) / std::max(1.0, end - first);
    for (const auto& s : seconds) {
        if (s.throttled == 0) continue;
        const double x = x_of(static_cast<double>(s.second)), y = y_throttled(static_cast<double>(s.throttled));
        svg += "<rect x=\"" + svg_number(x + 1) + "\" y=\"" + svg_number(y) + "\" width=\"" +
               svg_number(std::max(1.0, bar_width - 2)) + "\" height=\"" + svg_number(throttled_bottom - y) +
               "\" fill=\"" + throttled_color + "\"/>\n";
        if (bars <= 40 && bar_width >= 8)
            svg += svg_text(x + bar_width / 2, y - 3, axis_label(static_cast<double>(s.throttled)), "middle", 10,
                            std::string(" fill=\"") + throttled_color + "\"");
    }
    svg += "</svg>\n";
    return svg;
}

}  // namespace catalyst::bench
