// A small load generator for bench/reference/compare.sh (not a test): keeps CATALYST_BENCH_CONCURRENCY
// sessions in flight for CATALYST_BENCH_SECONDS against CATALYST_BENCH_URL, trusting
// CATALYST_BENCH_CA, and prints what it did. CATALYST_BENCH_THREADS=N (default 1): the
// client owns N threads; 0: the client runs on this thread's io_context, through a strand
// (measured ~5-10% more CPU per request at 256 connections than one owned thread).
#include <catalyst/client.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <thread>

namespace net = boost::asio;

namespace {
const char* env(const char* name, const char* fallback) {
    const char* v = std::getenv(name);
    return v && *v ? v : fallback;
}

catalyst::session_request example_request() {
    catalyst::session_request r;
    r.campaign_id = "a1b2c3d4-e5f6-7890-abcd-ef1234567890";
    r.customer_ip = "203.0.113.50";
    r.lead.first_name = "Max";
    r.lead.last_name = "Mustermann";
    r.lead.email = "max@example.com";
    r.lead.country = "DE";
    return r;
}

struct driver {
    catalyst::client& c;
    catalyst::session_request req = example_request();
    std::chrono::steady_clock::time_point stop_at;
    std::atomic<std::uint64_t> ok{0}, failed{0};
    std::atomic<unsigned> running{0};
    std::function<void()> on_done;

    void next() {
        c.async_create_session(req, [this](boost::system::error_code ec, catalyst::session) {
            (ec ? failed : ok).fetch_add(1, std::memory_order_relaxed);
            if (std::chrono::steady_clock::now() < stop_at) next();
            else if (running.fetch_sub(1) == 1 && on_done) on_done();
        });
    }
};
}  // namespace

int main() {
    catalyst::client_params p;
    p.base_url = env("CATALYST_BENCH_URL", "https://127.0.0.1:18443/api/v1");
    // compare.sh hands the endpoint's URL; the client wants the API's base.
    if (auto at = p.base_url.rfind("/payment-sessions"); at != std::string::npos) p.base_url.resize(at);
    p.api_key = env("CATALYST_API_KEY", "rk_test_123");
    if (const char* ca = std::getenv("CATALYST_BENCH_CA")) {
        std::ifstream in(ca);
        std::stringstream ss;
        ss << in.rdbuf();
        // compare.sh hands a file path; accept PEM text as well.
        p.tls.ca_pem = ss.str().empty() ? std::string(ca) : ss.str();
    }
    const unsigned conc = static_cast<unsigned>(std::atoi(env("CATALYST_BENCH_CONCURRENCY", "64")));
    const double secs = std::atof(env("CATALYST_BENCH_SECONDS", "5"));
    const unsigned threads = static_cast<unsigned>(std::atoi(env("CATALYST_BENCH_THREADS", "1")));
    p.max_connections = conc;
    p.threads = threads;
    const auto stop_at = std::chrono::steady_clock::now() +
                         std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(secs));
    std::uint64_t ok = 0, failed = 0;
    std::string prom;
    if (threads == 0) {
        net::io_context ioc(1);
        catalyst::client c(ioc, p);
        driver d{c, example_request(), stop_at, {}, {}, {}, {}};
        d.running = conc;
        d.on_done = [&c] { c.async_shutdown(std::chrono::milliseconds(0), [](boost::system::error_code) {}); };
        for (unsigned i = 0; i < conc; ++i) d.next();
        ioc.run();
        ok = d.ok;
        failed = d.failed;
        prom = c.metrics().to_prometheus();
    } else {
        catalyst::client c(p);
        driver d{c, example_request(), stop_at, {}, {}, {}, {}};
        d.running = conc;
        for (unsigned i = 0; i < conc; ++i) d.next();
        while (d.running.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        ok = d.ok;
        failed = d.failed;
        prom = c.metrics().to_prometheus();
    }
    std::printf("ok %llu failed %llu\n", static_cast<unsigned long long>(ok), static_cast<unsigned long long>(failed));
    if (std::getenv("CATALYST_BENCH_METRICS")) std::cout << prom;
    return failed == 0 ? 0 : 1;
}
