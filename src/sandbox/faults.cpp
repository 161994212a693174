#include "sandbox/faults.hpp"

#include <cmath>

namespace catalyst::sandbox_detail {

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
        // A latency of 0 ms injects nothing.
        if (p.delay.count() > 0) p.set(fault_kind::latency);
    }
    const auto fire = [&](fault_kind k) {
        const bool on = fires(f.*fault_table[static_cast<std::size_t>(k)].trigger, n, uniform);
        if (on) p.set(k);
        return on;
    };
    // The first fault that ends the exchange wins; the order is documented in sandbox.hpp.
    if (fire(fault_kind::close_after_read)) return p;
    if (!fire(fault_kind::throttle) && !fire(fault_kind::server_error) && fire(fault_kind::close_after_create)) return p;
    if (fire(fault_kind::reset_mid_response)) return p;
    if (fire(fault_kind::truncated_body)) return p;
    fire(fault_kind::garbage_body);
    fire(fault_kind::trickle);
    fire(fault_kind::connection_close);
    return p;
}

}  // namespace catalyst::sandbox_detail
