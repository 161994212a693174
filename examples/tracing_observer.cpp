// Tracing and per-attempt metrics with `client_observer`.
//
// - Tracing: each call gets a W3C trace context. The caller sends it as a per-call
//   `traceparent` header (`request_options::headers`, the same on every attempt) and hands the
//   same text to the observer (`request_options::observer_context`), which records one span
//   per attempt: status, errc, retry reason, connection new/resumed/reused, bytes, durations.
//   A real service would pass the span to its tracer (OpenTelemetry, say) instead of printing.
// - Metrics: a second observer counts attempts by outcome and connection use and keeps a
//   histogram of attempt durations, exposed in the Prometheus text format beside the
//   client's own `metrics().to_prometheus()`.
//
// Against the embedded sandbox, every third request is answered 503: the retried call shows
// two spans under one trace id.
#include "example_env.hpp"

#include <catalyst/client.hpp>
#include <catalyst/observer.hpp>

#include <boost/asio/use_future.hpp>

#include <array>
#include <atomic>
#include <cstdio>
#include <future>
#include <iostream>
#include <mutex>
#include <random>
#include <string>
#include <vector>

namespace {

/// `bytes` random bytes as lower-case hex (a trace id is 16 bytes, a span id 8).
std::string random_hex(std::size_t bytes) {
    static std::mutex mutex;
    static std::mt19937_64 rng{std::random_device{}()};
    static constexpr char digits[] = "0123456789abcdef";
    std::lock_guard lock(mutex);
    std::string out;
    for (std::size_t i = 0; i < bytes; ++i) {
        const auto b = static_cast<unsigned>(rng() & 0xff);
        out += digits[b >> 4];
        out += digits[b & 0xf];
    }
    return out;
}

/// One span per attempt, printed as a line; the call's traceparent is its parent.
class trace_observer : public catalyst::client_observer {
public:
    void on_attempt_start(const catalyst::attempt_start_event& e) override {
        starts_.fetch_add(1, std::memory_order_relaxed);
        (void)e;
    }
    void on_attempt_end(const catalyst::attempt_end_event& e) override {
        ends_.fetch_add(1, std::memory_order_relaxed);
        const std::lock_guard lock(mutex_);
        // context = "00-<trace id>-<parent span id>-01"
        std::printf("span trace=%.32s parent=%.16s attempt=%u status=%u error=%s retried=%s reason=%s "
                    "connection=%s sent=%zuB received=%zuB queue=%lldus connect=%lldus tls=%lldus ttfb=%lldus "
                    "total=%lldus request_id=%.*s\n",
                    e.context.size() >= 35 ? e.context.data() + 3 : "-", e.context.size() >= 52 ? e.context.data() + 36 : "-",
                    e.attempt, e.http_status, e.error ? e.error.message().c_str() : "none", e.retried ? "yes" : "no",
                    std::string(to_string(e.reason)).c_str(), std::string(to_string(e.connection)).c_str(), e.bytes_sent,
                    e.bytes_received, static_cast<long long>(e.queue_wait.count()),
                    static_cast<long long>(e.connect.count()), static_cast<long long>(e.tls_handshake.count()),
                    static_cast<long long>(e.time_to_first_byte.count()), static_cast<long long>(e.total.count()),
                    static_cast<int>(e.request_id.size()), e.request_id.data());
    }
    std::uint64_t starts() const { return starts_.load(); }
    std::uint64_t ends() const { return ends_.load(); }

private:
    std::mutex mutex_;
    std::atomic<std::uint64_t> starts_{0}, ends_{0};
};

/// Attempts by outcome and connection use, and attempt durations, for a Prometheus scrape.
class prometheus_observer : public catalyst::client_observer {
public:
    void on_attempt_end(const catalyst::attempt_end_event& e) override {
        const std::size_t outcome = !e.error ? 0 : e.retried ? 1 : 2;
        attempts_[outcome][static_cast<std::size_t>(e.connection)].fetch_add(1, std::memory_order_relaxed);
        const double secs = std::chrono::duration<double>(e.total).count();
        std::size_t b = 0;
        while (b < catalyst::latency_bucket_bounds.size() && secs > catalyst::latency_bucket_bounds[b]) ++b;
        buckets_[b].fetch_add(1, std::memory_order_relaxed);
        sum_us_.fetch_add(static_cast<std::uint64_t>(e.total.count()), std::memory_order_relaxed);
    }
    std::string to_prometheus() const {
        static constexpr const char* outcomes[] = {"success", "retried", "failed"};
        static constexpr catalyst::connection_use uses[] = {
            catalyst::connection_use::none, catalyst::connection_use::new_connection,
            catalyst::connection_use::new_resumed, catalyst::connection_use::reused};
        std::string out = "# HELP app_catalyst_attempts_total Attempts by outcome and connection use.\n"
                          "# TYPE app_catalyst_attempts_total counter\n";
        for (std::size_t o = 0; o < 3; ++o)
            for (auto u : uses)
                out += "app_catalyst_attempts_total{outcome=\"" + std::string(outcomes[o]) + "\",connection=\"" +
                       std::string(to_string(u)) + "\"} " +
                       std::to_string(attempts_[o][static_cast<std::size_t>(u)].load()) + "\n";
        out += "# HELP app_catalyst_attempt_duration_seconds One attempt, from leaving the queue to its end.\n"
               "# TYPE app_catalyst_attempt_duration_seconds histogram\n";
        std::uint64_t cumulative = 0;
        for (std::size_t b = 0; b < buckets_.size(); ++b) {
            cumulative += buckets_[b].load();
            char le[32];
            if (b < catalyst::latency_bucket_bounds.size()) std::snprintf(le, sizeof le, "%g", catalyst::latency_bucket_bounds[b]);
            else std::snprintf(le, sizeof le, "+Inf");
            out += "app_catalyst_attempt_duration_seconds_bucket{le=\"" + std::string(le) + "\"} " + std::to_string(cumulative) + "\n";
        }
        char sum[32];
        std::snprintf(sum, sizeof sum, "%g", static_cast<double>(sum_us_.load()) / 1e6);
        out += "app_catalyst_attempt_duration_seconds_sum " + std::string(sum) + "\n";
        out += "app_catalyst_attempt_duration_seconds_count " + std::to_string(cumulative) + "\n";
        return out;
    }

private:
    std::array<std::array<std::atomic<std::uint64_t>, 4>, 3> attempts_{};
    std::array<std::atomic<std::uint64_t>, catalyst::latency_bucket_bounds.size() + 1> buckets_{};
    std::atomic<std::uint64_t> sum_us_{0};
};

/// One client has one observer: this one hands every event to several.
class fan_out : public catalyst::client_observer {
public:
    explicit fan_out(std::vector<std::shared_ptr<catalyst::client_observer>> to) : to_(std::move(to)) {}
    void on_attempt_start(const catalyst::attempt_start_event& e) override {
        for (auto& o : to_) o->on_attempt_start(e);
    }
    void on_attempt_end(const catalyst::attempt_end_event& e) override {
        for (auto& o : to_) o->on_attempt_end(e);
    }

private:
    std::vector<std::shared_ptr<catalyst::client_observer>> to_;
};

}  // namespace

