// catalyst-soak: ten minutes (by default) of closed-loop load on the client against a sandbox
// that injects faults, sampling resident memory and open descriptors of both every few
// seconds. Memory and descriptors must stay flat once warm: a leak per request or per
// connection shows up as a steady climb over hundreds of thousands of requests.
//
// The sandbox runs in a child process (forked before any thread exists), so that its ledger,
// which grows with every session by design, does not hide or fake a trend in the client.
//
// It fails (exit 1) when a threshold is crossed: error rate, p99 latency, client memory or
// descriptor growth from the warm sample to the end, so that CI can run it. See --help.
#include "cli/command_line.hpp"
#include "cli/values.hpp"
#include "histogram.hpp"
#include "verdict.hpp"

#include <catalyst/client.hpp>
#include <catalyst/sandbox.hpp>

#include <boost/asio/io_context.hpp>

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using std::chrono::nanoseconds;

struct soak_options {
    nanoseconds duration = 600s;
    nanoseconds sample = 5s;
    unsigned concurrency = 64;
    std::size_t connections = 16;
    bool no_faults = false;
    catalyst::soak::thresholds limits;  ///< max_error_rate: 0.001 with --no-faults unless given
};

void describe(catalyst::cli::command_line& cl, soak_options& o) {
    namespace cli = catalyst::cli;
    cl.section("Load");
    cl.duration("--duration,--duration-s", "how long (default 10m; a plain number counts seconds)", 1s,
                [&o](nanoseconds d) {
                    if (d < 1s) throw cli::value_error("expected at least 1s");
                    o.duration = d;
                });
    cl.duration("--sample,--sample-s", "RSS and descriptors sampled this often (default 5s; plain: seconds)", 1s,
                [&o](nanoseconds d) {
                    if (d < 1s) throw cli::value_error("expected at least 1s");
                    o.sample = d;
                });
    cl.whole("--concurrency", "sessions in flight (default 64)", 1, 100'000,
             [&o](std::uint64_t n) { o.concurrency = static_cast<unsigned>(n); });
    cl.whole("--connections", "client connection cap (default 16)", 1, 100'000,
             [&o](std::uint64_t n) { o.connections = n; });
    cl.flag("--no-faults", "the sandbox injects no fault", o.no_faults);
    cl.section("Thresholds (exit 1 when one is crossed)");
    cl.number("--max-error-rate", "failed sessions / all, after retries (default 0.25 with faults, 0.001 without)", 0, 1,
              o.limits.max_error_rate);
    cl.duration("--max-p99", "99th percentile of a session's latency, retries included (default 5s; plain: ms)", 1ms,
                [&o](nanoseconds d) { o.limits.max_p99 = d; });
    cl.whole("--max-rss-growth-kib", "client resident memory, last samples over the warm one (default 8192)", 0,
             UINT64_MAX, [&o](std::uint64_t n) { o.limits.max_rss_growth_kib = n; });
    cl.whole("--max-fd-growth", "client open descriptors, last sample over the warm one (default 8)", 0, UINT64_MAX,
             [&o](std::uint64_t n) { o.limits.max_fd_growth = n; });
    cl.footer("Memory and descriptors are judged from the second sample (warm) to the end; with fewer than\n"
              "three samples they are not judged (said on stderr).\n\n" +
              cli::exit_codes_text({{0, "every threshold held"},
                                    {1, "a threshold was crossed (each one named on stderr)"},
                                    {2, "usage error (the message names the flag)"},
                                    {3, "the sandbox child could not be started"}}));
}

long rss_kb(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
    return -1;
}

long open_fds(pid_t pid) {
    const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    DIR* d = ::opendir(dir.c_str());
    if (!d) return -1;
    long n = 0;
    while (const dirent* e = ::readdir(d))
        if (e->d_name[0] != '.') ++n;
    ::closedir(d);
    return pid == ::getpid() ? n - 1 : n;
}

