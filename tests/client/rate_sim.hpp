#ifndef CATALYST_TESTS_CLIENT_RATE_SIM_HPP
#define CATALYST_TESTS_CLIENT_RATE_SIM_HPP

// A deterministic discrete-event simulation of clients driven by rate_controller against a
// rate-limited server: fake time, no sockets, no threads, a seeded generator. The server is a
// token bucket whose rate follows a schedule (its limit, unknown to the clients), holding
// 1/20 s of it, and answers 429 above it; each client plays the part of the client's shard:
// a queue of calls that each wait for a send slot and for room under the concurrency cap,
// and a call throttled goes back to the front of the queue (the same call, asked again).

#include "client/rate_controller.hpp"

#include <array>
#include <cstdint>
#include <vector>

namespace catalyst::test {

/// From `from_s` on, the server accepts `limit` requests/s (0: it throttles everything).
/// `retry_after_s` > 0 puts that Retry-After on its 429s instead of the server's own.
struct limit_step {
    double from_s = 0;
    double limit = 0;
    double retry_after_s = 0;
};

enum class retry_after_style {
    none,           ///< 429s carry no Retry-After
    whole_seconds,  ///< the wait for the next token rounded up to whole seconds, at least 1 (as DRF)
};

struct sim_server {
    std::vector<limit_step> schedule{{0, 400, 0}};
    double burst_s = 0.05;  ///< the bucket holds this much of the limit (at least one request)
    retry_after_style retry_after = retry_after_style::whole_seconds;
};

struct sim_client {
    rate_params rate;            ///< the mode is taken as adaptive
    double offered = 0;          ///< calls arriving per second, evenly spaced; 0: `backlog` only
    std::uint64_t backlog = 0;   ///< calls queued at the start
    double latency_min_s = 0.005;  ///< answer latency, uniform in [min, max]
    double latency_max_s = 0.020;
    bool record_sends = false;   ///< keep every send time (seconds) in `sim_client_result::sends`
};

struct second_counts {
    std::uint64_t sent = 0;       ///< attempts the server saw in that second
    std::uint64_t accepted = 0;
    std::uint64_t throttled = 0;
};

struct sim_client_result {
    std::vector<second_counts> seconds;  ///< index: the whole second the server saw the attempt in
    std::vector<double> allowed_rate;    ///< the controller's rate at each whole second
    std::uint64_t calls = 0;             ///< calls that entered the queue
    std::uint64_t accepted_calls = 0;    ///< calls accepted at least once
    std::uint64_t duplicates = 0;        ///< acceptances beyond the first of a call (must stay 0)
    std::uint64_t max_in_flight = 0;
    double all_done_s = -1;              ///< when the last call of the backlog was accepted (-1: never)
    std::array<std::uint64_t, 4> decisions{};  ///< events by rate_decision
    std::vector<double> sends;           ///< with `record_sends`
    detail::rate_controller::counters counts;
    std::size_t final_concurrency_cap = 0;

    std::uint64_t sum(std::uint64_t second_counts::*field, std::size_t from_s, std::size_t to_s) const;
};

struct sim_result {
    std::vector<sim_client_result> clients;
    std::vector<second_counts> total;  ///< all clients together, per second
    std::uint64_t events = 0;          ///< events the simulation processed
};

/// Runs `clients` against `server` for `duration_s` simulated seconds, or until every client's
/// backlog is accepted when no client has an offered stream. Deterministic for a `seed`.
sim_result simulate(const sim_server& server, const std::vector<sim_client>& clients, double duration_s,
                    std::uint64_t seed = 1);

/// The adaptive rate_params the simulations start from (the library's defaults).
rate_params adaptive_defaults();

}  // namespace catalyst::test

#endif
