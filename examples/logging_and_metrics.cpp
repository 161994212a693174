// Wiring the client into a service's logs and metrics.
//
// - Logs: `client::set_logger` takes one function (level, message). Here it drops everything
//   below a minimum level and writes one line per event with a timestamp, the shape most log
//   collectors take from stderr. catalyst never hands it the API key, an idempotency key or
//   a lead's personal fields, so the lines can go anywhere.
// - Failures: `diagnostics::to_string()` is one line, equally safe to log; it carries the
//   server's X-Request-Id when there is one.
// - Metrics: `client::metrics()` is readable from any thread at any time;
//   `to_prometheus()` is the text a Prometheus scrape expects (serve it on /metrics).
//
// Against the embedded sandbox, every third request is answered 503 so that retries show up
// in the log and in `catalyst_client_retries_total{reason="server_error"}`.
#include "example_env.hpp"

#include <catalyst/client.hpp>

#include <boost/asio/use_future.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <future>
#include <iostream>
#include <mutex>
#include <vector>

namespace {

/// A logger for `client::set_logger`: "2026-11-30T12:00:00Z warning catalyst: ..." on stderr,
/// nothing below `min_level`. The client calls it from its own threads, hence the mutex.
catalyst::log_function stderr_logger(catalyst::log_level min_level) {
    auto mutex = std::make_shared<std::mutex>();
    return [mutex, min_level](catalyst::log_level level, std::string_view message) {
        if (level < min_level) return;
        char when[32];
        const std::time_t now = std::time(nullptr);
        std::tm utc{};
        gmtime_r(&now, &utc);
        std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &utc);
        const std::lock_guard lock(*mutex);
        std::fprintf(stderr, "%s %.*s catalyst: %.*s\n", when, static_cast<int>(to_string(level).size()),
                     to_string(level).data(), static_cast<int>(message.size()), message.data());
    };
}

}  // namespace

int main() {
    auto target = example::make_target();
    example::every_third_request_fails(target);
    target.params.threads = 1;  // the client runs its own event loop
    catalyst::client client(target.params);
    client.set_logger(stderr_logger(catalyst::log_level::info));

    // Six sessions, each with its diagnostics, all in flight at once.
    constexpr int n = 6;
    std::vector<catalyst::session_request> requests;
    for (int i = 0; i < n; ++i) requests.push_back(example::example_request("buyer" + std::to_string(i) + "@example.com"));
    std::vector<catalyst::diagnostics> diags(n);
    const catalyst::request_options opts;
    std::vector<std::future<catalyst::session>> pending;
    for (int i = 0; i < n; ++i)
        pending.push_back(client.async_create_session(requests[i], opts, diags[i], boost::asio::use_future));

    int failures = 0;
    for (int i = 0; i < n; ++i) {
        try {
            const auto s = pending[i].get();
            std::cout << "session " << s.token << " after " << diags[i].attempts << " attempt(s)\n";
        } catch (const boost::system::system_error& e) {
            ++failures;
            std::cerr << "no session: " << e.code().message() << ": " << diags[i].to_string() << "\n";
        }
    }

    // What a /metrics endpoint would return (here: printed once).
    const auto m = client.metrics();
    std::cout << "\n" << m.to_prometheus();
    std::cout << "\n# " << m.successes << " created, " << m.failures << " failed, " << m.retries << " retries\n";

    // The graceful end: closes the keep-alive connections now rather than at idle_timeout.
    client.async_shutdown(std::chrono::seconds(5), boost::asio::use_future).get();

    // With the sandbox's 503s every call still succeeds, thanks to the retries it logged.
    const bool retried = !target.sandbox || m.retries > 0;
    return failures == 0 && retried ? 0 : 1;
}
