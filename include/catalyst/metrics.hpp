#ifndef CATALYST_METRICS_HPP
#define CATALYST_METRICS_HPP

// OWNER: client issue (#4); fields may be added.

#include <array>
#include <cstdint>
#include <string>

namespace catalyst {

/// Counters of one client, read at any time with `client::metrics()` (a consistent-enough
/// snapshot: each counter is read atomically, not all at one instant).
struct metrics_snapshot {
    std::uint64_t requests = 0;       ///< calls accepted
    std::uint64_t successes = 0;
    std::uint64_t failures = 0;
    std::uint64_t retries = 0;
    std::uint64_t connections_opened = 0;
    std::uint64_t connections_closed = 0;
    std::uint64_t tls_handshakes_full = 0;
    std::uint64_t tls_handshakes_resumed = 0;
    std::uint64_t queue_waits = 0;    ///< requests that had to wait for a connection
    std::uint64_t in_flight = 0;

    /// Prometheus text exposition format (metric names `catalyst_client_*`).
    std::string to_prometheus() const;
};

}  // namespace catalyst

#endif