int main() {
    auto target = example::make_target();
    example::every_third_request_fails(target);
    auto tracer = std::make_shared<trace_observer>();
    auto prom = std::make_shared<prometheus_observer>();
    target.params.observer = std::make_shared<fan_out>(std::vector<std::shared_ptr<catalyst::client_observer>>{tracer, prom});
    target.params.metrics_labels = {{"client", "checkout"}};
    target.params.threads = 1;
    catalyst::client client(target.params);

    constexpr int n = 4;
    int failures = 0;
    for (int i = 0; i < n; ++i) {
        // A new trace per call here; a service would continue the trace of the request it serves.
        const std::string traceparent = "00-" + random_hex(16) + "-" + random_hex(8) + "-01";
        catalyst::request_options opts;
        opts.headers = {{"traceparent", traceparent}};
        opts.observer_context = traceparent;
        catalyst::diagnostics diag;
        const auto req = example::example_request("buyer" + std::to_string(i) + "@example.com");
        try {
            const auto s = client.async_create_session(req, opts, diag, boost::asio::use_future).get();
            std::cout << "session " << s.token << " (trace " << traceparent.substr(3, 32) << ")\n";
        } catch (const boost::system::system_error& e) {
            ++failures;
            std::cerr << "no session: " << e.code().message() << ": " << diag.to_string() << "\n";
        }
    }

    // A /metrics endpoint would serve both: the client's own families and the observer's.
    std::cout << "\n" << client.metrics().to_prometheus() << prom->to_prometheus();

    client.async_shutdown(std::chrono::seconds(5), boost::asio::use_future).get();
    // Every attempt that started has ended, and the 503 was retried (two spans, one trace).
    const bool paired = tracer->starts() == tracer->ends() && tracer->starts() > static_cast<std::uint64_t>(n - 1);
    const bool retried = !target.sandbox || tracer->starts() > static_cast<std::uint64_t>(n);
    return failures == 0 && paired && retried ? 0 : 1;
}
