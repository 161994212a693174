#ifndef CATALYST_SRC_SANDBOX_FAULTS_HPP
#define CATALYST_SRC_SANDBOX_FAULTS_HPP

// The sandbox's faults: the one table of them, and which of them hit one request (a pure
// function of the settings, the request's index and a random source, so that it is tested
// without sockets or clocks).

#include <catalyst/sandbox.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string_view>

namespace catalyst::sandbox_detail {

// Every fault with a trigger: X(name, help). `name` is its member of `fault_params` and its
// name in config files, `--fault`, PUT /sandbox/faults and the stats; `help` is its line
// in `catalyst-sandbox --help`. Adding a fault: a `fault_trigger` member in fault_params,
// one row here, and its behaviour (plan_request_faults, server.cpp); a fault with extra
// settings also reads and writes them in config.cpp (read_extras, write_extras).
#define CATALYST_SANDBOX_FAULTS(X)                                                                          \
    X(latency, "sleep before answering (latency.min_ms, latency.max_ms)")                                    \
    X(server_error, "answer 500/502/503/504 unprocessed (server_error.status, .retry_after, .body)")         \
    X(throttle, "answer 429 with Retry-After unprocessed (throttle.retry_after)")                             \
    X(close_before_read, "close instead of reading the next request")                                        \
    X(close_after_read, "read the request, close without answering")                                         \
    X(close_after_create, "create the session, close without answering")                                     \
    X(reset_mid_response, "send part of the answer, then reset the connection")                               \
    X(truncated_body, "send the head and half the body, then close")                                         \
    X(garbage_body, "answer with a body that is not JSON")                                                   \
    X(trickle, "send the answer one byte at a time (trickle.delay_ms)")                                      \
    X(connection_close, "add Connection: close and close after the answer")

enum class fault_kind : unsigned {
#define CATALYST_SANDBOX_FAULT_KIND(name, help) name,
    CATALYST_SANDBOX_FAULTS(CATALYST_SANDBOX_FAULT_KIND)
#undef CATALYST_SANDBOX_FAULT_KIND
    /// Not a trigger: `fault_params::idle_timeout` (setting `idle_timeout_ms`), counted when
    /// the short keep-alive timeout closes a connection.
    idle_timeout,
};
inline constexpr std::size_t fault_trigger_count = static_cast<std::size_t>(fault_kind::idle_timeout);
inline constexpr std::size_t fault_kind_count = fault_trigger_count + 1;

struct fault_row {
    std::string_view name;
    fault_trigger fault_params::*trigger;
    std::string_view help;
};

/// The faults with a trigger, in `fault_kind` order.
inline constexpr std::array<fault_row, fault_trigger_count> fault_table = {{
#define CATALYST_SANDBOX_FAULT_ROW(name, help) {#name, &fault_params::name, help},
    CATALYST_SANDBOX_FAULTS(CATALYST_SANDBOX_FAULT_ROW)
#undef CATALYST_SANDBOX_FAULT_ROW
}};

inline constexpr std::string_view idle_timeout_help = "keep-alive idle timeout instead of limits.idle_timeout_ms";

constexpr std::string_view name(fault_kind k) noexcept {
    return k == fault_kind::idle_timeout ? std::string_view("idle_timeout") : fault_table[static_cast<std::size_t>(k)].name;
}

/// Uniform in [0, 1).
using uniform_source = std::function<double()>;

/// Does `t` fire on the n-th (1-based) eligible request? Draws from `uniform` only when the
/// trigger has a probability and every-N-th did not already fire.
bool fires(const fault_trigger& t, std::uint64_t n, const uniform_source& uniform);

/// What to do with one request under /api/, precedence already applied (at most one of the
/// "ending" faults is set; connection_close only when a whole answer is sent).
struct fault_plan {
    std::chrono::milliseconds delay{0};  ///< latency, 0 = none

    bool has(fault_kind k) const noexcept { return (fired_ >> static_cast<unsigned>(k)) & 1u; }
    void set(fault_kind k) noexcept { fired_ |= 1u << static_cast<unsigned>(k); }
    /// The faults this plan injects, for the stats.
    template <class F>
    void for_each(F&& f) const {
        for (std::size_t i = 0; i < fault_kind_count; ++i)
            if (has(static_cast<fault_kind>(i))) f(static_cast<fault_kind>(i));
    }

private:
    static_assert(fault_kind_count <= 32);
    std::uint32_t fired_ = 0;
};

fault_plan plan_request_faults(const fault_params& f, std::uint64_t n, const uniform_source& uniform);

/// The latency of one request: `latency_min`, or uniform in [min, max] when max > min.
std::chrono::milliseconds pick_latency(const fault_params& f, double u);

}  // namespace catalyst::sandbox_detail

#endif
