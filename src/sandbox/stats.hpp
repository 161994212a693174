#ifndef CATALYST_SRC_SANDBOX_STATS_HPP
#define CATALYST_SRC_SANDBOX_STATS_HPP

// The sandbox's counters, bumped by every server thread (relaxed atomics), and their JSON
// for GET /sandbox/stats.

#include <catalyst/sandbox.hpp>

#include "sandbox/faults.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace catalyst::sandbox_detail {

struct stats_counters {
    std::atomic<std::uint64_t> connections{0}, connections_rejected{0}, requests{0}, created{0}, replayed{0},
        duplicates_rejected{0}, duplicates_reused{0}, idempotency_conflicts{0}, idempotency_in_progress{0},
        rate_limited{0}, malformed{0}, sessions_evicted{0}, idempotency_expired{0}, idempotency_evicted{0};
    std::array<std::atomic<std::uint64_t>, 600> by_status{};
    std::array<std::atomic<std::uint64_t>, fault_kind_count> faults{};

    void count_status(unsigned s) noexcept {
        if (s < by_status.size()) by_status[s].fetch_add(1, std::memory_order_relaxed);
    }
    void count_fault(fault_kind k) noexcept { faults[static_cast<unsigned>(k)].fetch_add(1, std::memory_order_relaxed); }
    /// The counters (the gauges and the global limit are the service's to fill in).
    sandbox_stats snapshot() const;
    /// Every counter back to 0 (POST /sandbox/reset).
    void zero() noexcept;
};

/// The body of GET /sandbox/stats.
std::string to_json(const sandbox_stats& s);
/// Its "global_rate_limit" member (also the answer of /sandbox/rate-limit-schedule): null
/// when the limit is off.
std::string to_json(const sandbox_global_limit_stats& g);

}  // namespace catalyst::sandbox_detail

#endif
