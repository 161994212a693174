#include "batch/tool.hpp"

#include "batch/engine.hpp"
#include "batch/header.hpp"
#include "batch/options.hpp"
#include "batch/summary.hpp"
#include "batch/timestamp.hpp"
#include "cli/version.hpp"

#include <catalyst/config.hpp>
#include <catalyst/sandbox.hpp>
#include <catalyst/validation.hpp>
#include <catalyst/version.hpp>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace catalyst::batch {
namespace {

void say(const std::string& s) {
    std::fprintf(stderr, "catalyst-batch: %s\n", s.c_str());
    std::fflush(stderr);
}

// A resume reads the input once before anything is sent: every line the output file has a
// record for must still be the same line (its key), or nothing goes out. Regular files only
// (stdin cannot be read twice; the engine checks those lines as they come). Returns "" or why.
std::string verify_input(int fd, const input_params& ip, const resume_state& st) {
    const std::uint64_t last = st.last_line();
    if (last == 0) return {};
    struct stat info {};
    if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) return {};
    off_t offset = 0;
    input_source src(
        [fd, &offset](char* buf, std::size_t n) -> std::size_t {
            for (;;) {
                const ssize_t k = ::pread(fd, buf, n, offset);
                if (k >= 0) {
                    offset += k;
                    return static_cast<std::size_t>(k);
                }
                if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "read input");
            }
        },
        ip);
    input_item item;
    while (src.next(item) && item.line <= last)
        if (auto why = check_line(st, item.line, item.key.hex); !why.empty()) return why;
    return {};
}

// Lines about to be sent again (in flight at a crash; --retry-failed) whose key went out longer
// ago than the API keeps keys. Returns "" or the refusal.
std::string check_retention(const resume_state& st, std::chrono::milliseconds retention) {
    const std::int64_t now = now_ms();
    std::uint64_t count = 0;
    std::uint64_t first_line = 0;
    std::int64_t first_sent = 0;
    for (const auto& [line, sent] : st.first_sent) {
        if (sent > 0 && now - sent <= retention.count()) continue;
        ++count;
        if (first_line == 0 || line < first_line) {
            first_line = line;
            first_sent = sent;
        }
    }
    if (count == 0) return {};
    const std::string when = first_sent > 0 ? "first sent " + format_duration(now - first_sent) + " ago (" +
                                                  format_utc(first_sent) + ")"
                                            : "first sent at an unknown time";
    std::string msg = std::to_string(count) + " line" + (count == 1 ? "" : "s") +
                      " would be sent again although first sent longer ago than --key-retention " +
                      format_duration(retention.count()) + " (line " + std::to_string(first_line) + ": " + when +
                      "): the API may have forgotten " +
                      (count == 1 ? "its idempotency key" : "their idempotency keys") + " and create a second session";
    return msg + ". Check those sessions with the API first; then resend with --accept-duplicate-risk, or give "
                 "the API's real retention with --key-retention";
}

// Says why the run stops (exit 2) and keeps it for the summary. The tool's messages name lines,
// columns and settings, never an input cell's value nor the API key.
int refuse(run_report& rep, std::string why) {
    say(why);
    rep.error = std::move(why);
    return exit_usage;
}

