#include "core/text.hpp"

#include <cctype>
#include <cmath>
#include <cstdint>

namespace catalyst::detail {

bool parse_finite(std::string_view text, double& out) noexcept {
    if (text.empty() || text.front() == '+' || std::isspace(static_cast<unsigned char>(text.front()))) return false;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc{} && end == text.data() + text.size() && std::isfinite(out);
}

bool parse_duration(std::string_view text, std::chrono::nanoseconds plain_unit, std::chrono::nanoseconds& out) noexcept {
    using namespace std::chrono;
    struct suffix {
        std::string_view name;
        nanoseconds unit;
    };
    // "ms" before "m" and "s": the longest suffix that matches wins.
    static constexpr suffix suffixes[] = {{"ms", milliseconds(1)}, {"us", microseconds(1)}, {"d", hours(24)},
                                          {"h", hours(1)},         {"m", minutes(1)},       {"s", seconds(1)}};
    std::string_view number = text;
    nanoseconds unit = plain_unit;
    for (const auto& s : suffixes) {
        if (number.size() > s.name.size() && number.ends_with(s.name)) {
            number.remove_suffix(s.name.size());
            unit = s.unit;
            break;
        }
    }
    double value = 0;
    if (unit == nanoseconds(0) || !parse_finite(number, value) || value < 0) return false;
    const double ns = value * static_cast<double>(unit.count());
    if (!(ns < 9.2e18)) return false;
    out = nanoseconds(static_cast<std::int64_t>(std::llround(ns)));
    return true;
}

}  // namespace catalyst::detail
