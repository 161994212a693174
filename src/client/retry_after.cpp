#include "client/retry_after.hpp"
#include "core/text.hpp"

#include <array>
#include <cctype>
#include <charconv>

namespace catalyst::detail {
namespace {

bool read_int(std::string_view& s, std::size_t digits_min, std::size_t digits_max, int& out) {
    std::size_t n = 0;
    while (n < s.size() && n < digits_max && std::isdigit(static_cast<unsigned char>(s[n]))) ++n;
    if (n < digits_min) return false;
    out = 0;
    for (std::size_t i = 0; i < n; ++i) out = out * 10 + (s[i] - '0');
    s.remove_prefix(n);
    return true;
}

bool expect(std::string_view& s, char c) {
    if (s.empty() || s.front() != c) return false;
    s.remove_prefix(1);
    return true;
}

bool skip_spaces(std::string_view& s, bool required) {
    std::size_t n = 0;
    while (n < s.size() && s[n] == ' ') ++n;
    s.remove_prefix(n);
    return !required || n > 0;
}

int month_index(std::string_view& s) {
    static constexpr std::array<std::string_view, 12> names = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (s.size() < 3) return -1;
    for (int i = 0; i < 12; ++i) {
        if (s.substr(0, 3) == names[static_cast<std::size_t>(i)]) {
            s.remove_prefix(3);
            return i + 1;
        }
    }
    return -1;
}

bool skip_day_name(std::string_view& s, bool long_form) {
    static constexpr std::array<std::string_view, 7> shorts = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    static constexpr std::array<std::string_view, 7> longs = {"Monday", "Tuesday", "Wednesday", "Thursday",
                                                               "Friday", "Saturday", "Sunday"};
    for (std::size_t i = 0; i < 7; ++i) {
        auto name = long_form ? longs[i] : shorts[i];
        if (s.substr(0, name.size()) == name) {
            s.remove_prefix(name.size());
            return true;
        }
    }
    return false;
}

bool read_time(std::string_view& s, int& h, int& m, int& sec) {
    return read_int(s, 2, 2, h) && expect(s, ':') && read_int(s, 2, 2, m) && expect(s, ':') &&
           read_int(s, 2, 2, sec) && h < 24 && m < 60 && sec < 61;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
long long days_from_civil(long long y, unsigned m, unsigned d) {
    y -= m <= 2;
    const long long era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<long long>(doe) - 719468;
}

std::optional<long long> to_epoch(int year, int month, int day, int h, int m, int s) {
    if (month < 1 || month > 12 || day < 1 || day > 31) return std::nullopt;
    return days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
           h * 3600 + m * 60 + s;
}

}  // namespace

std::optional<long long> parse_http_date(std::string_view v) {
    v = trim(v);
    int day = 0, month = 0, year = 0, h = 0, m = 0, s = 0;
    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    {
        auto p = v;
        if (skip_day_name(p, false) && expect(p, ',') && skip_spaces(p, true) && read_int(p, 2, 2, day) &&
            skip_spaces(p, true) && (month = month_index(p)) > 0 && skip_spaces(p, true) &&
            read_int(p, 4, 4, year) && skip_spaces(p, true) && read_time(p, h, m, s) && skip_spaces(p, true) &&
            p == "GMT")
            return to_epoch(year, month, day, h, m, s);
    }
    // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"; two-digit years per RFC 9110: within 50 years.
    {
        auto p = v;
        int yy = 0;
        if (skip_day_name(p, true) && expect(p, ',') && skip_spaces(p, true) && read_int(p, 2, 2, day) &&
            expect(p, '-') && (month = month_index(p)) > 0 && expect(p, '-') && read_int(p, 2, 2, yy) &&
            skip_spaces(p, true) && read_time(p, h, m, s) && skip_spaces(p, true) && p == "GMT")
            return to_epoch(yy < 70 ? 2000 + yy : 1900 + yy, month, day, h, m, s);
    }
    // asctime: "Sun Nov  6 08:49:37 1994"
    {
        auto p = v;
        if (skip_day_name(p, false) && skip_spaces(p, true) && (month = month_index(p)) > 0 &&
            skip_spaces(p, true) && read_int(p, 1, 2, day) && skip_spaces(p, true) && read_time(p, h, m, s) &&
            skip_spaces(p, true) && read_int(p, 4, 4, year) && p.empty())
            return to_epoch(year, month, day, h, m, s);
    }
    return std::nullopt;
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now) {
    value = trim(value);
    if (value.empty()) return std::nullopt;
    if (std::isdigit(static_cast<unsigned char>(value.front()))) {
        unsigned long long secs = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), secs);
        if (ec == std::errc::result_out_of_range) return std::chrono::milliseconds::max();
        if (ec != std::errc{} || end != value.data() + value.size()) return std::nullopt;
        // Anything beyond a day is as good as "too long": avoid overflow in the multiplication.
        if (secs > 86'400ULL * 365) secs = 86'400ULL * 365;
        return std::chrono::milliseconds(static_cast<long long>(secs) * 1000);
    }
    auto at = parse_http_date(value);
    if (!at) return std::nullopt;
    auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    long long diff = *at * 1000 - now_ms;
    return std::chrono::milliseconds(diff > 0 ? diff : 0);
}

}  // namespace catalyst::detail
