// catalyst-soak: ten minutes (by default) of closed-loop load on the client against a sandbox
// that injects faults, sampling resident memory and open descriptors of both every few
// seconds. Memory and descriptors must stay flat once warm: a leak per request or per
// connection shows up as a steady climb over hundreds of thousands of requests.
//
// The sandbox runs in a child process (forked before any thread exists), so that its ledger,
// which grows with every session by design, does not hide or fake a trend in the client.
//
//   catalyst-soak [--duration-s 600] [--sample-s 5] [--concurrency 64] [--connections 16]
//                 [--no-faults]
#include <catalyst/client.hpp>
#include <catalyst/sandbox.hpp>

#include <boost/asio/io_context.hpp>

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

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
    int duration_s = 600, sample_s = 5;
    unsigned concurrency = 64;
    std::size_t connections = 16;
    bool faults = true;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&] {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "%s needs a value\n", a.c_str());
                std::exit(2);
            }
            return std::atol(argv[++i]);
        };
        if (a == "--duration-s") duration_s = static_cast<int>(value());
        else if (a == "--sample-s") sample_s = static_cast<int>(value());
        else if (a == "--concurrency") concurrency = static_cast<unsigned>(value());
        else if (a == "--connections") connections = static_cast<std::size_t>(value());
        else if (a == "--no-faults") faults = false;
        else {
            std::fprintf(stderr, "usage: catalyst-soak [--duration-s N] [--sample-s N] [--concurrency N] "
                                 "[--connections N] [--no-faults]\n");
            return 2;
        }
    }
    if (duration_s < 1 || sample_s < 1 || concurrency < 1 || connections < 1) {
        std::fprintf(stderr, "every value must be >= 1\n");
        return 2;
    }

    int pipefd[2];
    if (::pipe(pipefd) != 0) return 1;
    const pid_t child = ::fork();
    if (child < 0) return 1;
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
        std::fprintf(stderr, "the sandbox did not start\n");
        return 1;
    }

    catalyst::client_params p;
    p.base_url = "https://127.0.0.1:" + hello.substr(0, nl) + "/api/v1";
    p.api_key = "rk_test_123";
    p.tls.ca_pem = hello.substr(nl + 1);
    p.max_connections = connections;
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
    {
        catalyst::client cl(p);
        std::function<void()> one;
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
            cl.async_create_session(r, [&](boost::system::error_code ec, catalyst::session) {
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
        std::vector<long> rss, fds;
        for (int t = sample_s; t <= duration_s; t += sample_s) {
            std::this_thread::sleep_until(t0 + std::chrono::seconds(t));
            const std::uint64_t done = ok.load() + failed.load();
            const long r = rss_kb(::getpid()), f = open_fds(::getpid());
            rss.push_back(r);
            fds.push_back(f);
            std::printf("%8d %10llu %10llu %8llu %9.0f %7ld %9ld %7ld %6ld\n", t,
                        static_cast<unsigned long long>(done), static_cast<unsigned long long>(ok.load()),
                        static_cast<unsigned long long>(failed.load()),
                        static_cast<double>(done - last_done) / sample_s, r, f, rss_kb(child), open_fds(child));
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
        // Flat: compare the second sample (warm) with the last.
        if (rss.size() >= 3) {
            long rmax = 0, fmax = 0;
            for (auto v : rss) rmax = std::max(rmax, v);
            for (auto v : fds) fmax = std::max(fmax, v);
            std::printf("client rss_kb: warm %ld, last %ld, max %ld; fds: warm %ld, last %ld, max %ld\n", rss[1],
                        rss.back(), rmax, fds[1], fds.back(), fmax);
        }
    }
    ::kill(child, SIGTERM);
    int status = 0;
    ::waitpid(child, &status, 0);
    return 0;
}
