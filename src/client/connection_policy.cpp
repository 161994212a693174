#include "client/connection_policy.hpp"
#include "core/text.hpp"

#include <algorithm>

namespace catalyst::detail {

std::string_view close_reason(const connection_facts& c, const client_params& p,
                              std::chrono::steady_clock::time_point now) noexcept {
    if (c.broken) return "broken";
    if (c.server_said_close) return "server asked to close";
    if (p.max_requests_per_connection != 0 && c.requests_served >= p.max_requests_per_connection)
        return "max requests per connection";
    if (p.max_connection_age.count() > 0 && now - c.opened >= p.max_connection_age) return "max connection age";
    if (p.idle_timeout.count() > 0 && c.requests_served > 0 && now - c.last_used >= p.idle_timeout)
        return "idle timeout";
    if (c.server_idle_limit.count() > 0 && c.requests_served > 0 &&
        now - c.last_used >= c.server_idle_limit - keep_alive_margin(c.server_idle_limit))
        return "server's keep-alive timeout";
    return {};
}

std::chrono::milliseconds parse_keep_alive_timeout(std::string_view v) noexcept {
    // Comma-separated parameters; "timeout" case-insensitive, digits only.
    while (!v.empty()) {
        auto comma = v.find(',');
        const auto item = trim(v.substr(0, comma));
        constexpr std::string_view want = "timeout=";
        if (item.size() > want.size() && iequals(item.substr(0, want.size()), want)) {
            const auto digits = item.substr(want.size());
            if (digits.size() > 9) return std::chrono::milliseconds(0);
            long long n = 0;
            for (char c : digits) {
                if (c < '0' || c > '9') return std::chrono::milliseconds(0);
                n = n * 10 + (c - '0');
            }
            return std::chrono::milliseconds(n * 1000);
        }
        if (comma == std::string_view::npos) break;
        v.remove_prefix(comma + 1);
    }
    return std::chrono::milliseconds(0);
}

std::chrono::milliseconds keep_alive_margin(std::chrono::milliseconds server_limit) noexcept {
    return std::min(server_limit / 2, std::chrono::milliseconds(1000));
}

std::chrono::steady_clock::time_point idle_deadline(const connection_facts& c, const client_params& p) noexcept {
    auto at = std::chrono::steady_clock::time_point::max();
    if (p.idle_timeout.count() > 0) at = c.last_used + p.idle_timeout;
    if (p.max_connection_age.count() > 0 && c.opened + p.max_connection_age < at) at = c.opened + p.max_connection_age;
    if (c.server_idle_limit.count() > 0) {
        const auto server_at = c.last_used + c.server_idle_limit - keep_alive_margin(c.server_idle_limit);
        if (server_at < at) at = server_at;
    }
    return at;
}

}  // namespace catalyst::detail