// The run proper, after the command line: fills `rep` as far as it gets; returns the exit code.
int run(options& opt, run_report& rep) {
    if (opt.campaign && !rules::is_uuid(*opt.campaign)) {
        return refuse(rep, "--campaign: \"" + *opt.campaign + "\" is not a lower-case hyphenated UUID");
    }

    // Configuration: defaults, the file, the environment, then the flags (as every tool).
    client_params params;
    const bool embedded = opt.sandbox;
    bool has_target = false;
    try {
        auto resolved = cli::resolve(opt);
        params = std::move(resolved.params);
        apply_rate(opt, params);
        has_target = resolved.base_url_configured;
        check(params);
        // The target is never guessed: an unset variable must not turn a real run into a demo.
        if (embedded && has_target)
            throw config_error("--sandbox", "a base URL is configured too (--base-url, CATALYST_BASE_URL or "
                                            "base_url in the --config file): give one target, not both");
        if (!embedded && !has_target && !opt.dry_run)
            throw config_error("base_url", "no API to send to. Give its base URL (up to /api/v1) with --base-url URL, "
                                           "or the CATALYST_BASE_URL environment variable, or \"base_url\" in the "
                                           "--config FILE; or pass --sandbox to try the tool against an embedded "
                                           "sandbox (nothing leaves this machine)");
        if (params.idempotency == idempotency_policy::disabled)
            throw config_error("CATALYST_IDEMPOTENCY", "catalyst-batch needs idempotency keys for exactly-once "
                                                       "sessions; \"disabled\" is refused");
        if (!embedded && !opt.dry_run && params.api_key.empty())
            throw config_error("CATALYST_API_KEY", "no API key: set CATALYST_API_KEY or pass --api-key-file FILE");
        if (!embedded && has_target) check(params);
    } catch (const config_error& e) {
        return refuse(rep, std::string("configuration: ") + e.what());
    } catch (const std::exception& e) {
        return refuse(rep, std::string("configuration: ") + e.what());
    }

    // Input.
    int in_fd = STDIN_FILENO;
    if (opt.input != "-") {
        in_fd = ::open(opt.input.c_str(), O_RDONLY | O_CLOEXEC);
        if (in_fd < 0) {
            return refuse(rep, "cannot open input " + opt.input + ": " + std::strerror(errno));
        }
    }
    struct input_closer {
        int fd;
        ~input_closer() {
            if (fd != STDIN_FILENO) ::close(fd);
        }
    } closer{in_fd};

    // What this run is: the header it writes, and what an earlier run's header must match.
    run_header& header = rep.header;  // version, campaign, shard, dry_run and start: run_tool
    if (embedded) {
        header.target.embedded_sandbox = true;
        header.key_fingerprint = key_fingerprint(params.api_key.empty() ? sandbox_params{}.api_keys.front()
                                                                        : params.api_key);
    } else if (has_target) {
        auto t = target_of(params.base_url);
        if (!t) {
            return refuse(rep, "configuration: base URL: not an https URL the client accepts");
        }
        header.target = *t;
        header.key_fingerprint = key_fingerprint(params.api_key);
    } else {
        header.target.none = true;
    }
    rep.target_known = true;

    // Output (and what an earlier run already did).
    input_params ip;
    ip.format = *opt.format;
    ip.default_campaign = opt.campaign;
    ip.max_line = opt.max_line;
    std::unique_ptr<output_file> out;
    try {
        out = std::make_unique<output_file>(opt.output, opt.retry_failed);
    } catch (const std::exception& e) {
        return refuse(rep, e.what());
    }
    const auto& resumed = out->resume();
    if (resumed.header) {
        const run_header& before = *resumed.header;
        if (before.dry_run != opt.dry_run) {
            return refuse(rep, "output " + opt.output + (opt.dry_run ? " holds real results: a --dry-run needs another file"
                                                      : " holds --dry-run records: use another output file"));
        }
        const auto diff = header_mismatches(before, header, {opt.accept_target_change, opt.accept_key_change});
        if (!diff.empty()) {
            std::string msg = "output " + opt.output + " was written with other settings, not resumed:";
            for (const auto& d : diff) msg += "\n  - " + d;
            msg += "\nUse the earlier settings, or another --output file.";
            return refuse(rep, msg);
        }
        if (!(before.target == header.target))
            say("--accept-target-change: resuming " + opt.output + " (written against " + before.target.describe() +
                ") against " + header.target.describe());
        if (before.key_fingerprint != header.key_fingerprint && !opt.dry_run)
            say("--accept-key-change: resuming " + opt.output + " with another API key");
        if (before.version != header.version)
            say("output " + opt.output + " was last written by catalyst-batch " + before.version + "; this is " +
                header.version);
    }
    try {
        if (auto why = verify_input(in_fd, ip, resumed); !why.empty()) {
            return refuse(rep, "resume of " + opt.output + " refused: " + why);
        }
    } catch (const input_error& e) {
        return refuse(rep, std::string("input ") + opt.input + ": " + e.what());
    } catch (const std::exception& e) {
        return refuse(rep, std::string("input ") + opt.input + ": " + e.what());
    }
    if (!opt.dry_run) {
        if (auto why = check_retention(resumed, opt.key_retention); !why.empty()) {
            if (!opt.accept_duplicate_risk) {
                return refuse(rep, why);
            }
            say("--accept-duplicate-risk: resending anyway; " +
                why.substr(0, why.find(". Check")));
        }
    }
    try {
        if (const auto dropped = out->drop_retriable(); dropped > 0)
            say("--retry-failed: " + std::to_string(dropped) + " error records removed; their lines are sent again");
    } catch (const std::exception& e) {
        return refuse(rep, e.what());
    }
    if (resumed.records > 0) {
        say("resuming " + opt.output + ": " + std::to_string(resumed.records) + " lines already done" +
            (resumed.torn ? " (a torn last record was cut)" : ""));
    } else if (resumed.torn) {
        say("output " + opt.output + ": a torn record was cut");
    }
    if (!resumed.first_sent.empty() && !opt.retry_failed)
        say(std::to_string(resumed.first_sent.size()) +
            " lines were in flight when an earlier run stopped: sent again with the same keys");
    try {
        out->write_header(header);
    } catch (const std::exception& e) {
        return refuse(rep, e.what());
    }

    // The embedded sandbox, asked for with --sandbox.
    std::unique_ptr<sandbox> sb;
    if (embedded && !opt.dry_run) {
        try {
            sb = std::make_unique<sandbox>(sandbox_params{});
            sb->start();
        } catch (const std::exception& e) {
            return refuse(rep, std::string("cannot start the embedded sandbox: ") + e.what());
        }
        params.base_url = sb->base_url();
        params.tls.ca_file.clear();  // the embedded sandbox brings its own CA
        params.tls.ca_dir.clear();
        params.tls.ca_pem = sb->ca_pem();
        if (params.api_key.empty()) params.api_key = sb->params().api_keys.front();
        say("--sandbox: running against an embedded sandbox at " + params.base_url +
            "; nothing leaves this machine, and its sessions are gone when the run ends");
    }

    engine_params ep;
    ep.input_fd = in_fd;
    ep.input = ip;
    ep.shard = opt.shard;
    ep.concurrency = opt.concurrency;
    ep.rate = opt.rate_auto ? 0 : opt.rate;
    ep.adaptive_rate = params.rate.mode == rate_mode::adaptive;
    ep.dry_run = opt.dry_run;
    ep.flush_interval = opt.flush_interval;
    if (opt.deadline) ep.request.deadline = *opt.deadline;
    if (opt.max_attempts) {
        ep.request.retry = params.retry;
        ep.request.retry->max_attempts = *opt.max_attempts;
    }
    const bool tty = ::isatty(STDERR_FILENO) == 1;
    switch (opt.progress) {
        case progress_mode::automatic:
            ep.progress = tty ? engine_params::progress_style::bar : engine_params::progress_style::plain;
            break;
        case progress_mode::bar: ep.progress = engine_params::progress_style::bar; break;
        case progress_mode::plain: ep.progress = engine_params::progress_style::plain; break;
        case progress_mode::none: ep.progress = engine_params::progress_style::none; break;
    }
    ep.progress_interval = opt.progress_interval.count() > 0
                               ? opt.progress_interval
                               : (ep.progress == engine_params::progress_style::bar ? std::chrono::milliseconds(250)
                                                                                    : std::chrono::milliseconds(5000));
    if (struct stat st {}; ::fstat(in_fd, &st) == 0 && S_ISREG(st.st_mode)) {
        ep.input_size = static_cast<std::uint64_t>(st.st_size);
        if (opt.shard.count <= 1 && ep.progress != engine_params::progress_style::none)
            ep.total = count_records(in_fd, *opt.format);
    }

    run_stats& stats = rep.stats;
    stats.previous_ok = resumed.ok;
    stats.previous_failed = resumed.failed;
    stats.previous_failed_by_reason = resumed.failed_by_reason;

    const auto t0 = std::chrono::steady_clock::now();
    engine_result result = engine_result::completed;
    try {
        boost::asio::io_context ctx(1);
        std::unique_ptr<client> cl;
        if (!opt.dry_run) {
            // The client's own threads when configured; otherwise it shares our loop.
            cl = params.threads > 0 ? std::make_unique<client>(params) : std::make_unique<client>(ctx, params);
        }
        result = run_engine(ctx, cl.get(), *out, ep, stats);
        cl.reset();
        out->close();  // fdatasync and close report here what the file system lost (NFS)
    } catch (const input_error& e) {
        return refuse(rep, std::string("input ") + opt.input + ": " + e.what());
    } catch (const config_error& e) {
        return refuse(rep, std::string("configuration: ") + e.what());
    } catch (const std::exception& e) {
        return refuse(rep, e.what());
    }
    const auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    std::fputs(format_summary(stats, wall, result == engine_result::aborted).c_str(), stderr);
    if (sb) sb->stop();
    if (result == engine_result::aborted) return exit_aborted;
    return stats.failed + stats.previous_failed > 0 ? exit_failed : exit_ok;
}

}  // namespace

