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
    /// The server's announced idle limit (`Keep-Alive: timeout=N`), zero when none.
    std::chrono::milliseconds server_idle_limit{0};
};

/// The `timeout=N` (seconds) of a `Keep-Alive` header value; zero when absent or malformed.
std::chrono::milliseconds parse_keep_alive_timeout(std::string_view value) noexcept;

/// How long before the server's announced idle limit we stop reusing a connection: a request
/// sent just before it would cross the server's close. Half of the limit, at most 1 s.
std::chrono::milliseconds keep_alive_margin(std::chrono::milliseconds server_limit) noexcept;

/// Why a connection is closed instead of being used for one more request; "" = keep it.
/// Checked after each response and again before a reuse, with the current time.
std::string_view close_reason(const connection_facts& c, const client_params& p,
                              std::chrono::steady_clock::time_point now) noexcept;

/// When an idle connection must be closed: before our `idle_timeout` and before the server's
/// announced limit (less `keep_alive_margin`) would race our next request. time_point::max()
/// when never.
std::chrono::steady_clock::time_point idle_deadline(const connection_facts& c, const client_params& p) noexcept;

}  // namespace catalyst::detail

#endif
