#include <catalyst/diagnostics.hpp>
#include <catalyst/error.hpp>
#include <catalyst/metrics.hpp>

#include <cstdio>

namespace catalyst {
namespace {

void counter(std::string& out, const char* name, const char* help, std::uint64_t v) {
    out += "# HELP catalyst_client_";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE catalyst_client_";
    out += name;
    out += " counter\ncatalyst_client_";
    out += name;
    out += ' ';
    out += std::to_string(v);
    out += '\n';
}

std::string format_double(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.15g", v);
    return buf;
}

}  // namespace

std::string metrics_snapshot::to_prometheus() const {
    std::string out;
    out.reserve(4096);
    counter(out, "requests_total", "Create-session calls accepted.", requests);
    counter(out, "successes_total", "Sessions created, replayed or reused.", successes);

    out += "# HELP catalyst_client_failures_total Calls that completed with an error, by code.\n"
           "# TYPE catalyst_client_failures_total counter\n";
    for (std::size_t i = 1; i < failures_by_errc.size(); ++i) {
        auto name = to_string(static_cast<errc>(i));
        if (name.empty()) continue;
        out += "catalyst_client_failures_total{code=\"";
        out += name;
        out += "\"} ";
        out += std::to_string(failures_by_errc[i]);
        out += '\n';
    }
    out += "# HELP catalyst_client_retries_total Attempts after the first, by reason.\n"
           "# TYPE catalyst_client_retries_total counter\n";
    for (std::size_t i = 1; i < retries_by_reason.size(); ++i) {
        out += "catalyst_client_retries_total{reason=\"";
        out += to_string(static_cast<retry_reason>(i));
        out += "\"} ";
        out += std::to_string(retries_by_reason[i]);
        out += '\n';
    }
    counter(out, "connections_opened_total", "TCP connections established.", connections_opened);
    counter(out, "connections_closed_total", "Connections closed.", connections_closed);
    out += "# HELP catalyst_client_tls_handshakes_total TLS handshakes, full or resumed.\n"
           "# TYPE catalyst_client_tls_handshakes_total counter\n"
           "catalyst_client_tls_handshakes_total{kind=\"full\"} " + std::to_string(tls_handshakes_full) +
           "\ncatalyst_client_tls_handshakes_total{kind=\"resumed\"} " + std::to_string(tls_handshakes_resumed) + "\n";
    counter(out, "queue_waits_total", "Requests that waited for a connection.", queue_waits);
    out += "# HELP catalyst_client_in_flight Calls accepted and not completed.\n"
           "# TYPE catalyst_client_in_flight gauge\ncatalyst_client_in_flight " + std::to_string(in_flight) + "\n";

    out += "# HELP catalyst_client_request_duration_seconds Time from the call to its completion.\n"
           "# TYPE catalyst_client_request_duration_seconds histogram\n";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < latency_buckets.size(); ++i) {
        cumulative += latency_buckets[i];
        out += "catalyst_client_request_duration_seconds_bucket{le=\"";
        out += i < latency_bucket_bounds.size() ? format_double(latency_bucket_bounds[i]) : std::string("+Inf");
        out += "\"} ";
        out += std::to_string(cumulative);
        out += '\n';
    }
    out += "catalyst_client_request_duration_seconds_sum " + format_double(latency_sum_seconds) + "\n";
    out += "catalyst_client_request_duration_seconds_count " + std::to_string(latency_count) + "\n";
    return out;
}

}  // namespace catalyst
