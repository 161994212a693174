#include "batch/options.hpp"

#include <charconv>
#include <cstdlib>

namespace catalyst::batch {
namespace {

template <class T>
T parse_number(std::string_view flag, std::string_view v) {
    T out{};
    auto r = std::from_chars(v.data(), v.data() + v.size(), out);
    if (v.empty() || r.ec != std::errc{} || r.ptr != v.data() + v.size())
        throw usage_error(std::string(flag) + ": expected a number, got \"" + std::string(v) + "\"");
    return out;
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view s) {
    std::size_t digits = 0;
    while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
    if (digits == 0 || digits > 12) return std::nullopt;
    long long n = 0;
    std::from_chars(s.data(), s.data() + digits, n);
    const auto unit = s.substr(digits);
    long long scale = 0;
    if (unit == "ms") scale = 1;
    else if (unit == "s") scale = 1000;
    else if (unit == "m") scale = 60'000;
    else if (unit == "h") scale = 3'600'000;
    else if (unit == "d") scale = 86'400'000;
    if (scale == 0 || n == 0) return std::nullopt;
    return std::chrono::milliseconds(n * scale);
}

std::string help_text() {
    return R"(usage: catalyst-batch [options] INPUT
Creates one payment session per line of INPUT (a .jsonl or .csv file, or - for stdin) and
writes one JSON record per line to the output, exactly once across crashes and reruns.

Input and output:
  --input FILE            the input (same as the positional INPUT)
  --format jsonl|csv      input format (default: from the file extension; stdin: jsonl)
  --output FILE, -o FILE  results, one JSON record per input line (default: stdout).
                          An existing file is resumed: lines already in it are skipped.
  --campaign UUID         campaign for requests that name none
  --retry-failed          resume, and send again the lines whose record is an error other
                          than validation_failed (their records are replaced, same keys)
  --max-line-bytes N      longer lines become error records (default 65536)
  --dry-run               validate and derive keys only; nothing is sent

Sending:
  --concurrency N         sessions in flight at most (default 64)
  --rate N                start at most N lines per second (also "N/s"; default: unpaced)
  --deadline-ms N         deadline per session, all attempts (default: overall_timeout)
  --max-attempts N        attempts per session, the first included (default: retry.max_attempts)
  --config FILE           client settings (JSON, keys as client_params); then the
                          CATALYST_* environment variables apply on top
  --base-url URL          API base URL up to /api/v1 (or CATALYST_BASE_URL, or base_url in
                          the --config file). One of these, or --sandbox, is required.
  --sandbox               send to an embedded sandbox started for this run (a demo: nothing
                          leaves this machine, and the sandbox forgets everything at exit)
  --api-key-file FILE     file holding the API key (or CATALYST_API_KEY). A key is never
                          accepted as a command-line value (--api-key is refused).

Resuming (an existing --output was written by an earlier run; its header is compared):
  --accept-target-change  resume although the API's address changed (a migration of the same
                          API, which keeps the idempotency keys already sent)
  --accept-key-change     resume although the API key changed (a rotated key of the same
                          account, which keeps the idempotency keys already sent)
  --key-retention D       how long the API keeps an idempotency key (default 24h; 30s, 15m,
                          24h, 7d). A line first sent longer ago is not sent again: a resend
                          (--retry-failed, or a line in flight at a crash) is refused (exit 2)
  --accept-duplicate-risk resend such lines anyway: the API may create a second session

Sharding (several workers over one input, no overlap):
  --shard I/N             take only the lines whose key hashes to I modulo N
  --shards N              with JOB_COMPLETION_INDEX=I in the environment (Kubernetes
                          Indexed Job): same as --shard I/N. Also CATALYST_BATCH_SHARDS.

People:
  --progress auto|bar|plain|none   progress on stderr (auto: a bar on a terminal)
  --progress-interval-ms N         how often (default 250 on a terminal, 5000 otherwise)
  --flush-ms N            results reach the output file at least this often (default 200)
  --help, -h              this text
  --version               the version

Exit codes: 0 every line ok, 1 some lines failed, 2 usage, configuration, input or output
error (an output written for another input, target, key, campaign or shards; a resend past
--key-retention; a failed write, fdatasync or close), 3 aborted by SIGINT/SIGTERM (in-flight lines finished and written; rerun to resume).
)";
}