int run_tool(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    options opt;
    try {
        std::vector<std::string_view> args(argv + 1, argv + argc);
        opt = parse_options(args);
    } catch (const usage_error& e) {
        say(e.what());
        return exit_usage;
    }
    if (opt.help) {
        std::fputs(help_text().c_str(), stdout);
        return exit_ok;
    }
    if (opt.version) {
        std::printf("%s\n", cli::version_line("catalyst-batch").c_str());
        return exit_ok;
    }

    // Everything after this point ends with the --summary file, whatever the exit code.
    run_report rep;
    rep.header.started_ms = now_ms();
    const auto t0 = std::chrono::steady_clock::now();
    rep.input = opt.input;
    rep.output = opt.output;
    rep.header.shard = opt.shard;
    rep.header.dry_run = opt.dry_run;
    if (opt.campaign && rules::is_uuid(*opt.campaign)) rep.header.campaign = opt.campaign;
    int code = run(opt, rep);
    if (!opt.summary.empty()) {
        const auto elapsed =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
        try {
            write_file_atomically(opt.summary, summary_json(rep, code, now_ms(), elapsed.count()));
        } catch (const std::exception& e) {
            say(e.what());
            if (code == exit_ok) code = exit_usage;
        }
    }
    return code;
}

}  // namespace catalyst::batch
