#include "sandbox/faults.hpp"

#include <cmath>

namespace catalyst::sandbox_detail {

std::string_view name(fault_kind k) noexcept {
    switch (k) {
    case fault_kind::latency: return "latency";
    case fault_kind::server_error: return "server_error";
    case fault_kind::throttle: return "throttle";
    case fault_kind::close_before_read: return "close_before_read";
    case fault_kind::close_after_read: return "close_after_read";
    case fault_kind::close_after_create: return "close_after_create";
    case fault_kind::reset_mid_response: return "reset_mid_response";
    case fault_kind::truncated_body: return "truncated_body";
    case fault_kind::garbage_body: return "garbage_body";
    case fault_kind::trickle: return "trickle";
    case fault_kind::connection_close: return "connection_close";
    case fault_kind::idle_timeout: return "idle_timeout";
    }
    return "unknown";
}

bool fires(const fault_trigger& t, std::uint64_t n, const uniform_source& uniform) {
    if (t.every_nth > 0 && n > 0 && n % t.every_nth == 0) return true;
    if (t.probability >= 1.0) return true;
    if (t.probability > 0 && uniform) return uniform() < t.probability;
    return false;
}

std::chrono::milliseconds pick_latency(const fault_params& f, double u) {
    if (f.latency_max <= f.latency_min) return f.latency_min;
    const auto span = static_cast<double>((f.latency_max - f.latency_min).count());
    auto extra = static_cast<long long>(std::floor(u * (span + 1)));
    if (extra > static_cast<long long>(span)) extra = static_cast<long long>(span);
    return f.latency_min + std::chrono::milliseconds(extra);
}

fault_plan plan_request_faults(const fault_params& f, std::uint64_t n, const uniform_source& uniform) {
    fault_plan p;
    if (fires(f.latency, n, uniform)) {
        p.delay = pick_latency(f, uniform ? uniform() : 0.0);
    }
    // The first fault that ends the exchange wins; the order is documented in sandbox.hpp.
    if (fires(f.close_after_read, n, uniform)) {
        p.close_after_read = true;
        return p;
    }
    if (fires(f.throttle, n, uniform)) {
        p.throttle = true;
    } else if (fires(f.server_error, n, uniform)) {
        p.server_error = true;
    } else if (fires(f.close_after_create, n, uniform)) {
        p.close_after_create = true;
        return p;
    }
    if (fires(f.reset_mid_response, n, uniform)) {
        p.reset_mid_response = true;
        return p;
    }
    if (fires(f.truncated_body, n, uniform)) {
        p.truncated_body = true;
        return p;
    }
    p.garbage_body = fires(f.garbage_body, n, uniform);
    p.trickle = fires(f.trickle, n, uniform);
    p.connection_close = fires(f.connection_close, n, uniform);
    return p;
}

}  // namespace catalyst::sandbox_detail
