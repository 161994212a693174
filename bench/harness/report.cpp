#include "report.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <cstdio>

namespace catalyst::bench {
namespace {

std::string printf_string(const char* fmt, auto... args) {
    char buf[256];
    int n = std::snprintf(buf, sizeof buf, fmt, args...);
    return std::string(buf, n < 0 ? 0 : static_cast<std::size_t>(n) < sizeof buf ? static_cast<std::size_t>(n) : sizeof buf - 1);
}

std::string row(const char* label, const std::string& value) {
    return printf_string("  %-24s %s\n", label, value.c_str());
}

void pretty(std::string& out, const boost::json::value& v, int indent) {
    // a small pretty-printer: Boost.JSON 1.81 has none, and one-line reports are hard to diff
    const std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
    if (v.is_object()) {
        const auto& o = v.get_object();
        if (o.empty()) { out += "{}"; return; }
        out += "{\n";
        bool first = true;
        for (const auto& kv : o) {
            if (!first) out += ",\n";
            first = false;
            out += pad + "  " + boost::json::serialize(boost::json::string_view(kv.key())) + ": ";
            pretty(out, kv.value(), indent + 1);
        }
        out += "\n" + pad + "}";
    } else if (v.is_array()) {
        const auto& a = v.get_array();
        if (a.empty()) { out += "[]"; return; }
        out += "[\n";
        bool first = true;
        for (const auto& e : a) {
            if (!first) out += ",\n";
            first = false;
            out += pad + "  ";
            pretty(out, e, indent + 1);
        }
        out += "\n" + pad + "]";
    } else {
        out += boost::json::serialize(v);
    }
}

}  // namespace

std::string format_latency(std::uint64_t ns) {
    if (ns < 1'000) return printf_string("%llu ns", static_cast<unsigned long long>(ns));
    if (ns < 1'000'000) return printf_string("%.0f us", static_cast<double>(ns) / 1e3);
    if (ns < 1'000'000'000) return printf_string("%.2f ms", static_cast<double>(ns) / 1e6);
    return printf_string("%.2f s", static_cast<double>(ns) / 1e9);
}

std::string format_bytes(std::uint64_t bytes) {
    if (bytes < 1'000'000) return printf_string("%.0f kB", static_cast<double>(bytes) / 1e3);
    return printf_string("%.1f MB", static_cast<double>(bytes) / 1e6);
}

std::string format_table(const run_result& r) {
    std::string out;
    out += "catalyst-bench: " + r.target + "\n";
    if (r.mode == "open")
        out += row("mode", printf_string("open loop at %.0f sessions/s (latency from the intended send time)", r.rate));
    else
        out += row("mode", printf_string("closed loop, %u in flight", r.concurrency));
    out += row("sessions", printf_string("%llu ok, %llu failed, %.2f s", static_cast<unsigned long long>(r.succeeded),
                                         static_cast<unsigned long long>(r.failed), r.wall_s));
    out += row("throughput", printf_string("%.0f sessions/s", r.sessions_per_s()));
    const auto& l = r.latency;
    out += row("latency", "p50 " + format_latency(l.p50_ns) + "  p90 " + format_latency(l.p90_ns) + "  p99 " +
                              format_latency(l.p99_ns) + "  p99.9 " + format_latency(l.p999_ns) + "  max " +
                              format_latency(l.max_ns));
    out += row("client CPU per session", printf_string("%.1f us%s", r.cpu_us_per_session(),
                                                       r.sandbox_in_process ? " (sandbox threads excluded)" : ""));
    out += row("process CPU", printf_string("%.2f s user, %.2f s sys", r.process_user_s, r.process_sys_s));
    out += row("peak RSS", format_bytes(r.peak_rss_bytes) + (r.sandbox_in_process ? " (sandbox included)" : ""));
    out += row("connections opened", std::to_string(r.connections_opened));
    out += row("TLS handshakes", printf_string("%llu full, %llu resumed", static_cast<unsigned long long>(r.tls_full),
                                               static_cast<unsigned long long>(r.tls_resumed)));
    out += row("retries", std::to_string(r.retries));
    if (r.errors.empty()) {
        out += row("errors", "none");
    } else {
        bool first = true;
        for (const auto& [kind, n] : r.errors) {
            out += row(first ? "errors" : "", printf_string("%llu %s", static_cast<unsigned long long>(n), kind.c_str()));
            first = false;
        }
    }
    return out;
}

std::string format_sweep_table(const std::vector<run_result>& runs) {
    std::string out = printf_string("%6s %10s %9s %9s %9s %9s %9s %10s %9s %6s %9s\n", "conc", "sessions/s", "p50", "p90",
                                    "p99", "p99.9", "max", "cpu us/s", "RSS", "conns", "errors");
    for (const auto& r : runs) {
        out += printf_string("%6u %10.0f %9s %9s %9s %9s %9s %10.1f %9s %6llu %9llu\n", r.concurrency, r.sessions_per_s(),
                             format_latency(r.latency.p50_ns).c_str(), format_latency(r.latency.p90_ns).c_str(),
                             format_latency(r.latency.p99_ns).c_str(), format_latency(r.latency.p999_ns).c_str(),
                             format_latency(r.latency.max_ns).c_str(), r.cpu_us_per_session(),
                             format_bytes(r.peak_rss_bytes).c_str(), static_cast<unsigned long long>(r.connections_opened),
                             static_cast<unsigned long long>(r.failed));
    }
    return out;
}

std::string format_brief(const run_result& r) {
    return printf_string("%.0f sessions/s, p99 %s, %.1f us CPU/session, %s peak RSS, %llu failed\n", r.sessions_per_s(),
                         format_latency(r.latency.p99_ns).c_str(), r.cpu_us_per_session(),
                         format_bytes(r.peak_rss_bytes).c_str(), static_cast<unsigned long long>(r.failed));
}

boost::json::value to_json(const run_result& r) {
    boost::json::object o;
    o["target"] = r.target;
    o["mode"] = r.mode;
    if (r.mode == "open") o["rate"] = r.rate;
    else o["concurrency"] = r.concurrency;
    o["started"] = r.started;
    o["succeeded"] = r.succeeded;
    o["failed"] = r.failed;
    o["wall_s"] = r.wall_s;
    o["sessions_per_s"] = r.sessions_per_s();
    boost::json::object lat;
    lat["count"] = r.latency.count;
    lat["mean_ns"] = r.latency.mean_ns;
    lat["min_ns"] = r.latency.min_ns;
    lat["p50_ns"] = r.latency.p50_ns;
    lat["p90_ns"] = r.latency.p90_ns;
    lat["p99_ns"] = r.latency.p99_ns;
    lat["p99_9_ns"] = r.latency.p999_ns;
    lat["max_ns"] = r.latency.max_ns;
    o["latency"] = std::move(lat);
    o["client_cpu_s"] = r.client_cpu_s;
    o["client_cpu_us_per_session"] = r.cpu_us_per_session();
    o["process_user_s"] = r.process_user_s;
    o["process_sys_s"] = r.process_sys_s;
    o["sandbox_in_process"] = r.sandbox_in_process;
    o["peak_rss_bytes"] = r.peak_rss_bytes;
    o["connections_opened"] = r.connections_opened;
    o["tls_handshakes_full"] = r.tls_full;
    o["tls_handshakes_resumed"] = r.tls_resumed;
    o["retries"] = r.retries;
    boost::json::object errs;
    for (const auto& [kind, n] : r.errors) errs[kind] = n;
    o["errors"] = std::move(errs);
    return o;
}

std::string to_json_report(const std::vector<run_result>& runs, const boost::json::value& machine) {
    boost::json::object top;
    top["machine"] = machine;
    boost::json::array arr;
    for (const auto& r : runs) arr.push_back(to_json(r));
    top["runs"] = std::move(arr);
    std::string out;
    pretty(out, top, 0);
    out += "\n";
    return out;
}

}  // namespace catalyst::bench
