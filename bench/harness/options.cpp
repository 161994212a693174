#include "options.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace catalyst::bench {
namespace {

bool to_unsigned(std::string_view s, std::uint64_t& out) {
    if (s.empty()) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

bool to_double(std::string_view s, double& out) {
    if (s.empty()) return false;
    std::string copy(s);  // strtod wants a terminated string
    char* end = nullptr;
    out = std::strtod(copy.c_str(), &end);
    return end == copy.c_str() + copy.size() && std::isfinite(out);
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

parse_outcome parse_options(const std::vector<std::string_view>& args, const env_function& env) {
    parse_outcome r;
    options& o = r.opts;
    auto get = [&](const char* name) -> const char* { return env ? env(name) : nullptr; };
    auto fail = [&](std::string msg) {
        r.error = std::move(msg);
        return r;
    };

    bool env_seconds = false;
    if (const char* v = get("CATALYST_BENCH_URL"); v && *v) o.url = base_url_from(v);
    if (const char* v = get("CATALYST_BENCH_CA"); v && *v) o.ca_file = v;
    if (const char* v = get("CATALYST_BENCH_CONCURRENCY"); v && *v) {
        std::uint64_t n = 0;
        if (!to_unsigned(v, n) || n == 0 || n > 1'000'000)
            return fail("CATALYST_BENCH_CONCURRENCY: expected a whole number from 1 to 1000000, got '" + std::string(v) + "'");
        o.concurrency = static_cast<unsigned>(n);
    }
    if (const char* v = get("CATALYST_BENCH_SECONDS"); v && *v) {
        if (!to_double(v, o.duration_s) || o.duration_s <= 0)
            return fail("CATALYST_BENCH_SECONDS: expected a positive number of seconds, got '" + std::string(v) + "'");
        env_seconds = true;
    }
    if (const char* v = get("CATALYST_API_KEY"); v && *v) o.api_key = v;

    bool flag_sessions = false, flag_duration = false, flag_concurrency = false, flag_json = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view a = args[i];
        std::string_view value;
        bool has_inline = false;
        if (a.starts_with("--")) {
            if (auto eq = a.find('='); eq != std::string_view::npos) {
                value = a.substr(eq + 1);
                a = a.substr(0, eq);
                has_inline = true;
            }
        }
        auto need = [&](std::string_view& out) -> bool {
            if (has_inline) { out = value; return true; }
            if (i + 1 >= args.size()) return false;
            out = args[++i];
            return true;
        };
        auto missing = [&] { return fail(std::string(a) + ": missing value"); };
        std::string_view v;
        std::uint64_t n = 0;
        if (a == "-h" || a == "--help") {
            o.help = true;
        } else if (a == "--sessions" || a == "-n") {
            if (!need(v)) return missing();
            if (!to_unsigned(v, n) || n == 0) return fail("--sessions: expected a positive whole number, got '" + std::string(v) + "'");
            o.sessions = n;
            flag_sessions = true;
        } else if (a == "--duration" || a == "-d") {
            if (!need(v)) return missing();
            if (!to_double(v, o.duration_s) || o.duration_s <= 0) return fail("--duration: expected a positive number of seconds, got '" + std::string(v) + "'");
            flag_duration = true;
        } else if (a == "--concurrency" || a == "-c") {
            if (!need(v)) return missing();
            if (!to_unsigned(v, n) || n == 0 || n > 1'000'000) return fail("--concurrency: expected a whole number from 1 to 1000000, got '" + std::string(v) + "'");
            o.concurrency = static_cast<unsigned>(n);
            flag_concurrency = true;
        } else if (a == "--rate" || a == "-r") {
            if (!need(v)) return missing();
            if (!to_double(v, o.rate) || o.rate <= 0) return fail("--rate: expected a positive number of requests per second, got '" + std::string(v) + "'");
        } else if (a == "--sweep") {
            if (!need(v)) return missing();
            o.sweep = parse_list(v);
            if (o.sweep.empty()) return fail("--sweep: expected concurrencies such as 1,16,64,256, got '" + std::string(v) + "'");
        } else if (a == "--warmup") {
            if (!need(v)) return missing();
            if (!to_double(v, o.warmup_s) || o.warmup_s < 0) return fail("--warmup: expected a number of seconds >= 0, got '" + std::string(v) + "'");
        } else if (a == "--url") {
            if (!need(v)) return missing();
            if (!v.starts_with("https://") && !v.starts_with("http://")) return fail("--url: expected an http(s):// URL, got '" + std::string(v) + "'");
            o.url = base_url_from(v);
        } else if (a == "--ca") {
            if (!need(v)) return missing();
            o.ca_file = v;
        } else if (a == "--api-key-file") {
            if (!need(v)) return missing();
            o.api_key_file = v;
        } else if (a == "--threads") {
            if (!need(v)) return missing();
            if (!to_unsigned(v, n) || n > 256) return fail("--threads: expected a whole number from 0 to 256, got '" + std::string(v) + "'");
            o.threads = static_cast<unsigned>(n);
        } else if (a == "--max-connections") {
            if (!need(v)) return missing();
            if (!to_unsigned(v, n) || n == 0) return fail("--max-connections: expected a positive whole number, got '" + std::string(v) + "'");
            o.max_connections = n;
        } else if (a == "--max-in-flight") {
            if (!need(v)) return missing();
            if (!to_unsigned(v, n) || n == 0 || n > 10'000'000) return fail("--max-in-flight: expected a whole number from 1 to 10000000, got '" + std::string(v) + "'");
            o.max_in_flight = n;
        } else if (a == "--json") {
            o.json = true;
            flag_json = true;
        } else if (a == "--output" || a == "-o") {
            if (!need(v)) return missing();
            o.output_file = v;
        } else if (a == "--chart") {
            if (!need(v)) return missing();
            o.chart_file = v;
        } else if (a == "--reference") {
            if (!need(v)) return missing();
            o.reference_files.emplace_back(v);
        } else if (a == "--title") {
            if (!need(v)) return missing();
            o.chart_title = v;
        } else if (a == "--brief") {
            o.brief = true;
        } else {
            return fail("unknown argument '" + std::string(a) + "' (see --help)");
        }
    }
    if (o.help) return r;

    if (flag_sessions && !flag_duration) o.duration_s = 0;  // a count given on the command line wins over the environment's time
    if (o.sessions == 0 && o.duration_s == 0) o.duration_s = 5;
    if (o.rate > 0 && flag_concurrency) return fail("--rate and --concurrency: choose one (open or closed loop)");
    if (o.rate > 0) o.concurrency = 0;
    if (!o.sweep.empty() && o.rate > 0) return fail("--sweep: runs closed loops; it cannot be combined with --rate");
    if (!o.reference_files.empty() && o.chart_file.empty()) return fail("--reference: needs --chart");
    if (!o.chart_file.empty() && o.sweep.empty()) {
        if (o.reference_files.empty()) return fail("--chart: needs --sweep, or --reference files to draw");
        if (o.rate > 0 || flag_concurrency || flag_sessions || flag_duration)
            return fail("--chart with --reference and no --sweep only draws: it takes no run options");
        o.chart_only = true;
    }
    if (o.rate == 0 && o.concurrency == 0) o.concurrency = 64;
    if (!o.ca_file.empty() && o.url.empty()) return fail("--ca: only meaningful with --url (the embedded sandbox brings its own CA)");
    // driven by compare.sh: it reads nothing but the exit status, so say little
    if (env_seconds && !flag_duration && !flag_sessions && !flag_json && o.sweep.empty()) o.brief = true;
    return r;
}

std::string usage() {
    return R"(catalyst-bench: load the catalyst client and report what it costs.

usage: catalyst-bench [options]
  --sessions N          stop after N sessions           (or)
  --duration S          run S seconds (default 5)
  --concurrency C       closed loop: C sessions in flight (default 64)
  --rate R              open loop: R sessions/s, latency from the intended send time
  --sweep 1,16,64,256   one closed-loop run per concurrency
  --chart FILE          with --sweep: SVG chart of throughput and p99 per concurrency
  --reference FILE      with --chart: also draw this series ("# NAME" line, then
                        "CONCURRENCY THROUGHPUT [P99_MS]" lines), e.g. wrk's figures;
                        repeatable; without --sweep, only draws them (no run)
  --title TEXT          the chart's title
  --warmup S            run S seconds before measuring
  --url URL             target (base URL up to /api/v1, or the full endpoint);
                        default: an embedded sandbox on 127.0.0.1
  --ca FILE             CA bundle for --url
  --api-key-file FILE   API key (else CATALYST_API_KEY; the sandbox's own by default)
  --threads N           client-owned threads (default 1, as an application would run it;
                        0: the client on the bench's own io_context, through a strand)
  --max-connections N   client connection cap (default: the concurrency; open loop 64)
  --max-in-flight N     open loop: sessions outstanding at most (default 100000)
  --json                JSON on stdout instead of the table
  --output FILE         also write the JSON report to FILE
  --brief               one line
environment: CATALYST_BENCH_URL, CATALYST_BENCH_CA, CATALYST_BENCH_CONCURRENCY,
  CATALYST_BENCH_SECONDS (as bench/reference/compare.sh sets them), CATALYST_API_KEY.
)";
}

}  // namespace catalyst::bench
