#include "sandbox/rate_schedule.hpp"

#include "core/text.hpp"

#include <catalyst/diagnostics.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace catalyst {

namespace {

constexpr std::size_t max_steps = 1000;
constexpr double max_rate = 1e9;
constexpr auto max_step = std::chrono::hours(24 * 366);

std::string show_duration(std::chrono::milliseconds d) {
    using namespace std::chrono;
    const auto ms = d.count();
    if (ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
    if (ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
    if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
    return std::to_string(ms) + "ms";
}

}  // namespace

std::vector<sandbox_rate_step> parse_rate_limit_schedule(std::string_view text, const std::string& key) {
    std::vector<sandbox_rate_step> out;
    if (detail::trim(text).empty())
        throw sandbox_config_error(key, "empty: expected RATE@DURATION,...,RATE (e.g. 400@15s,200@15s,400)");
    std::size_t number = 0;
    while (true) {
        ++number;
        const auto comma = text.find(',');
        const std::string_view raw = text.substr(0, comma);
        const std::string_view item = detail::trim(raw);
        const bool last = comma == std::string_view::npos;
        const auto refuse = [&](const std::string& why) {
            // The text is the sender's (a request body): quoted as a bounded, valid UTF-8 excerpt.
            throw sandbox_config_error(key, "item " + std::to_string(number) + " '" + bounded_excerpt(item, 64) +
                                                "': " + why);
        };
        if (number > max_steps) refuse("more than " + std::to_string(max_steps) + " steps");
        const auto at = item.find('@');
        sandbox_rate_step step;
        const std::string_view rate_text = item.substr(0, at);
        if (!detail::parse_finite(rate_text, step.rate) || !(step.rate > 0) || step.rate > max_rate)
            refuse("the rate must be a number of requests per second above 0 (at most 1e9), got '" +
                   bounded_excerpt(rate_text, 64) + "'");
        if (at == std::string_view::npos) {
            if (!last) refuse("needs a duration (RATE@DURATION, e.g. 400@15s): only the last step lasts for ever");
        } else {
            if (last)
                refuse("the last step has no duration (it lasts for ever): write '" + std::string(rate_text) +
                       "' instead");
            const std::string_view d = item.substr(at + 1);
            std::chrono::nanoseconds ns{};
            if (!detail::parse_duration(d, std::chrono::nanoseconds(0), ns))
                refuse("expected a duration with its unit after '@' (500ms, 15s, 2m, 1h), got '" +
                       bounded_excerpt(d, 64) + "'");
            step.duration = std::chrono::duration_cast<std::chrono::milliseconds>(ns);
            if (step.duration.count() < 1) refuse("the duration must be at least 1ms");
            if (step.duration > max_step) refuse("the duration must be at most 366 days");
        }
        out.push_back(step);
        if (last) break;
        text.remove_prefix(comma + 1);
    }
    return out;
}

std::string to_string(const std::vector<sandbox_rate_step>& schedule) {
    std::string out;
    for (std::size_t i = 0; i < schedule.size(); ++i) {
        if (i) out += ',';
        out += sandbox_detail::format_rate(schedule[i].rate);
        if (i + 1 < schedule.size()) out += '@' + show_duration(schedule[i].duration);
    }
    return out;
}

namespace sandbox_detail {

std::string format_rate(double rate) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.15g", rate);
    return buf;
}

double global_rate_limiter::burst_for(double rate) noexcept { return std::max(1.0, rate / 20); }

void global_rate_limiter::start(std::vector<sandbox_rate_step> schedule, time_point now) {
    std::lock_guard lock(m_);
    steps_ = std::move(schedule);
    on_.store(!steps_.empty(), std::memory_order_relaxed);
    start_ = now;
    step_ = 0;
    ring_.fill({});
    accepted_ = throttled_ = 0;
    if (steps_.empty()) {
        bucket_ = detail::token_bucket(0, 0, now);
        return;
    }
    const double rate = steps_.front().rate;
    bucket_ = detail::token_bucket(rate, burst_for(rate), now);
    step_end_ = steps_.size() == 1 ? time_point::max() : now + steps_.front().duration;
}

void global_rate_limiter::restart(time_point now) {
    std::vector<sandbox_rate_step> steps;
    {
        std::lock_guard lock(m_);
        steps = steps_;
    }
    start(std::move(steps), now);
}

void global_rate_limiter::advance(time_point now) {
    while (step_ + 1 < steps_.size() && now >= step_end_) {
        const time_point boundary = step_end_;
        ++step_;
        const double rate = steps_[step_].rate;
        bucket_.set_rate(rate, burst_for(rate), boundary);
        step_end_ = step_ + 1 < steps_.size() ? boundary + steps_[step_].duration : time_point::max();
    }
}

double global_rate_limiter::rate_at(std::chrono::nanoseconds offset) const {
    std::chrono::nanoseconds end{0};
    for (std::size_t i = 0; i + 1 < steps_.size(); ++i) {
        end += steps_[i].duration;
        if (offset < end) return steps_[i].rate;
    }
    return steps_.back().rate;
}

std::uint64_t global_rate_limiter::second_of(time_point now) const {
    return now <= start_ ? 0 : static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(now - start_).count());
}

unsigned global_rate_limiter::admit(time_point now) {
    std::lock_guard lock(m_);
    if (steps_.empty()) return 0;  // switched off since the caller looked
    advance(now);
    const bool ok = bucket_.try_take(now);
    const std::uint64_t second = second_of(now);
    auto& slot = ring_[second % ring_seconds];
    if (slot.second != second) slot = {second, rate_at(std::chrono::seconds(second)), 0, 0};
    if (ok) {
        ++slot.accepted;
        ++accepted_;
        return 0;
    }
    ++slot.throttled;
    ++throttled_;
    return bucket_.wait_seconds(now);
}

sandbox_global_limit_stats global_rate_limiter::snapshot(time_point now) {
    std::lock_guard lock(m_);
    sandbox_global_limit_stats s;
    if (steps_.empty()) return s;
    advance(now);
    s.enabled = true;
    s.schedule = to_string(steps_);
    s.elapsed_ms = now <= start_ ? 0 : static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now - start_).count());
    s.limit = steps_[step_].rate;
    s.burst = burst_for(s.limit);
    s.accepted = accepted_;
    s.throttled = throttled_;
    const std::uint64_t current = second_of(now);
    const std::uint64_t first = current >= ring_seconds - 1 ? current - (ring_seconds - 1) : 0;
    s.seconds.reserve(static_cast<std::size_t>(current - first + 1));
    for (std::uint64_t sec = first; sec <= current; ++sec) {
        const auto& slot = ring_[sec % ring_seconds];
        if (slot.second == sec) s.seconds.push_back({sec, slot.limit, slot.accepted, slot.throttled});
        else s.seconds.push_back({sec, rate_at(std::chrono::seconds(sec)), 0, 0});
    }
    return s;
}

void global_rate_limiter::zero() {
    std::lock_guard lock(m_);
    ring_.fill({});
    accepted_ = throttled_ = 0;
}

}  // namespace sandbox_detail
}  // namespace catalyst
