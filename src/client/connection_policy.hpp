#ifndef CATALYST_SRC_CLIENT_CONNECTION_POLICY_HPP
#define CATALYST_SRC_CLIENT_CONNECTION_POLICY_HPP

// The lifecycle of one pooled connection, as pure functions of its counters and a time.

#include <catalyst/client_params.hpp>

#include <chrono>
#include <string_view>

namespace catalyst::detail {

struct connection_facts {
    std::chrono::steady_clock::time_point opened;
    std::chrono::steady_clock::time_point last_used;  ///< end of the last response
    unsigned requests_served = 0;
    bool server_said_close = false;   ///< the last answer had `Connection: close` (or HTTP/1.0)
    bool broken = false;              ///< an I/O error, timeout or cancellation mid-exchange
};

/// Why a connection is closed instead of being used for one more request; "" = keep it.
/// Checked after each response and again before a reuse, with the current time.
std::string_view close_reason(const connection_facts& c, const client_params& p,
                              std::chrono::steady_clock::time_point now) noexcept;

/// When an idle connection must be closed: before the server's own idle timeout would race
/// our next request. time_point::max() when never.
std::chrono::steady_clock::time_point idle_deadline(const connection_facts& c, const client_params& p) noexcept;

/// Should the shard open one more connection? Only when requests wait, nobody idle can take
/// them, connections being opened will not cover them, and the cap allows.
bool should_open_connection(std::size_t queued, std::size_t idle, std::size_t connecting, std::size_t open,
                            std::size_t max_connections) noexcept;

}  // namespace catalyst::detail

#endif
