// catalyst-bench: drives catalyst::client against the embedded sandbox or any URL and
// reports throughput, latency percentiles, CPU per session, peak RSS and connection counts.
// See bench/README.md.

#include "core/contract_example.hpp"
#include "chart.hpp"
#include "driver.hpp"
#include "options.hpp"
#include "rate_sampler.hpp"
#include "rate_timeline.hpp"
#include "report.hpp"
#include "resources.hpp"
#include "timeline_chart.hpp"

#include "cli/command_line.hpp"

#include <catalyst/openssl_block_cache.hpp>
#include <catalyst/client.hpp>
#include <catalyst/config.hpp>
#include <catalyst/sandbox.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <sys/utsname.h>
#include <thread>
#include <utility>
#include <vector>

namespace {

using namespace catalyst;
using namespace catalyst::bench;

// The contract's example request, the one bench/reference/wrk-post.lua sends, so that
// both sides of compare.sh do the same work.
session_request example_request() { return catalyst::detail::contract_example_request(); }

std::string read_file(const std::string& path, const char* what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(std::string(what) + " " + path + ": cannot be read");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string trim(std::string s) {
    auto notspace = [](unsigned char ch) { return !std::isspace(ch); };
    s.erase(s.begin(), std::find_if(s.begin(), s.end(), notspace));
    s.erase(std::find_if(s.rbegin(), s.rend(), notspace).base(), s.end());
    return s;
}

boost::json::value machine_info() {
    boost::json::object m;
    utsname u{};
    if (uname(&u) == 0) m["kernel"] = std::string(u.sysname) + " " + u.release + " " + u.machine;
    std::ifstream cpu("/proc/cpuinfo");
    for (std::string line; std::getline(cpu, line);) {
        if (line.rfind("model name", 0) == 0) {
            m["cpu"] = trim(line.substr(line.find(':') + 1));
            break;
        }
    }
    m["hardware_threads"] = std::thread::hardware_concurrency();
#if defined(__clang__)
    m["compiler"] = "clang " __clang_version__;
#elif defined(__GNUC__)
    m["compiler"] = "gcc " __VERSION__;
#endif
#ifdef NDEBUG
    m["assertions"] = false;
#else
    m["assertions"] = true;
#endif
    return m;
}

/// The embedded sandbox, with its threads told apart from the client's for CPU accounting.
struct embedded_target {
    std::unique_ptr<sandbox> server;
    std::vector<int> tids;  // threads the sandbox started
    /// When its rate-limit schedule started (with the server): second 0 of its counts.
    std::chrono::steady_clock::time_point schedule_origin;
    /// Seconds since then (the schedule's own clock).
    double elapsed_s() const {
        return static_cast<double>(server->stats().global_rate_limit.elapsed_ms) / 1000.0;
    }
};

embedded_target start_sandbox(std::vector<sandbox_rate_step> schedule) {
    embedded_target t;
    const auto before = thread_ids();
    sandbox_params sp;
    sp.rate_limit_schedule = std::move(schedule);
    t.server = std::make_unique<sandbox>(sp);
    t.server->start();
    for (int id : thread_ids())
        if (std::find(before.begin(), before.end(), id) == before.end()) t.tids.push_back(id);
    t.schedule_origin = std::chrono::steady_clock::now() -
                        std::chrono::milliseconds(t.server->stats().global_rate_limit.elapsed_ms);
    return t;
}

struct run_setup {
    const options& opts;
    client_params base;
    std::string target;
    embedded_target* embedded;  // nullptr with --url
    /// With a scheduled limit: the client's allowed rate, sampled during the measured phase.
    std::vector<std::pair<double, double>>* allowed_samples = nullptr;
};

run_result measure(const run_setup& s, unsigned concurrency, bool open_loop) {
    boost::asio::io_context ioc(1);
    client_params p = s.base;
    p.max_connections = s.opts.max_connections ? s.opts.max_connections : open_loop ? 64 : concurrency;
    p.queue_limit = std::max<std::size_t>(p.queue_limit, s.opts.max_in_flight);
    std::optional<client> c;
    if (p.threads == 0) c.emplace(ioc, p);
    else c.emplace(p);
    const session_request req = example_request();
    const std::size_t max_in_flight = s.opts.max_in_flight ? s.opts.max_in_flight : 100'000;

    auto run_phase = [&](double seconds, std::uint64_t sessions) {
        const nanos d(static_cast<std::int64_t>(seconds * 1e9));
        if (open_loop) return run_open_loop(ioc, *c, req, open_loop_schedule(s.opts.rate, sessions), d, max_in_flight);
        return run_closed_loop(ioc, *c, req, concurrency, closed_loop_plan{sessions, d});
    };
    if (s.opts.warmup_s > 0) run_phase(s.opts.warmup_s, 0);

    reset_peak_rss();
    const auto m0 = c->metrics();
    const auto cpu0 = process_cpu();
    const auto sb0 = s.embedded ? threads_cpu(s.embedded->tids) : nanos(0);
    std::optional<rate_sampler> sampler;
    if (s.allowed_samples && s.embedded) sampler.emplace(*c, s.embedded->schedule_origin);
    phase_result ph = run_phase(s.opts.duration_s, s.opts.sessions);
    if (sampler) *s.allowed_samples = sampler->stop();
    const auto cpu1 = process_cpu();
    const auto sb1 = s.embedded ? threads_cpu(s.embedded->tids) : nanos(0);
    const auto m1 = c->metrics();

    run_result r;
    r.target = s.target;
    r.mode = open_loop ? "open" : "closed";
    r.concurrency = open_loop ? 0 : concurrency;
    r.rate = open_loop ? s.opts.rate : 0;
    r.started = ph.started;
    r.succeeded = ph.succeeded;
    r.failed = ph.failed;
    r.wall_s = std::chrono::duration<double>(ph.wall).count();
    r.latency = summarize(ph.latency);
    const auto cpu = cpu1 - cpu0;
    r.process_user_s = std::chrono::duration<double>(cpu.user).count();
    r.process_sys_s = std::chrono::duration<double>(cpu.sys).count();
    r.client_cpu_s = std::max(0.0, std::chrono::duration<double>(cpu.total() - (sb1 - sb0)).count());
    r.sandbox_in_process = s.embedded != nullptr;
    r.peak_rss_bytes = peak_rss_bytes();
    r.connections_opened = m1.connections_opened - m0.connections_opened;
    r.tls_full = m1.tls_handshakes_full - m0.tls_handshakes_full;
    r.tls_resumed = m1.tls_handshakes_resumed - m0.tls_handshakes_resumed;
    r.retries = m1.retries - m0.retries;
    r.errors.assign(ph.errors.begin(), ph.errors.end());
    std::stable_sort(r.errors.begin(), r.errors.end(), [](auto& a, auto& b) { return a.second > b.second; });

    c.reset();
    // let the closed connections' last handlers run; bounded, in case something lingers
    ioc.restart();
    ioc.run_for(std::chrono::seconds(2));
    return r;
}

std::vector<chart_series> read_references(const options& o) {
    std::vector<chart_series> all;
    for (const auto& file : o.reference_files) {
        auto ref = parse_reference_series(read_file(file, "--reference"));
        if (!ref.error.empty()) throw std::runtime_error("--reference " + file + ": " + ref.error);
        all.push_back(std::move(ref.series));
    }
    return all;
}

void write_chart(const options& o, const std::vector<run_result>& runs, const std::string& default_title) {
    std::vector<chart_series> all;
    if (!runs.empty()) {
        chart_series s{"catalyst-bench sweep", {}};
        for (const auto& r : runs)
            s.points.push_back({static_cast<double>(r.concurrency), r.sessions_per_s(),
                                static_cast<double>(r.latency.p99_ns) / 1e6, r.cpu_us_per_session()});
        all.push_back(std::move(s));
    }
    for (auto& ref : read_references(o)) all.push_back(std::move(ref));
    std::ofstream out(o.chart_file, std::ios::binary);
    out << render_chart(o.chart_title.empty() ? default_title : o.chart_title, all);
    if (!out) throw std::runtime_error("--chart " + o.chart_file + ": cannot be written");
}

void write_file(const std::string& path, const std::string& content, const char* flag) {
    std::ofstream out(path, std::ios::binary);
    out << content;
    if (!out) throw std::runtime_error(std::string(flag) + " " + path + ": cannot be written");
}

// A run against a scheduled limit, second by second: the TSV, the chart over time, the figures.
void report_timeline(const options& o, const std::vector<timeline_second>& seconds, const std::string& title) {
    const timeline_figures f = summarize(seconds);
    if (!o.timeline_file.empty()) write_file(o.timeline_file, to_tsv(seconds), "--timeline");
    if (!o.chart_file.empty())
        write_file(o.chart_file, render_timeline_chart(o.chart_title.empty() ? title : o.chart_title, figures_headline(f), seconds),
                   "--chart");
    if (!o.json) std::cout << format_figures(f);
}

// The seconds of the embedded sandbox's limit that the load covered whole: from the first to
// the one in which the load ended (a timed run stops starting calls at its duration; what
// drains after it is not the client riding the limit).
std::vector<timeline_second> covered_seconds(const embedded_target& e, double load_end_s,
                                             const std::vector<std::pair<double, double>>& allowed) {
    std::vector<timeline_second> out;
    for (const auto& x : e.server->stats().global_rate_limit.seconds) {
        if (static_cast<double>(x.second + 1) > load_end_s + 1e-9) break;
        out.push_back({x.second, x.limit, x.accepted, x.throttled, -1});
    }
    set_allowed(out, allowed);
    return out;
}

// Without --duration or --sessions, a scheduled run lasts its timed steps plus 30 s.
double schedule_duration_s(const std::vector<sandbox_rate_step>& schedule) {
    double s = 30;
    for (const auto& step : schedule) s += std::chrono::duration<double>(step.duration).count();
    return s;
}

int run(const options& o) {
    if (o.chart_only) {
        write_chart(o, {}, "throughput and p99 latency by concurrency");
        return 0;
    }
    if (!o.sandbox_stats_file.empty()) {
        auto parsed = parse_sandbox_stats(read_file(o.sandbox_stats_file, "--sandbox-stats"));
        if (!parsed.error.empty()) throw std::runtime_error("--sandbox-stats " + o.sandbox_stats_file + ": " + parsed.error);
        report_timeline(o, parsed.seconds, "against a hidden rate limit (" + o.sandbox_stats_file + ")");
        return 0;
    }
    const bool scheduled = !o.rate_limit_schedule.empty();
    std::vector<sandbox_rate_step> schedule;
    if (scheduled) schedule = parse_rate_limit_schedule(o.rate_limit_schedule, "--rate-limit-schedule");
    // The client settings as every tool reads them: defaults, --config, CATALYST_*, the flags.
    auto resolved = cli::resolve(o.api);
    client_params p = std::move(resolved.params);
    std::optional<embedded_target> embedded;
    std::string target;
    if (scheduled && resolved.base_url_configured)
        throw config_error("--rate-limit-schedule", "limits the embedded sandbox; a base URL is configured (--config or CATALYST_BASE_URL)");
    if (!resolved.base_url_configured) {
        embedded = start_sandbox(schedule);
        p.base_url = embedded->server->base_url();
        p.tls.ca_file.clear();  // the embedded sandbox brings its own CA
        p.tls.ca_dir.clear();
        p.tls.ca_pem = embedded->server->ca_pem();
        target = "embedded sandbox (" + p.base_url + ", 1 thread)";
    } else {
        target = p.base_url;
    }
    if (p.api_key.empty()) p.api_key = "rk_test_123";  // the reference bench's key; accepted by the sandbox too
    p.threads = o.threads;
    if (scheduled) p.rate.mode = rate_mode::adaptive;
    check(p);

    options opts = o;
    if (opts.duration_from_schedule) opts.duration_s = schedule_duration_s(schedule);
    std::vector<std::pair<double, double>> allowed;
    run_setup setup{opts, p, target, embedded ? &*embedded : nullptr, scheduled ? &allowed : nullptr};
    std::vector<run_result> runs;
    std::vector<timeline_second> seconds;
    if (!o.sweep.empty()) {
        for (unsigned conc : o.sweep) {
            runs.push_back(measure(setup, conc, false));
            if (!o.json) std::fprintf(stderr, "  concurrency %u: %s", conc, format_brief(runs.back()).c_str());
        }
    } else if (scheduled) {
        const double start_s = embedded->elapsed_s();
        runs.push_back(measure(setup, opts.concurrency, false));
        const double end_s = opts.sessions ? embedded->elapsed_s() : start_s + opts.duration_s;
        seconds = covered_seconds(*embedded, end_s, allowed);
    } else {
        runs.push_back(measure(setup, o.concurrency, o.rate > 0));
    }
    if (embedded) embedded->server->stop();

    const std::string json = to_json_report(runs, machine_info());
    if (!o.output_file.empty()) {
        std::ofstream out(o.output_file, std::ios::binary);
        out << json;
        if (!out) throw std::runtime_error("--output " + o.output_file + ": cannot be written");
    }
    if (!o.chart_file.empty() && !scheduled)
        write_chart(o, runs, "catalyst client: throughput and p99 latency by concurrency (" + target + ")");
    if (o.json) std::cout << json;
    else if (o.brief) for (const auto& r : runs) std::cout << format_brief(r);
    else if (runs.size() > 1) std::cout << "catalyst-bench: " << target << "\n" << format_sweep_table(runs);
    else std::cout << format_table(runs.front());
    if (scheduled)
        report_timeline(o, seconds,
                        "catalyst adaptive rate against a hidden limit " + o.rate_limit_schedule + " (" +
                            std::to_string(opts.concurrency) + " in flight)");
    std::cout.flush();

    std::uint64_t ok = 0;
    for (const auto& r : runs) ok += r.succeeded;
    if (ok == 0) {
        std::fprintf(stderr, "catalyst-bench: no session was created (see the errors above)\n");
        return 1;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string_view> args(argv + 1, argv + argc);
    auto parsed = parse_options(args, [](const char* name) { return std::getenv(name); });
    if (!parsed.error.empty()) {
        std::fprintf(stderr, "catalyst-bench: %s\n", parsed.error.c_str());
        return 2;
    }
    if (parsed.opts.help) {
        std::cout << usage();
        return 0;
    }
    if (parsed.opts.version) {
        std::cout << cli::version_line("catalyst-bench") << "\n";
        return 0;
    }
    // First of all: OpenSSL takes allocation hooks only before its first allocation.
    if (parsed.opts.openssl_block_cache && !catalyst::install_openssl_block_cache()) {
        std::fprintf(stderr, "catalyst-bench: --openssl-block-cache: OpenSSL's allocator could not be replaced\n");
        return 2;
    }
    try {
        return run(parsed.opts);
    } catch (const std::exception& e) {  // config_error included: exit 2
        std::fprintf(stderr, "catalyst-bench: %s\n", e.what());
        return 2;
    }
}