catalyst::fault_params soak_faults() {
    catalyst::fault_params f;
    f.latency.probability = 0.05;
    f.latency_min = 1ms;
    f.latency_max = 20ms;
    f.server_error.every_nth = 29;
    f.throttle.every_nth = 97;
    f.throttle_retry_after = 1;
    f.close_before_read.every_nth = 31;
    f.close_after_read.every_nth = 37;
    f.close_after_create.every_nth = 41;
    f.reset_mid_response.every_nth = 43;
    f.truncated_body.every_nth = 47;
    f.garbage_body.every_nth = 53;
    f.trickle.every_nth = 59;
    f.trickle_delay = 0ms;
    f.connection_close.every_nth = 13;
    return f;
}

// The child: a sandbox until SIGTERM. Writes "port\n" then the CA PEM to `out`.
[[noreturn]] void run_sandbox(int out, bool faults) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);  // the sandbox's threads inherit the mask
    catalyst::sandbox_params p;
    p.threads = 1;
    if (faults) p.faults = soak_faults();
    catalyst::sandbox sb(p);
    sb.start();
    std::string hello = std::to_string(sb.port()) + "\n" + sb.ca_pem();
    if (::write(out, hello.data(), hello.size()) < 0) std::_Exit(2);
    ::close(out);
    int sig = 0;
    sigwait(&set, &sig);
    sb.stop();
    std::_Exit(0);
}

}  // namespace

