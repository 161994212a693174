#include "batch/options.hpp"

#include "batch/tool.hpp"
#include "cli/values.hpp"

#include <algorithm>
#include <cstdlib>

namespace catalyst::batch {
namespace {

using namespace std::chrono_literals;
using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

// What the command line gathers besides `options` itself.
struct extras {
    std::vector<std::string> positional;
    std::optional<unsigned> shards;
};

// Every flag of catalyst-batch, bound to `o`.
void describe(cli::command_line& cl, options& o, extras& x) {
    cl.positionals("INPUT", "a .jsonl or .csv file, or - for stdin", x.positional);

    cl.section("Input and output");
    cl.value("--input", "FILE", "the input (same as the positional INPUT)",
             [&x](const std::string& v) { x.positional.push_back(v); });
    cl.value("--format", "jsonl|csv", "input format (default: from the file extension; stdin: jsonl)",
             [&o](const std::string& v) {
                 o.format = parse_input_format(v);
                 if (!o.format) throw cli::value_error("expected jsonl or csv, got '" + v + "'");
             });
    cl.text("--output,-o", "FILE", "results, one JSON record per input line (default: stdout). An existing file is "
            "resumed: lines already in it are skipped", o.output);
    cl.text("--summary", "FILE", "at the end of every run (failed, refused or aborted too), a JSON summary for job "
            "systems, replaced atomically: version, times, target, campaign, shard, paths, counts, exit code. Never "
            "a lead's field, never the API key (see docs/batch.md)", o.summary);
    cl.text("--campaign", "UUID", "campaign for requests that name none", o.campaign);
    cl.flag("--retry-failed", "resume, and send again the lines whose record is an error other than "
            "validation_failed (their records are replaced, same keys)", o.retry_failed);
    cl.whole("--max-line-bytes", "longer lines become error records (default 65536)", 64, SIZE_MAX,
             [&o](std::uint64_t n) { o.max_line = n; });
    cl.flag("--dry-run", "validate and derive keys only; nothing is sent", o.dry_run);

    cl.section("Sending");
    cl.whole("--concurrency", "sessions in flight at most (default 64)", 1, 100'000,
             [&o](std::uint64_t n) { o.concurrency = static_cast<unsigned>(n); });
    cl.value("--rate", "auto|auto:MAX|N", "auto (the default): find the API's rate limit from its 429s and stay just "
             "under it (auto:MAX: never above MAX requests/s); N (also \"N/s\"): start at most N lines per second, "
             "0 = unpaced", [&o](const std::string& v) {
                 o.rate_given = true;
                 std::string_view n = v;
                 if (n == "auto" || n.starts_with("auto:")) {
                     o.rate_auto = true;
                     o.rate_auto_max = 0;
                     if (n.starts_with("auto:")) {
                         n.remove_prefix(5);
                         if (n.ends_with("/s")) n.remove_suffix(2);
                         o.rate_auto_max = cli::parse_number(n, 0.5, 1e9);
                     }
                     return;
                 }
                 if (n.ends_with("/s")) n.remove_suffix(2);
                 o.rate = cli::parse_number(n, 0, 1e9);
                 o.rate_auto = false;
             });
    cl.duration("--deadline,--deadline-ms", "deadline per session, all attempts (default: overall_timeout; 30s, "
                "2m; a plain number counts milliseconds)", 1ms, [&o](nanoseconds d) {
        if (d < 1ms) throw cli::value_error("expected at least 1ms");
        o.deadline = duration_cast<milliseconds>(d);
    });
    cl.whole("--max-attempts", "attempts per session, the first included (default: retry.max_attempts)", 1, 1000,
             [&o](std::uint64_t n) { o.max_attempts = static_cast<unsigned>(n); });

    cl.section("Target and client settings (one target is required: a base URL, or --sandbox)");
    cli::add_api_options(cl, o);
    cl.refuse("--key", cli::api_key_refusal());  // the sandbox's --key is a TLS file; here it would be a key
    cl.flag("--sandbox", "send to an embedded sandbox started for this run (a demo: nothing leaves this machine, and "
            "the sandbox forgets everything at exit)", o.sandbox);

    cl.section("Resuming (an existing --output was written by an earlier run; its header is compared)");
    cl.flag("--accept-target-change", "resume although the API's address changed (a migration of the same API, "
            "which keeps the idempotency keys already sent)", o.accept_target_change);
    cl.flag("--accept-key-change", "resume although the API key changed (a rotated key of the same account, which "
            "keeps the idempotency keys already sent)", o.accept_key_change);
    cl.duration("--key-retention", "how long the API keeps an idempotency key (default 24h; 30s, 15m, 24h, 7d). A "
                "line first sent longer ago is not sent again: a resend (--retry-failed, or a line in flight at a "
                "crash) is refused (exit 2)", 0ns, [&o](nanoseconds d) {
        if (d < 1ms) throw cli::value_error("expected at least 1ms");
        o.key_retention = duration_cast<milliseconds>(d);
    });
    cl.flag("--accept-duplicate-risk", "resend such lines anyway: the API may create a second session",
            o.accept_duplicate_risk);

    cl.section("Sharding (several workers over one input, no overlap)");
    cl.value("--shard", "I/N", "take only the lines whose key hashes to I modulo N", [&o](const std::string& v) {
        auto s = parse_shard(v);
        if (!s) throw cli::value_error("expected I/N with 0 <= I < N, got '" + v + "'");
        o.shard = *s;
    });
    cl.whole("--shards", "with JOB_COMPLETION_INDEX=I in the environment (Kubernetes Indexed Job): same as "
             "--shard I/N", 1, 1'000'000, [&x](std::uint64_t n) { x.shards = static_cast<unsigned>(n); })
        .env("CATALYST_BATCH_SHARDS");

    cl.section("People");
    cl.value("--progress", "auto|bar|plain|none", "progress on stderr (auto: a bar on a terminal)",
             [&o](const std::string& v) {
                 if (v == "auto") o.progress = progress_mode::automatic;
                 else if (v == "bar") o.progress = progress_mode::bar;
                 else if (v == "plain") o.progress = progress_mode::plain;
                 else if (v == "none") o.progress = progress_mode::none;
                 else throw cli::value_error("expected auto, bar, plain or none, got '" + v + "'");
             });
    cl.duration("--progress-interval,--progress-interval-ms", "how often (default 250ms on a terminal, 5s "
                "otherwise; a plain number counts milliseconds)", 1ms,
                [&o](nanoseconds d) { o.progress_interval = duration_cast<milliseconds>(d); });
    cl.duration("--flush-interval,--flush-ms", "results reach the output file at least this often (default 200ms; "
                "a plain number counts milliseconds)", 1ms, [&o](nanoseconds d) {
        if (d < 1ms) throw cli::value_error("expected at least 1ms");
        o.flush_interval = duration_cast<milliseconds>(d);
    });

    cl.footer("Creates one payment session per line of INPUT and writes one JSON record per line to the output,\n"
              "exactly once across crashes and reruns (see docs/batch.md).\n\n" +
              cli::api_environment_help() +
              "CATALYST_BATCH_SHARDS stands for --shards; JOB_COMPLETION_INDEX is read with it.\n\n" +
              cli::exit_codes_text(
                  {{exit_ok, "every line ok"},
                   {exit_failed, "some lines failed"},
                   {exit_usage, "usage, configuration, input or output error (an output written for another input, "
                                "target, key, campaign or shards; a resend past --key-retention; a failed write, "
                                "fdatasync or close; a --summary FILE that cannot be written, after a run otherwise ok)"},
                   {exit_aborted, "aborted by SIGINT/SIGTERM (in-flight lines finished and written; rerun to resume)"}}));
}

const char* description = "catalyst-batch: one payment session per line of a .jsonl or .csv file.";

}  // namespace

void apply_rate(const options& o, client_params& p) {
    const bool configured_fixed = p.rate.mode == rate_mode::fixed && p.rate.rate_per_second > 0;
    if (!o.rate_auto || (!o.rate_given && configured_fixed)) return;
    p.rate.mode = rate_mode::adaptive;
    if (o.rate_auto_max > 0) {
        p.rate.max_rate = o.rate_auto_max;
        p.rate.initial_rate = std::min(p.rate.initial_rate, o.rate_auto_max);
        p.rate.min_rate = std::min(p.rate.min_rate, p.rate.initial_rate);
    }
}

std::string help_text() {
    options o;
    extras x;
    cli::command_line cl("catalyst-batch", description);
    describe(cl, o, x);
    return cl.help();
}

options parse_options(const std::vector<std::string_view>& args, const env_lookup& getenv_fn) {
    auto env = [&](const char* name) -> const char* { return getenv_fn ? getenv_fn(name) : std::getenv(name); };
    options o;
    extras x;
    cli::command_line cl("catalyst-batch", description);
    describe(cl, o, x);
    switch (cl.parse(std::vector<std::string>(args.begin(), args.end()), getenv_fn)) {
    case cli::command_line::outcome::help: o.help = true; return o;
    case cli::command_line::outcome::version: o.version = true; return o;
    case cli::command_line::outcome::run: break;
    }
    if (x.positional.size() != 1)
        throw usage_error(x.positional.empty() ? "no INPUT given (a .jsonl or .csv file, or - for stdin)"
                                               : "more than one INPUT given");
    o.input = x.positional.front();
    if (x.shards) {
        if (cl.given("--shard")) throw usage_error("--shard and --shards/CATALYST_BATCH_SHARDS: give one, not both");
        const char* idx = env("JOB_COMPLETION_INDEX");
        if (!idx || !*idx)
            throw usage_error("--shards needs JOB_COMPLETION_INDEX in the environment (set by a Kubernetes "
                              "Indexed Job); or use --shard I/N");
        unsigned i = 0;
        try {
            i = static_cast<unsigned>(cli::parse_whole(idx, 0, 1'000'000));
        } catch (const cli::value_error& e) {
            throw usage_error(std::string("JOB_COMPLETION_INDEX: ") + e.what());
        }
        if (i >= *x.shards)
            throw usage_error("JOB_COMPLETION_INDEX " + std::to_string(i) + " is not below the shard count " +
                              std::to_string(*x.shards));
        o.shard = shard_spec{i, *x.shards};
    }
    if (!o.format) {
        o.format = o.input == "-" ? std::optional(input_format::jsonl) : format_from_path(o.input);
        if (!o.format)
            throw usage_error("cannot tell the format of \"" + o.input + "\" from its name: use --format jsonl|csv");
    }
    return o;
}

}  // namespace catalyst::batch
