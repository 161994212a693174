#include <catalyst/diagnostics.hpp>
#include <catalyst/error.hpp>
#include <catalyst/metrics.hpp>

#include "core/label_rules.hpp"

#include <cstdio>
#include <string_view>

namespace catalyst {
namespace {

// Label values are escaped as the exposition format says: backslash, double quote, newline.
void append_escaped(std::string& out, std::string_view v) {
    for (char c : v) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
}

// Writes samples: the name, the constant labels and at most one label of its own, the value.
class writer {
public:
    writer(std::string& out, const std::vector<std::pair<std::string, std::string>>& labels) : out_(out) {
        for (const auto& [name, value] : labels) {
            if (!detail::prometheus_label_name(name)) continue;
            if (!constant_.empty()) constant_ += ',';
            constant_ += name;
            constant_ += "=\"";
            append_escaped(constant_, value);
            constant_ += '"';
        }
    }
    void family(std::string_view name, std::string_view type, std::string_view help) {
        out_ += "# HELP catalyst_client_";
        out_ += name;
        out_ += ' ';
        out_ += help;
        out_ += "\n# TYPE catalyst_client_";
        out_ += name;
        out_ += ' ';
        out_ += type;
        out_ += '\n';
    }
    void sample(std::string_view name, std::string_view value, std::string_view label = {},
                std::string_view label_value = {}) {
        out_ += "catalyst_client_";
        out_ += name;
        if (!constant_.empty() || !label.empty()) {
            out_ += '{';
            out_ += constant_;
            if (!label.empty()) {
                if (!constant_.empty()) out_ += ',';
                out_ += label;
                out_ += "=\"";
                append_escaped(out_, label_value);
                out_ += '"';
            }
            out_ += '}';
        }
        out_ += ' ';
        out_ += value;
        out_ += '\n';
    }
    void single(std::string_view name, std::string_view type, std::string_view help, std::uint64_t v) {
        family(name, type, help);
        sample(name, std::to_string(v));
    }

private:
    std::string& out_;
    std::string constant_;
};

std::string format_double(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.15g", v);
    return buf;
}

}  // namespace

std::string metrics_snapshot::to_prometheus() const {
    std::string out;
    out.reserve(4096);
    writer w(out, labels);
    w.single("requests_total", "counter", "Create-session calls accepted.", requests);
    w.single("successes_total", "counter", "Sessions created, replayed or reused.", successes);

    w.family("failures_total", "counter", "Calls that completed with an error, by code.");
    for (std::size_t i = 1; i < failures_by_errc.size(); ++i) {
        auto name = to_string(static_cast<errc>(i));
        if (name.empty()) continue;
        w.sample("failures_total", std::to_string(failures_by_errc[i]), "code", name);
    }
    w.family("retries_total", "counter", "Attempts after the first, by reason.");
    for (std::size_t i = 1; i < retries_by_reason.size(); ++i)
        w.sample("retries_total", std::to_string(retries_by_reason[i]), "reason", to_string(static_cast<retry_reason>(i)));
    w.single("connections_opened_total", "counter", "TCP connections established.", connections_opened);
    w.single("connections_closed_total", "counter", "Connections closed.", connections_closed);
    w.family("tls_handshakes_total", "counter", "TLS handshakes, full or resumed.");
    w.sample("tls_handshakes_total", std::to_string(tls_handshakes_full), "kind", "full");
    w.sample("tls_handshakes_total", std::to_string(tls_handshakes_resumed), "kind", "resumed");
    w.single("queue_waits_total", "counter", "Requests that waited for a connection.", queue_waits);
    w.single("in_flight", "gauge", "Calls accepted and not completed.", in_flight);
    w.single("open_connections", "gauge", "Connections established and not closed.", open_connections);
    w.single("queue_depth", "gauge", "Calls waiting for a connection.", queued);
    w.single("backing_off", "gauge", "Calls waiting before their next attempt.", backing_off);
    w.family("rate_allowed", "gauge", "Requests per second the client allows itself now (0 = no limit).");
    w.sample("rate_allowed", format_double(rate_allowed));
    w.family("rate_pause_seconds", "gauge", "Seconds left of a Retry-After pause of the origin.");
    w.sample("rate_pause_seconds", format_double(rate_pause_seconds));
    w.single("rate_waits_total", "counter", "Times a call waited for a send slot (the rate or a Retry-After pause).",
             rate_waits);
    w.single("rate_local_rejects_total", "counter", "Calls refused by client-side throttling, never sent.",
             rate_local_rejects);

    w.family("request_duration_seconds", "histogram", "Time from the call to its completion.");
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < latency_buckets.size(); ++i) {
        cumulative += latency_buckets[i];
        w.sample("request_duration_seconds_bucket", std::to_string(cumulative), "le",
                 i < latency_bucket_bounds.size() ? format_double(latency_bucket_bounds[i]) : std::string("+Inf"));
    }
    w.sample("request_duration_seconds_sum", format_double(latency_sum_seconds));
    w.sample("request_duration_seconds_count", std::to_string(latency_count));
    return out;
}

std::string to_prometheus(const std::vector<metrics_snapshot>& clients) {
    // Every snapshot's text has the same families in the same order, each starting with its
    // HELP line: family i of the result is family i's two header lines, once, and then the
    // samples of family i of every snapshot.
    std::vector<std::vector<std::string_view>> blocks;  // per snapshot, per family
    std::vector<std::string> texts;
    texts.reserve(clients.size());
    for (const auto& m : clients) {
        texts.push_back(m.to_prometheus());
        std::string_view t = texts.back();
        std::vector<std::string_view> families;
        for (std::size_t at = 0; at < t.size();) {
            std::size_t next = t.find("\n# HELP ", at);
            next = next == std::string_view::npos ? t.size() : next + 1;
            families.push_back(t.substr(at, next - at));
            at = next;
        }
        blocks.push_back(std::move(families));
    }
    std::string out;
    if (blocks.empty()) return out;
    for (std::size_t f = 0; f < blocks.front().size(); ++f) {
        for (std::size_t c = 0; c < blocks.size(); ++c) {
            std::string_view b = blocks[c][f];
            if (c > 0) {  // skip the HELP and TYPE lines
                for (int line = 0; line < 2; ++line) b.remove_prefix(b.find('\n') + 1);
            }
            out += b;
        }
    }
    return out;
}

}  // namespace catalyst
