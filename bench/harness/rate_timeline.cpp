#include "rate_timeline.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <cmath>
#include <cstdio>

namespace catalyst::bench {
namespace {

constexpr double reached_share = 0.9;

std::string format(const char* fmt, auto... args) {
    char buf[256];
    std::snprintf(buf, sizeof buf, fmt, args...);
    return buf;
}

// 12014 -> "12 014", as the project's documents write counts.
std::string grouped(std::uint64_t n) {
    std::string digits = std::to_string(n), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ' ';
        out += digits[i];
    }
    return out;
}

double share(std::uint64_t part, std::uint64_t whole) {
    return whole ? static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

// A JSON number as an unsigned count, or nullopt.
std::optional<double> number(const boost::json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (!v || !v->is_number()) return std::nullopt;
    const double d = v->to_number<double>();
    if (!std::isfinite(d) || d < 0) return std::nullopt;
    return d;
}

}  // namespace

double timeline_figures::throttled_share() const noexcept { return share(throttled, accepted + throttled); }

timeline_figures summarize(const std::vector<timeline_second>& seconds, std::uint64_t settle_s) {
    timeline_figures f;
    f.seconds = seconds.size();
    f.settle_s = settle_s;
    for (const auto& s : seconds) {
        f.accepted += s.accepted;
        f.throttled += s.throttled;
        if (f.steps.empty() || f.steps.back().limit != s.limit) {
            limit_step step;
            step.limit = s.limit;
            step.first = s.second;
            f.steps.push_back(step);
        }
        limit_step& step = f.steps.back();
        step.end = s.second + 1;
        step.accepted += s.accepted;
        step.throttled += s.throttled;
        if (!step.to_90 && static_cast<double>(s.accepted) >= reached_share * s.limit) step.to_90 = s.second - step.first;
        if (s.second >= step.first + settle_s) {
            step.steady_accepted += s.accepted;
            step.steady_throttled += s.throttled;
        }
    }
    for (auto& step : f.steps) {
        if (step.end > step.first + settle_s && step.limit > 0)
            step.steady = static_cast<double>(step.steady_accepted) /
                          (step.limit * static_cast<double>(step.end - step.first - settle_s));
    }
    return f;
}

void set_allowed(std::vector<timeline_second>& seconds, const std::vector<std::pair<double, double>>& samples) {
    if (seconds.empty()) return;
    const std::uint64_t base = seconds.front().second;
    std::vector<double> sum(seconds.size(), 0);
    std::vector<std::uint64_t> count(seconds.size(), 0);
    const double end = static_cast<double>(base + seconds.size());
    for (const auto& [at, rate] : samples) {
        if (!(at >= static_cast<double>(base) && at < end) || !std::isfinite(rate)) continue;
        const auto s = static_cast<std::uint64_t>(at);
        if (s < base || s - base >= seconds.size()) continue;
        sum[s - base] += rate;
        ++count[s - base];
    }
    for (std::size_t i = 0; i < seconds.size(); ++i)
        if (count[i] > 0) seconds[i].allowed = sum[i] / static_cast<double>(count[i]);
}

std::string to_tsv(const std::vector<timeline_second>& seconds) {
    std::string out = "second\tlimit\tsent\taccepted\tthrottled\tallowed\n";
    for (const auto& s : seconds)
        out += format("%llu\t%g\t%llu\t%llu\t%llu\t%.1f\n", static_cast<unsigned long long>(s.second), s.limit,
                      static_cast<unsigned long long>(s.sent()), static_cast<unsigned long long>(s.accepted),
                      static_cast<unsigned long long>(s.throttled), s.allowed < 0 ? -1.0 : s.allowed);
    return out;
}

timeline_parse parse_sandbox_stats(std::string_view json) {
    timeline_parse out;
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(json, ec);
    if (ec || !v.is_object()) {
        out.error = "not a JSON object";
        return out;
    }
    const auto* limit = v.get_object().if_contains("global_rate_limit");
    if (!limit || !limit->is_object()) {
        out.error = "no global_rate_limit: the sandbox ran without --rate-limit-schedule";
        return out;
    }
    const auto* list = limit->get_object().if_contains("seconds");
    if (!list || !list->is_array()) {
        out.error = "global_rate_limit.seconds: expected an array";
        return out;
    }
    const auto& arr = list->get_array();
    for (std::size_t i = 0; i < arr.size(); ++i) {
        const auto where = "global_rate_limit.seconds[" + std::to_string(i) + "]";
        if (!arr[i].is_object()) {
            out.error = where + ": expected an object";
            return out;
        }
        const auto& o = arr[i].get_object();
        const auto second = number(o, "second"), lim = number(o, "limit"), acc = number(o, "accepted"),
                   thr = number(o, "throttled");
        if (!second || !lim || !acc || !thr) {
            out.error = where + ": expected the numbers second, limit, accepted and throttled";
            return out;
        }
        timeline_second s;
        s.second = static_cast<std::uint64_t>(*second);
        s.limit = *lim;
        s.accepted = static_cast<std::uint64_t>(*acc);
        s.throttled = static_cast<std::uint64_t>(*thr);
        if (!out.seconds.empty() && s.second != out.seconds.back().second + 1) {
            out.error = where + ": second " + std::to_string(s.second) + " does not follow " +
                        std::to_string(out.seconds.back().second);
            return out;
        }
        out.seconds.push_back(s);
    }
    if (out.seconds.empty()) out.error = "global_rate_limit.seconds: no second";
    return out;
}

std::string format_figures(const timeline_figures& f) {
    std::string out = format("adaptive rate: %llu s, accepted %s, 429s %s (%.2f %% of attempts)\n",
                             static_cast<unsigned long long>(f.seconds), grouped(f.accepted).c_str(),
                             grouped(f.throttled).c_str(), 100 * f.throttled_share());
    out += format("  %-8s %-9s %-14s %-26s %s\n", "limit", "seconds", "90 % after", "steady accepted / limit",
                  "429s in steady state");
    for (const auto& s : f.steps) {
        const std::string span = format("%llu-%llu", static_cast<unsigned long long>(s.first),
                                        static_cast<unsigned long long>(s.end));
        const std::string reach = s.to_90 ? format("%llu s", static_cast<unsigned long long>(*s.to_90)) : "not reached";
        const std::string steady =
            s.steady ? format("%.3f (from %llu s)", *s.steady, static_cast<unsigned long long>(s.first + f.settle_s))
                     : "(step too short)";
        const std::string throttled =
            s.steady ? format("%.2f %%", 100 * share(s.steady_throttled, s.steady_accepted + s.steady_throttled)) : "";
        out += format("  %-8s %-9s %-14s %-26s %s\n", format("%g/s", s.limit).c_str(), span.c_str(), reach.c_str(),
                      steady.c_str(), throttled.c_str());
    }
    return out;
}

std::string figures_headline(const timeline_figures& f) {
    std::string out = format("429s %.2f %% of %s attempts", 100 * f.throttled_share(),
                             grouped(f.accepted + f.throttled).c_str());
    std::string steady, reach;
    for (const auto& s : f.steps) {
        if (s.steady) steady += (steady.empty() ? "" : ", ") + format("%.2f (%g/s)", *s.steady, s.limit);
        reach += (reach.empty() ? "" : ", ") +
                 (s.to_90 ? format("%llu s", static_cast<unsigned long long>(*s.to_90)) : std::string("never"));
    }
    if (!steady.empty()) out += "; accepted / limit in steady state " + steady;
    if (!reach.empty()) out += "; 90 % of each limit after " + reach;
    return out;
}

}  // namespace catalyst::bench
