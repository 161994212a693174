#ifndef CATALYST_SRC_SANDBOX_FAULTS_HPP
#define CATALYST_SRC_SANDBOX_FAULTS_HPP

// Which faults hit one request: a pure function of the settings, the request's index and a
// random source, so that it is tested without sockets or clocks.

#include <catalyst/sandbox.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string_view>

namespace catalyst::sandbox_detail {

enum class fault_kind : unsigned {
    latency,
    server_error,
    throttle,
    close_before_read,
    close_after_read,
    close_after_create,
    reset_mid_response,
    truncated_body,
    garbage_body,
    trickle,
    connection_close,
    idle_timeout,
};
inline constexpr std::size_t fault_kind_count = 12;

std::string_view name(fault_kind k) noexcept;

/// Uniform in [0, 1).
using uniform_source = std::function<double()>;

/// Does `t` fire on the n-th (1-based) eligible request? Draws from `uniform` only when the
/// trigger has a probability and every-N-th did not already fire.
bool fires(const fault_trigger& t, std::uint64_t n, const uniform_source& uniform);

/// What to do with one request under /api/, precedence already applied (at most one of the
/// "ending" faults is set; connection_close only when a whole answer is sent).
struct fault_plan {
    std::chrono::milliseconds delay{0};  ///< latency, 0 = none
    bool close_after_read = false;
    bool throttle = false;
    bool server_error = false;
    bool close_after_create = false;
    bool reset_mid_response = false;
    bool truncated_body = false;
    bool garbage_body = false;
    bool trickle = false;
    bool connection_close = false;

    /// The faults this plan injects, for the stats.
    template <class F>
    void for_each(F&& f) const {
        if (delay.count() > 0) f(fault_kind::latency);
        if (close_after_read) f(fault_kind::close_after_read);
        if (throttle) f(fault_kind::throttle);
        if (server_error) f(fault_kind::server_error);
        if (close_after_create) f(fault_kind::close_after_create);
        if (reset_mid_response) f(fault_kind::reset_mid_response);
        if (truncated_body) f(fault_kind::truncated_body);
        if (garbage_body) f(fault_kind::garbage_body);
        if (trickle) f(fault_kind::trickle);
        if (connection_close) f(fault_kind::connection_close);
    }
};

fault_plan plan_request_faults(const fault_params& f, std::uint64_t n, const uniform_source& uniform);

/// The latency of one request: `latency_min`, or uniform in [min, max] when max > min.
std::chrono::milliseconds pick_latency(const fault_params& f, double u);

}  // namespace catalyst::sandbox_detail

#endif
