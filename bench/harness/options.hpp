#ifndef CATALYST_BENCH_OPTIONS_HPP
#define CATALYST_BENCH_OPTIONS_HPP

#include "cli/api_options.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace catalyst::bench {

/// What one invocation of catalyst-bench is asked to do. Flags win over the environment.
/// Durations take units (500ms, 30s, 2m); a plain number counts seconds, as it always did.
struct options {
    std::uint64_t sessions = 0;   ///< --sessions N: stop after N requests (0 = by time)
    double duration_s = 0;        ///< --duration S; default 5 s when neither is given
    unsigned concurrency = 0;     ///< --concurrency C: closed loop with C in flight
    double rate = 0;              ///< --rate R: open loop at R requests/s (excludes --concurrency)
    std::vector<unsigned> sweep;  ///< --sweep 1,16,64: one closed-loop run per concurrency
    double warmup_s = 0;          ///< --warmup S: run this long first, not measured
    std::string url;              ///< --url: base URL up to /api/v1 ("" = as configured, else the embedded sandbox)
    /// --config, --cacert (--ca), --api-key-file as every tool; api.base_url mirrors `url`.
    cli::api_options api;
    unsigned threads = 1;         ///< --threads N: client-owned threads (0 = the bench's own, via a strand)
    std::size_t max_connections = 0;  ///< --max-connections; 0 = the concurrency (open loop: 64)
    std::size_t max_in_flight = 0;    ///< --max-in-flight (open loop); 0 = 100000
    /// --openssl-block-cache: catalyst::install_openssl_block_cache() before anything else, as an
    /// application that wants no heap allocation per request does (docs/client.md).
    bool openssl_block_cache = false;
    bool json = false;            ///< --json: JSON on stdout instead of the table
    std::string output_file;      ///< --output FILE: also write the JSON there
    std::string chart_file;       ///< --chart FILE: SVG of a sweep
    /// --reference FILE (repeatable): series drawn beside the sweep (see parse_reference_series).
    /// With --chart and no --sweep, only these are drawn and nothing is run.
    std::vector<std::string> reference_files;
    bool chart_only = false;
    std::string chart_title;      ///< --title: "" = a title naming the target
    /// --rate-limit-schedule S: the embedded sandbox limits every request along S
    /// ("400@15s,200@15s,400", checked when the sandbox is built), the client runs its
    /// adaptive rate; the run is reported second by second.
    std::string rate_limit_schedule;
    /// No --duration or --sessions with a schedule: run its timed steps plus 30 s.
    bool duration_from_schedule = false;
    std::string timeline_file;    ///< --timeline FILE: the per-second TSV of a scheduled run
    /// --sandbox-stats FILE: a saved `GET /sandbox/stats` answer to draw (--chart) or tabulate
    /// (--timeline) instead of running.
    std::string sandbox_stats_file;
    bool brief = false;           ///< --brief: one line (default when driven by compare.sh)
    bool help = false;
    bool version = false;
};

/// Looks up an environment variable; nullptr when unset.
using env_function = cli::env_function;

struct parse_outcome {
    options opts;
    std::string error;  ///< names the flag or variable at fault; "" when fine
};

/// Parses the arguments (without argv[0]) over CATALYST_BENCH_URL, CATALYST_BENCH_CA,
/// CATALYST_BENCH_CONCURRENCY, CATALYST_BENCH_SECONDS, CATALYST_THREADS and
/// CATALYST_MAX_CONNECTIONS. Reads no file: the client settings (--config, the CATALYST_*
/// environment, the key file) are resolved by the caller with cli::resolve(opts.api).
parse_outcome parse_options(const std::vector<std::string_view>& args, const env_function& env);

/// The base URL ("https://h:p/api/v1") from either a base URL or the full endpoint
/// ("https://h:p/api/v1/payment-sessions/"), as compare.sh passes it.
std::string base_url_from(std::string_view url);

/// "1,16,64" -> {1, 16, 64}; empty on any malformed or zero entry.
std::vector<unsigned> parse_list(std::string_view s);

/// The --help text.
std::string usage();

}  // namespace catalyst::bench

#endif
