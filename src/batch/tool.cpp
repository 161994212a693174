#include "batch/tool.hpp"

#include "batch/engine.hpp"
#include "batch/options.hpp"

#include <catalyst/config.hpp>
#include <catalyst/sandbox.hpp>
#include <catalyst/validation.hpp>
#include <catalyst/version.hpp>

#include <boost/json/parse.hpp>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace catalyst::batch {
namespace {

void say(const std::string& s) {
    std::fprintf(stderr, "catalyst-batch: %s\n", s.c_str());
    std::fflush(stderr);
}

// True when the config file names a base URL of its own (then no embedded sandbox).
bool config_sets_base_url(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;  // apply_file reports the unreadable file
    std::stringstream ss;
    ss << in.rdbuf();
    boost::system::error_code ec;
    auto v = boost::json::parse(ss.str(), ec);
    return !ec && v.is_object() && v.get_object().contains("base_url");
}

std::string read_key_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw config_error("--api-key-file", "cannot read " + path + ": " + std::strerror(errno));
    std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r' || key.back() == ' ' || key.back() == '\t'))
        key.pop_back();
    if (key.empty()) throw config_error("--api-key-file", path + " is empty");
    return key;
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
        std::puts("catalyst-batch " CATALYST_VERSION_STRING);
        return exit_ok;
    }

    if (opt.campaign && !rules::is_uuid(*opt.campaign)) {
        say("--campaign: \"" + *opt.campaign + "\" is not a lower-case hyphenated UUID");
        return exit_usage;
    }

    // Configuration: defaults, the file, the environment, then the flags.
    client_params params;
    bool embedded = false;
    try {
        params = load_client_params(opt.config_file);
        if (opt.base_url) params.base_url = *opt.base_url;
        if (!opt.api_key_file.empty()) params.api_key = read_key_file(opt.api_key_file);
        const char* env_url = std::getenv("CATALYST_BASE_URL");
        embedded = !opt.base_url && !(env_url && *env_url) &&
                   !(!opt.config_file.empty() && config_sets_base_url(opt.config_file));
        if (params.idempotency == idempotency_policy::disabled)
            throw config_error("CATALYST_IDEMPOTENCY", "catalyst-batch needs idempotency keys for exactly-once "
                                                       "sessions; \"disabled\" is refused");
        if (!embedded && !opt.dry_run && params.api_key.empty())
            throw config_error("CATALYST_API_KEY", "no API key: set CATALYST_API_KEY or pass --api-key-file FILE");
        if (!embedded) check(params);
    } catch (const config_error& e) {
        say(std::string("configuration: ") + e.what());
        return exit_usage;
    } catch (const std::exception& e) {
        say(std::string("configuration: ") + e.what());
        return exit_usage;
    }

    // Input.
    int in_fd = STDIN_FILENO;
    if (opt.input != "-") {
        in_fd = ::open(opt.input.c_str(), O_RDONLY | O_CLOEXEC);
        if (in_fd < 0) {
            say("cannot open input " + opt.input + ": " + std::strerror(errno));
            return exit_usage;
        }
    }
    struct input_closer {
        int fd;
        ~input_closer() {
            if (fd != STDIN_FILENO) ::close(fd);
        }
    } closer{in_fd};

    // Output (and what an earlier run already did).
    std::unique_ptr<output_file> out;
    try {
        out = std::make_unique<output_file>(opt.output, opt.retry_failed);
    } catch (const std::exception& e) {
        say(e.what());
        return exit_usage;
    }
    const auto& resumed = out->resume();
    if (out->dropped() > 0)
        say("--retry-failed: " + std::to_string(out->dropped()) + " error records removed; their lines are sent again");
    if (resumed.records > 0) {
        if ((resumed.dry_run > 0) != opt.dry_run) {
            say("output " + opt.output + (opt.dry_run ? " holds real results: a --dry-run needs another file"
                                                      : " holds --dry-run records: use another output file"));
            return exit_usage;
        }
        say("resuming " + opt.output + ": " + std::to_string(resumed.records) + " lines already done" +
            (resumed.torn ? " (a torn last record was cut)" : ""));
    } else if (resumed.torn) {
        say("output " + opt.output + ": a torn record was cut");
    }

    // The embedded sandbox: the demo default when no API is configured.
    std::unique_ptr<sandbox> sb;
    if (embedded && !opt.dry_run) {
        try {
            sb = std::make_unique<sandbox>(sandbox_params{});
            sb->start();
        } catch (const std::exception& e) {
            say(std::string("cannot start the embedded sandbox: ") + e.what());
            return exit_usage;
        }
        params.base_url = sb->base_url();
        params.tls.ca_pem = sb->ca_pem();
        if (params.api_key.empty()) params.api_key = sb->params().api_keys.front();
        say("no base URL configured (--base-url, CATALYST_BASE_URL or the config file): running against the "
            "embedded sandbox at " + params.base_url + "; nothing leaves this machine");
    }

    engine_params ep;
    ep.input_fd = in_fd;
    ep.input.format = *opt.format;
    ep.input.default_campaign = opt.campaign;
    ep.input.max_line = opt.max_line;
    ep.shard = opt.shard;
    ep.concurrency = opt.concurrency;
    ep.rate = opt.rate;
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

    run_stats stats;
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
    } catch (const input_error& e) {
        say(std::string("input ") + opt.input + ": " + e.what());
        return exit_usage;
    } catch (const config_error& e) {
        say(std::string("configuration: ") + e.what());
        return exit_usage;
    } catch (const std::exception& e) {
        say(e.what());
        return exit_usage;
    }
    const auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    std::fputs(format_summary(stats, wall, result == engine_result::aborted).c_str(), stderr);
    if (sb) sb->stop();
    if (result == engine_result::aborted) return exit_aborted;
    return stats.failed + stats.previous_failed > 0 ? exit_failed : exit_ok;
}

}  // namespace catalyst::batch