int main(int argc, char** argv) {
    soak_options o;
    {
        catalyst::cli::command_line cl("catalyst-soak",
                                       "catalyst-soak: sustained closed-loop load on one client against a sandbox "
                                       "that injects faults; fails when errors, latency, memory or descriptors climb.");
        describe(cl, o);
        if (auto code = catalyst::cli::parse_or_exit(cl, argc, argv)) return *code;
        if (o.no_faults && !cl.given("--max-error-rate")) o.limits.max_error_rate = 0.001;
    }
    const bool faults = !o.no_faults;
    const auto sample_s = std::chrono::duration_cast<std::chrono::seconds>(o.sample).count();
    const auto duration_s = std::chrono::duration_cast<std::chrono::seconds>(o.duration).count();
    const unsigned concurrency = o.concurrency;

    int pipefd[2];
    if (::pipe(pipefd) != 0) return 3;
    const pid_t child = ::fork();
    if (child < 0) return 3;
    if (child == 0) {
        ::close(pipefd[0]);
        run_sandbox(pipefd[1], faults);
    }
    ::close(pipefd[1]);
    std::string hello;
    char buf[4096];
    for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) > 0;) hello.append(buf, static_cast<std::size_t>(n));
    ::close(pipefd[0]);
    const auto nl = hello.find('\n');
    if (nl == std::string::npos) {
        std::fprintf(stderr, "catalyst-soak: the sandbox did not start\n");
        return 3;
    }

    catalyst::client_params p;
    p.base_url = "https://127.0.0.1:" + hello.substr(0, nl) + "/api/v1";
    p.api_key = "rk_test_123";
    p.tls.ca_pem = hello.substr(nl + 1);
    p.max_connections = o.connections;
    p.threads = 1;
    p.retry.base_backoff = 5ms;
    p.retry.max_backoff = 100ms;
    p.retry.max_retry_after = 2s;
    p.attempt_timeout = 5s;
    p.overall_timeout = 20s;

    std::atomic<std::uint64_t> started{0}, ok{0}, failed{0};
    std::mutex m;
    std::map<std::string, std::uint64_t> by_error;
    std::atomic<bool> stopping{false};
    std::atomic<unsigned> in_flight{0};
    catalyst::bench::histogram latency;  // written on the client's one thread, read after it ends
    std::vector<long> rss, fds;
    {
        // Declared before the client, so destroyed after it: the last completion handlers run
        // on the client's thread and call `one` until the client is gone.
        std::function<void()> one;
        catalyst::client cl(p);
        one = [&] {
            if (stopping.load()) return;
            const auto n = started.fetch_add(1);
            catalyst::session_request r;
            r.campaign_id = "a1b2c3d4-e5f6-7890-abcd-ef1234567890";
            r.lead.first_name = "Soak";
            r.lead.last_name = "Test";
            r.lead.email = "soak" + std::to_string(n) + "@example.com";
            r.lead.country = "FR";
            in_flight.fetch_add(1);
            const auto sent = std::chrono::steady_clock::now();
            cl.async_create_session(r, [&, sent](boost::system::error_code ec, catalyst::session) {
                latency.record(static_cast<std::uint64_t>((std::chrono::steady_clock::now() - sent).count()));
                if (ec) {
                    failed.fetch_add(1);
                    std::lock_guard lock(m);
                    ++by_error[ec.message()];
                } else {
                    ok.fetch_add(1);
                }
                in_flight.fetch_sub(1);
                one();
            });
        };
        for (unsigned k = 0; k < concurrency; ++k) one();

        std::printf("%8s %10s %10s %8s %9s %7s %9s %7s %6s\n", "t_s", "done", "ok", "failed", "req/s", "rss_kb",
                    "fds", "sbx_rss", "sbx_fds");
        const auto t0 = std::chrono::steady_clock::now();
        std::uint64_t last_done = 0;
        for (long long t = sample_s; t <= duration_s; t += sample_s) {
            std::this_thread::sleep_until(t0 + std::chrono::seconds(t));
            const std::uint64_t done = ok.load() + failed.load();
            const long r = rss_kb(::getpid()), f = open_fds(::getpid());
            rss.push_back(r);
            fds.push_back(f);
            std::printf("%8lld %10llu %10llu %8llu %9.0f %7ld %9ld %7ld %6ld\n", t,
                        static_cast<unsigned long long>(done), static_cast<unsigned long long>(ok.load()),
                        static_cast<unsigned long long>(failed.load()),
                        static_cast<double>(done - last_done) / static_cast<double>(sample_s), r, f, rss_kb(child), open_fds(child));
            std::fflush(stdout);
            last_done = done;
        }
        stopping = true;
        for (int i = 0; i < 3000 && in_flight.load() > 0; ++i) std::this_thread::sleep_for(10ms);
        const auto mt = cl.metrics();
        std::printf("\nrequests %llu ok %llu failed %llu retries %llu connections opened %llu closed %llu\n",
                    static_cast<unsigned long long>(ok.load() + failed.load()),
                    static_cast<unsigned long long>(ok.load()), static_cast<unsigned long long>(failed.load()),
                    static_cast<unsigned long long>(mt.retries),
                    static_cast<unsigned long long>(mt.connections_opened),
                    static_cast<unsigned long long>(mt.connections_closed));
        {
            std::lock_guard lock(m);
            for (const auto& [e, n] : by_error) std::printf("  error %-40s %llu\n", e.c_str(), static_cast<unsigned long long>(n));
        }
    }
    ::kill(child, SIGTERM);
    int status = 0;
    ::waitpid(child, &status, 0);

    // The verdict: every threshold, each crossing named.
    catalyst::soak::run_figures run{ok.load(), failed.load(), nanoseconds(latency.percentile(99)), rss, fds};
    const std::uint64_t done = run.ok + run.failed;
    std::printf("error rate %.4f (max %.4f); latency p50 %.1f ms p99 %.1f ms (max %.1f ms)\n",
                done ? static_cast<double>(run.failed) / static_cast<double>(done) : 0.0, o.limits.max_error_rate,
                static_cast<double>(latency.percentile(50)) / 1e6, static_cast<double>(run.p99.count()) / 1e6,
                static_cast<double>(o.limits.max_p99.count()) / 1e6);
    if (rss.size() >= 3)
        std::printf("client rss_kb: warm %ld, last %ld, max %ld; fds: warm %ld, last %ld, max %ld\n", rss[1],
                    rss.back(), *std::max_element(rss.begin(), rss.end()), fds[1], fds.back(),
                    *std::max_element(fds.begin(), fds.end()));
    const auto v = catalyst::soak::judge(run, o.limits);
    if (!v.memory_judged)
        std::fprintf(stderr, "catalyst-soak: memory and descriptors not judged: %zu samples (3 needed; raise "
                             "--duration or lower --sample)\n", rss.size());
    for (const auto& c : v.crossed) std::fprintf(stderr, "catalyst-soak: FAIL %s\n", c.c_str());
    return v.crossed.empty() ? 0 : 1;
}
