#include "options.hpp"

#include "cli/values.hpp"

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>

namespace catalyst::bench {
namespace {

bool to_unsigned(std::string_view s, std::uint64_t& out) {
    if (s.empty()) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::vector<unsigned> parse_list(std::string_view s) {
    std::vector<unsigned> out;
    while (true) {
        auto comma = s.find(',');
        std::uint64_t v = 0;
        if (!to_unsigned(s.substr(0, comma), v) || v == 0 || v > 1'000'000) return {};
        out.push_back(static_cast<unsigned>(v));
        if (comma == std::string_view::npos) break;
        s.remove_prefix(comma + 1);
    }
    return out;
}

std::string base_url_from(std::string_view url) {
    std::string u(url);
    for (std::string_view tail : {"/payment-sessions/", "/payment-sessions"}) {
        if (u.size() >= tail.size() && u.compare(u.size() - tail.size(), tail.size(), tail) == 0) {
            u.resize(u.size() - tail.size());
            break;
        }
    }
    while (!u.empty() && u.back() == '/') u.pop_back();
    return u;
}

namespace {

using std::chrono::nanoseconds;

double seconds_of(nanoseconds d) { return std::chrono::duration<double>(d).count(); }

// Every flag of catalyst-bench, bound to `o`.
void describe(cli::command_line& cl, options& o) {
    using namespace std::chrono_literals;
    cl.section("Load");
    cl.whole("--sessions,-n", "stop after N sessions (instead of --duration)", 1, UINT64_MAX,
             [&o](std::uint64_t n) { o.sessions = n; });
    cl.duration("--duration,-d", "run this long (default 5s; a plain number counts seconds)", 1s, [&o](nanoseconds d) {
          if (d <= nanoseconds(0)) throw cli::value_error("expected a positive duration, got 0");
          o.duration_s = seconds_of(d);
      }).env("CATALYST_BENCH_SECONDS");
    cl.whole("--concurrency,-c", "closed loop: C sessions in flight (default 64)", 1, 1'000'000,
             [&o](std::uint64_t n) { o.concurrency = static_cast<unsigned>(n); })
        .env("CATALYST_BENCH_CONCURRENCY");
    cl.number("--rate,-r", "open loop: R sessions/s, latency from the intended send time", 1e-9, 1e9, o.rate);
    cl.value("--sweep", "1,16,64,256", "one closed-loop run per concurrency", [&o](const std::string& v) {
        o.sweep = parse_list(v);
        if (o.sweep.empty()) throw cli::value_error("expected concurrencies such as 1,16,64,256, got '" + v + "'");
    });
    cl.duration("--warmup", "run this long before measuring (a plain number counts seconds)", 1s,
                [&o](nanoseconds d) { o.warmup_s = seconds_of(d); });

    cl.text("--rate-limit-schedule", "SCHEDULE",
            "the embedded sandbox limits all requests along SCHEDULE (e.g. 400@15s,200@15s,400: requests/s for a "
            "time, the last for ever; 429 with Retry-After above it) and the client runs its adaptive rate; the "
            "report adds, per step of the limit, the accepted share and the seconds to 90 % of it; default "
            "duration: the timed steps plus 30s",
            o.rate_limit_schedule);

    cl.section("Target (default: an embedded sandbox on 127.0.0.1)");
    auto api = cli::add_api_options(cl, o.api, {"--url,--base-url", "--cacert,--ca"});
    api.base_url.env("CATALYST_BENCH_URL");
    api.cacert.env("CATALYST_BENCH_CA");
    cl.whole("--threads", "client-owned threads (default 1, as an application would run it; 0: the client on the "
             "bench's own io_context, through a strand)", 0, 256, [&o](std::uint64_t n) { o.threads = static_cast<unsigned>(n); })
        .env("CATALYST_THREADS");
    cl.whole("--max-connections", "client connection cap (default: the concurrency; open loop 64)", 1, SIZE_MAX,
             [&o](std::uint64_t n) { o.max_connections = n; })
        .env("CATALYST_MAX_CONNECTIONS");
    cl.whole("--max-in-flight", "open loop: sessions outstanding at most (default 100000)", 1, 10'000'000,
             [&o](std::uint64_t n) { o.max_in_flight = n; });
    cl.flag("--openssl-block-cache", "serve OpenSSL's small allocations from a cache per thread "
            "(catalyst::install_openssl_block_cache(), process-wide; default: OpenSSL's own malloc)",
            o.openssl_block_cache);

    cl.section("Report");
    cl.flag("--json", "JSON on stdout instead of the table", o.json);
    cl.text("--output,-o", "FILE", "also write the JSON report to FILE", o.output_file);
    cl.flag("--brief", "one line (the default when driven by scripts/bench-compare.sh)", o.brief);
    cl.text("--chart", "FILE", "with --sweep: SVG chart of throughput and p99 per concurrency; with "
            "--rate-limit-schedule or --sandbox-stats: the limit, the sent, accepted and allowed rates and the 429s over time",
            o.chart_file);
    cl.value("--reference", "FILE", "with --chart: also draw this series (\"# NAME\" line, then \"CONCURRENCY "
             "THROUGHPUT [P99_MS]\" lines), e.g. wrk's figures; repeatable; without --sweep, only draws them (no run)",
             [&o](const std::string& v) { o.reference_files.push_back(v); })
        .repeatable();
    cl.text("--title", "TEXT", "the chart's title", o.chart_title);
    cl.text("--timeline", "FILE", "with --rate-limit-schedule or --sandbox-stats: the seconds as TSV (second, limit, sent, "
            "accepted, throttled, allowed: the client's allowed rate, -1 when not known)", o.timeline_file);
    cl.text("--sandbox-stats", "FILE", "draw (--chart) or tabulate (--timeline) a saved GET /sandbox/stats answer of a "
            "sandbox run with --rate-limit-schedule, instead of running", o.sandbox_stats_file);

    cl.footer(cli::api_environment_help() +
              "CATALYST_BENCH_URL, CATALYST_BENCH_CA, CATALYST_BENCH_CONCURRENCY and CATALYST_BENCH_SECONDS (as\n"
              "  scripts/bench-compare.sh sets them) stand for --url, --cacert, --concurrency and --duration.\n\n" +
              cli::exit_codes_text({{0, "the run completed (some sessions may have failed: see the report)"},
                                    {1, "no session was created"},
                                    {2, "usage or configuration error (the message names the flag or setting)"}}));
}

const char* description = "catalyst-bench: load the catalyst client and report what it costs (see bench/README.md).";

}  // namespace

parse_outcome parse_options(const std::vector<std::string_view>& args, const env_function& env) {
    parse_outcome r;
    options& o = r.opts;
    cli::command_line cl("catalyst-bench", description);
    describe(cl, o);
    try {
        switch (cl.parse(std::vector<std::string>(args.begin(), args.end()), env)) {
        case cli::command_line::outcome::help: o.help = true; return r;
        case cli::command_line::outcome::version: o.version = true; return r;
        case cli::command_line::outcome::run: break;
        }
    } catch (const cli::usage_error& e) {
        r.error = e.what();
        return r;
    }
    auto fail = [&](std::string msg) {
        r.error = std::move(msg);
        return r;
    };
    const bool flag_sessions = cl.from("--sessions") == cli::source::command_line;
    const bool flag_duration = cl.from("--duration") == cli::source::command_line;
    const bool env_seconds = cl.from("--duration") == cli::source::environment;
    const bool flag_concurrency = cl.from("--concurrency") == cli::source::command_line;

    if (o.api.base_url) {
        const auto& u = *o.api.base_url;
        if (!u.starts_with("https://") && !u.starts_with("http://"))
            return fail(std::string(cl.from("--url") == cli::source::environment ? "CATALYST_BENCH_URL" : "--url") +
                        ": expected an http(s):// URL, got '" + u + "'");
        o.url = base_url_from(u);
        o.api.base_url = o.url;
    }
    if (flag_sessions && !flag_duration) o.duration_s = 0;  // a count given on the command line wins over the environment's time
    const bool scheduled = !o.rate_limit_schedule.empty();
    const bool from_stats = !o.sandbox_stats_file.empty();
    if (scheduled) {
        if (o.rate > 0) return fail("--rate-limit-schedule: runs a closed loop (--concurrency); not with --rate");
        if (!o.sweep.empty()) return fail("--rate-limit-schedule: one run; not with --sweep");
        if (o.warmup_s > 0) return fail("--rate-limit-schedule: the cold start is part of the run; not with --warmup");
        if (!o.reference_files.empty()) return fail("--rate-limit-schedule: its chart is over time; not with --reference");
        if (!o.url.empty()) return fail("--rate-limit-schedule: limits the embedded sandbox; not with --url");
        if (from_stats) return fail("--sandbox-stats: draws a saved run; not with --rate-limit-schedule");
        if (!flag_duration && !flag_sessions && !env_seconds) {
            o.duration_s = 0;
            o.duration_from_schedule = true;
        }
    }
    if (from_stats) {
        if (o.chart_file.empty() && o.timeline_file.empty()) return fail("--sandbox-stats: needs --chart or --timeline");
        if (!o.sweep.empty() || !o.reference_files.empty() || o.rate > 0 || flag_concurrency || flag_sessions ||
            flag_duration || !o.url.empty())
            return fail("--sandbox-stats only draws a saved run: it takes no run options");
        return r;
    }
    if (!o.timeline_file.empty() && !scheduled) return fail("--timeline: needs --rate-limit-schedule or --sandbox-stats");
    if (o.sessions == 0 && o.duration_s == 0 && !o.duration_from_schedule) o.duration_s = 5;
    if (o.rate > 0 && flag_concurrency) return fail("--rate and --concurrency: choose one (open or closed loop)");
    if (o.rate > 0) o.concurrency = 0;
    if (!o.sweep.empty() && o.rate > 0) return fail("--sweep: runs closed loops; it cannot be combined with --rate");
    if (!o.reference_files.empty() && o.chart_file.empty()) return fail("--reference: needs --chart");
    if (!o.chart_file.empty() && o.sweep.empty() && !scheduled) {
        if (o.reference_files.empty()) return fail("--chart: needs --sweep, or --reference files to draw");
        if (o.rate > 0 || flag_concurrency || flag_sessions || flag_duration)
            return fail("--chart with --reference and no --sweep only draws: it takes no run options");
        o.chart_only = true;
    }
    if (o.rate == 0 && o.concurrency == 0) o.concurrency = 64;
    const char* env_url = env ? env("CATALYST_BASE_URL") : std::getenv("CATALYST_BASE_URL");
    if (cl.from("--cacert") == cli::source::command_line && o.url.empty() && o.api.config_file.empty() &&
        !(env_url && *env_url))
        return fail("--cacert: only meaningful with --url (the embedded sandbox brings its own CA)");
    // driven by bench-compare.sh: it reads nothing but the exit status, so say little
    if (env_seconds && !flag_sessions && !o.json && o.sweep.empty()) o.brief = true;
    return r;
}

std::string usage() {
    options o;
    cli::command_line cl("catalyst-bench", description);
    describe(cl, o);
    return cl.help();
}

}  // namespace catalyst::bench
