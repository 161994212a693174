#ifndef CATALYST_BENCH_DRIVER_HPP
#define CATALYST_BENCH_DRIVER_HPP

#include "histogram.hpp"
#include "schedule.hpp"

#include <catalyst/client.hpp>
#include <catalyst/session_request.hpp>

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <map>
#include <string>

namespace catalyst::bench {

/// What a phase (warm-up or measured run) counted.
struct phase_result {
    histogram latency;  ///< merged from every thread's own histogram
    std::uint64_t started = 0;
    std::uint64_t succeeded = 0;
    std::uint64_t failed = 0;
    std::map<std::string, std::uint64_t> errors;  ///< by kind: errc name, or the system message
    nanos wall{0};  ///< first send to last completion
};

/// Closed loop: `concurrency` chains, each starting its next request from the completion of
/// the previous one, until `plan` says stop; then waits for what is in flight.
/// Latency: from the send to the completion.
/// Runs `ioc` on the calling thread until done (the client may run there, or on its own threads).
phase_result run_closed_loop(boost::asio::io_context& ioc, client& c, const session_request& req,
                             unsigned concurrency, const closed_loop_plan& plan);

/// Open loop: requests leave at the times of `schedule` (timer on `ioc`) until `duration`
/// has passed or the schedule's limit is reached; at most `max_in_flight` outstanding (a
/// request that finds none free leaves late, and its latency still counts from its intended
/// time). Latency: from the intended send time to the completion.
phase_result run_open_loop(boost::asio::io_context& ioc, client& c, const session_request& req,
                           const open_loop_schedule& schedule, nanos duration, std::size_t max_in_flight);

}  // namespace catalyst::bench

#endif