options parse_options(const std::vector<std::string_view>& args, const env_lookup& getenv_fn) {
    auto env = [&](const char* name) -> const char* {
        return getenv_fn ? getenv_fn(name) : std::getenv(name);
    };
    options o;
    std::optional<unsigned> shards;
    bool shard_flag = false;
    std::vector<std::string_view> positional;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view a = args[i];
        std::string_view flag = a;
        std::optional<std::string_view> inline_value;
        if (a.starts_with("--")) {
            if (auto eq = a.find('='); eq != std::string_view::npos) {
                flag = a.substr(0, eq);
                inline_value = a.substr(eq + 1);
            }
        }
        auto value = [&]() -> std::string_view {
            if (inline_value) return *inline_value;
            if (i + 1 >= args.size()) throw usage_error(std::string(flag) + ": missing value");
            return args[++i];
        };
        if (flag == "--api-key" || flag == "--key" || flag == "--api_key") {
            throw usage_error(
                "--api-key is refused: a key on the command line is visible to every user of this machine "
                "(ps, /proc) and stays in shell history. Put it in CATALYST_API_KEY or in a file read with "
                "--api-key-file FILE.");
        } else if (flag == "--help" || flag == "-h") {
            o.help = true;
        } else if (flag == "--version") {
            o.version = true;
        } else if (flag == "--input") {
            positional.push_back(value());
        } else if (flag == "--format") {
            auto v = value();
            auto f = parse_input_format(v);
            if (!f) throw usage_error("--format: expected jsonl or csv, got \"" + std::string(v) + "\"");
            o.format = f;
        } else if (flag == "--output" || flag == "-o") {
            o.output = value();
        } else if (flag == "--campaign") {
            o.campaign = std::string(value());
        } else if (flag == "--max-line-bytes") {
            o.max_line = parse_number<std::size_t>(flag, value());
            if (o.max_line < 64) throw usage_error("--max-line-bytes: at least 64");
        } else if (flag == "--dry-run") {
            o.dry_run = true;
        } else if (flag == "--retry-failed") {
            o.retry_failed = true;
        } else if (flag == "--concurrency") {
            o.concurrency = parse_number<unsigned>(flag, value());
            if (o.concurrency == 0 || o.concurrency > 100'000)
                throw usage_error("--concurrency: must be between 1 and 100000");
        } else if (flag == "--rate") {
            std::string_view v = value();
            if (v.ends_with("/s")) v.remove_suffix(2);
            o.rate = parse_number<double>(flag, v);
            if (!(o.rate >= 0)) throw usage_error("--rate: must be >= 0");
        } else if (flag == "--deadline-ms") {
            o.deadline = std::chrono::milliseconds(parse_number<long long>(flag, value()));
            if (o.deadline->count() <= 0) throw usage_error("--deadline-ms: must be > 0");
        } else if (flag == "--max-attempts") {
            o.max_attempts = parse_number<unsigned>(flag, value());
            if (*o.max_attempts == 0) throw usage_error("--max-attempts: must be >= 1");
        } else if (flag == "--config") {
            o.config_file = value();
        } else if (flag == "--api-key-file") {
            o.api_key_file = value();
        } else if (flag == "--base-url") {
            o.base_url = std::string(value());
        } else if (flag == "--sandbox") {
            o.sandbox = true;
        } else if (flag == "--accept-target-change") {
            o.accept_target_change = true;
        } else if (flag == "--accept-key-change") {
            o.accept_key_change = true;
        } else if (flag == "--accept-duplicate-risk") {
            o.accept_duplicate_risk = true;
        } else if (flag == "--key-retention") {
            auto v = value();
            auto d = parse_duration(v);
            if (!d) throw usage_error("--key-retention: expected a duration like 30s, 15m, 24h or 7d, got \"" +
                                      std::string(v) + "\"");
            o.key_retention = *d;
        } else if (flag == "--shard") {
            auto v = value();
            auto s = parse_shard(v);
            if (!s) throw usage_error("--shard: expected I/N with 0 <= I < N, got \"" + std::string(v) + "\"");
            o.shard = *s;
            shard_flag = true;
        } else if (flag == "--shards") {
            shards = parse_number<unsigned>(flag, value());
            if (*shards == 0) throw usage_error("--shards: must be >= 1");
        } else if (flag == "--progress") {
            auto v = value();
            if (v == "auto") o.progress = progress_mode::automatic;
            else if (v == "bar") o.progress = progress_mode::bar;
            else if (v == "plain") o.progress = progress_mode::plain;
            else if (v == "none") o.progress = progress_mode::none;
            else throw usage_error("--progress: expected auto, bar, plain or none");
        } else if (flag == "--progress-interval-ms") {
            o.progress_interval = std::chrono::milliseconds(parse_number<long long>(flag, value()));
        } else if (flag == "--flush-ms") {
            o.flush_interval = std::chrono::milliseconds(parse_number<long long>(flag, value()));
            if (o.flush_interval.count() <= 0) throw usage_error("--flush-ms: must be > 0");
        } else if (a == "-" || !a.starts_with("-")) {
            positional.push_back(a);
        } else {
            throw usage_error("unknown option " + std::string(flag) + " (see --help)");
        }
    }
    if (o.help || o.version) return o;
    if (positional.size() != 1)
        throw usage_error(positional.empty() ? "no INPUT given (a .jsonl or .csv file, or - for stdin)"
                                             : "more than one INPUT given");
    o.input = positional.front();
    if (!shards) {
        if (const char* s = env("CATALYST_BATCH_SHARDS"); s && *s) {
            shards = parse_number<unsigned>("CATALYST_BATCH_SHARDS", s);
            if (*shards == 0) throw usage_error("CATALYST_BATCH_SHARDS: must be >= 1");
        }
    }
    if (shards) {
        if (shard_flag) throw usage_error("--shard and --shards/CATALYST_BATCH_SHARDS: give one, not both");
        const char* idx = env("JOB_COMPLETION_INDEX");
        if (!idx || !*idx)
            throw usage_error("--shards needs JOB_COMPLETION_INDEX in the environment (set by a Kubernetes "
                              "Indexed Job); or use --shard I/N");
        const auto i = parse_number<unsigned>("JOB_COMPLETION_INDEX", idx);
        if (i >= *shards)
            throw usage_error("JOB_COMPLETION_INDEX " + std::to_string(i) + " is not below the shard count " +
                              std::to_string(*shards));
        o.shard = shard_spec{i, *shards};
    }
    if (!o.format) {
        o.format = o.input == "-" ? std::optional(input_format::jsonl) : format_from_path(o.input);
        if (!o.format)
            throw usage_error("cannot tell the format of \"" + o.input + "\" from its name: use --format jsonl|csv");
    }
    return o;
}

}  // namespace catalyst::batch
