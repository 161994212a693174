#ifndef CATALYST_BENCH_TIMELINE_CHART_HPP
#define CATALYST_BENCH_TIMELINE_CHART_HPP

#include "rate_timeline.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace catalyst::bench {

/// A self-contained SVG (as render_chart) of a run against a scheduled rate limit, over time:
/// above, requests per second (the hidden limit as a dashed step line, what was sent and what
/// was accepted each second, the client's allowed rate when known); below, the 429s of each
/// second on their own scale, so that a few stay visible. `subtitle` goes under the title
/// (the figures: figures_headline).
std::string render_timeline_chart(std::string_view title, std::string_view subtitle,
                                  const std::vector<timeline_second>& seconds);

}  // namespace catalyst::bench

#endif
