#include "cli/values.hpp"

#include "core/text.hpp"

#include <charconv>
#include <cmath>
#include <string>

namespace catalyst::cli {
namespace {

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

}  // namespace

bool parse_bool(std::string_view text) {
    if (text == "1" || text == "true" || text == "yes" || text == "on") return true;
    if (text == "0" || text == "false" || text == "no" || text == "off") return false;
    throw value_error("expected true or false (also 1/0, yes/no, on/off), got " + quoted(text));
}

std::chrono::nanoseconds parse_duration(std::string_view text, std::chrono::nanoseconds plain_unit) {
    using namespace std::chrono;
    const auto refuse = [&] {
        const char* plain = plain_unit == nanoseconds(0) ? " with its unit"
                            : plain_unit == milliseconds(1) ? " (a plain number counts milliseconds)"
                            : plain_unit == seconds(1)      ? " (a plain number counts seconds)"
                                                            : "";
        return value_error(std::string("expected a duration such as 500ms, 30s, 2m, 24h or 7d") + plain + ", got " +
                           quoted(text));
    };
    nanoseconds out{};
    if (!detail::parse_duration(text, plain_unit, out)) throw refuse();
    return out;
}

std::uint64_t parse_whole(std::string_view text, std::uint64_t min, std::uint64_t max) {
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || v < min || v > max)
        throw value_error("expected a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
                          ", got " + quoted(text));
    return v;
}

double parse_number(std::string_view text, double min, double max) {
    double v = 0;
    if (!detail::parse_finite(text, v) || v < min || v > max) {
        auto show = [](double d) {
            std::string s = std::to_string(d);
            s.erase(s.find_last_not_of('0') + 1);
            if (s.back() == '.') s.pop_back();
            return s;
        };
        throw value_error("expected a number from " + show(min) + " to " + show(max) + ", got " + quoted(text));
    }
    return v;
}

}  // namespace catalyst::cli
