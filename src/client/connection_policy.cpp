#include "client/connection_policy.hpp"

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
    return {};
}

std::chrono::steady_clock::time_point idle_deadline(const connection_facts& c, const client_params& p) noexcept {
    auto at = std::chrono::steady_clock::time_point::max();
    if (p.idle_timeout.count() > 0) at = c.last_used + p.idle_timeout;
    if (p.max_connection_age.count() > 0 && c.opened + p.max_connection_age < at) at = c.opened + p.max_connection_age;
    return at;
}

bool should_open_connection(std::size_t queued, std::size_t idle, std::size_t connecting, std::size_t open,
                            std::size_t max_connections) noexcept {
    if (open >= max_connections) return false;
    return queued > idle + connecting;
}

}  // namespace catalyst::detail
