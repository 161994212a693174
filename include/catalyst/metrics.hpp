#ifndef CATALYST_METRICS_HPP
#define CATALYST_METRICS_HPP

#include <catalyst/export.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace catalyst {

/// Upper bounds (seconds) of the latency histogram's buckets, a fixed log scale from 1 ms to
/// 120 s (past the default overall timeout of 60 s, so that calls that end at their deadline
/// land in a bucket of their own); a last, implicit bucket is +Inf. Fixed so that histograms
/// of several clients and several runs can be added up.
inline constexpr std::array<double, 16> latency_bucket_bounds = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0};

/// Slots of `metrics_snapshot::failures_by_errc`: index = the `catalyst::errc` value (0 unused).
inline constexpr std::size_t metrics_errc_slots = 21;
/// Slots of `metrics_snapshot::retries_by_reason`: index = the `catalyst::retry_reason` value.
inline constexpr std::size_t metrics_retry_reason_slots = 8;

/// Counters of one client, read at any time with `client::metrics()` (a consistent-enough
/// snapshot: each counter is read atomically, not all at one instant).
struct CATALYST_DECL metrics_snapshot {
    std::uint64_t requests = 0;       ///< calls accepted (validation failures included)
    std::uint64_t successes = 0;
    std::uint64_t failures = 0;       ///< completions with an error, all codes
    std::uint64_t retries = 0;        ///< attempts after the first, stale-connection resends included
    std::uint64_t connections_opened = 0;  ///< TCP connections established
    std::uint64_t connections_closed = 0;
    std::uint64_t tls_handshakes_full = 0;
    std::uint64_t tls_handshakes_resumed = 0;
    std::uint64_t queue_waits = 0;    ///< requests that had to wait for a connection
    std::uint64_t in_flight = 0;      ///< accepted and not yet completed
    std::uint64_t open_connections = 0;  ///< gauge: connections established and not closed
    std::uint64_t queued = 0;         ///< gauge: calls waiting for a connection (queue depth)
    std::uint64_t backing_off = 0;    ///< gauge: calls waiting before their next attempt

    /// gauge: requests/s the client allows itself now (`rate_params`): in adaptive mode the
    /// controller's current rate, in fixed mode `rate_per_second`; 0 = no limit.
    double rate_allowed = 0;
    /// gauge: seconds left of a `Retry-After` pause of the origin (adaptive mode), 0 = none.
    double rate_pause_seconds = 0;
    /// Times a call found no send slot and waited (the rate or a `Retry-After` pause held it).
    std::uint64_t rate_waits = 0;
    /// Calls the adaptive mode's client-side throttling refused without sending them.
    std::uint64_t rate_local_rejects = 0;

    /// Failures by code: `failures_by_errc[static_cast<int>(errc::timeout)]`.
    std::array<std::uint64_t, metrics_errc_slots> failures_by_errc{};
    /// Retries by reason: `retries_by_reason[static_cast<int>(retry_reason::rate_limited)]`.
    std::array<std::uint64_t, metrics_retry_reason_slots> retries_by_reason{};

    /// Latency from the call to the completion, of every completed request: the count per
    /// bucket (NOT cumulative; `to_prometheus` accumulates), the last one being +Inf.
    std::array<std::uint64_t, latency_bucket_bounds.size() + 1> latency_buckets{};
    double latency_sum_seconds = 0;
    std::uint64_t latency_count = 0;

    /// Constant labels put on every sample by `to_prometheus` (from
    /// `client_params::metrics_labels`; names checked there), so that two clients in one
    /// process can be told apart.
    std::vector<std::pair<std::string, std::string>> labels;

    /// Prometheus text exposition format (version 0.0.4), with HELP and TYPE lines:
    /// `catalyst_client_requests_total`, `catalyst_client_failures_total{code="timeout"}`,
    /// `catalyst_client_retries_total{reason="rate_limited"}`, connection and TLS counters,
    /// the gauges `catalyst_client_in_flight`, `catalyst_client_open_connections`,
    /// `catalyst_client_queue_depth` and `catalyst_client_backing_off`, the rate's gauges
    /// `catalyst_client_rate_allowed` (requests/s) and `catalyst_client_rate_pause_seconds`
    /// and counters `catalyst_client_rate_waits_total` and
    /// `catalyst_client_rate_local_rejects_total`, and the histogram
    /// `catalyst_client_request_duration_seconds` (`_bucket{le=...}`, `_sum`, `_count`).
    /// `labels` come first on every sample, values escaped (\\, \", \n); a label whose name
    /// is not a valid Prometheus label name is left out. Clean for `promtool check metrics`.
    std::string to_prometheus() const;
};

/// Several clients' snapshots in one exposition (one scrape of a process with two clients):
/// each family's HELP and TYPE once, then the samples of every snapshot, which must differ
/// by their `labels` (give each client its own `client_params::metrics_labels`).
CATALYST_DECL std::string to_prometheus(const std::vector<metrics_snapshot>& clients);

}  // namespace catalyst

#endif
