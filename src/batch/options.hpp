#ifndef CATALYST_BATCH_OPTIONS_HPP
#define CATALYST_BATCH_OPTIONS_HPP

#include "batch/input.hpp"
#include "batch/key.hpp"
#include "cli/api_options.hpp"

#include <catalyst/config.hpp>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace catalyst::batch {

enum class progress_mode { automatic, bar, plain, none };

/// The command line of catalyst-batch, parsed; nothing is opened or checked on disk here.
/// --config, --base-url, --cacert and --api-key-file are those of every tool (cli::api_options).
struct options : cli::api_options {
    std::string input;                      ///< path, or "-" for stdin
    std::optional<input_format> format;     ///< unset: from the input's extension
    std::string output;                     ///< "" or "-": stdout (no resume possible)
    std::optional<std::string> campaign;
    std::string summary;                    ///< --summary FILE: a JSON summary for job systems ("" = none)
    unsigned concurrency = 64;
    /// --rate auto (the default) or auto:MAX: the client's adaptive rate finds the API's limit
    /// (`rate_params`, mode adaptive; MAX caps it, 0 = no cap). --rate N or N/s: at most N
    /// lines started per second (0 = unpaced), the client's rate as configured.
    bool rate_auto = true;
    double rate_auto_max = 0;
    double rate = 0;                        ///< lines started per second (not auto), 0 = unpaced
    bool rate_given = false;                ///< --rate was on the command line
    std::optional<std::chrono::milliseconds> deadline;
    std::optional<unsigned> max_attempts;
    bool sandbox = false;                   ///< --sandbox: the embedded sandbox is the target
    bool accept_target_change = false;      ///< resume an output written against another target
    bool accept_key_change = false;         ///< resume an output written with another API key
    std::chrono::milliseconds key_retention{std::chrono::hours(24)};  ///< how long the server keeps keys
    bool accept_duplicate_risk = false;     ///< resend lines first sent longer ago than that
    shard_spec shard;
    bool dry_run = false;
    bool retry_failed = false;              ///< resend lines whose record is an error (not validation)
    progress_mode progress = progress_mode::automatic;
    std::chrono::milliseconds progress_interval{0};  ///< 0: 250 ms on a terminal, 5 s otherwise
    std::size_t max_line = 64 * 1024;
    std::chrono::milliseconds flush_interval{200};
    bool help = false;
    bool version = false;
};

/// A command line we refuse: exit code 2 with this message.
using usage_error = cli::usage_error;

/// The client's rate for this run: adaptive with --rate auto[:MAX], and by default unless the
/// configuration (file or environment) gives a fixed rate of its own, a known limit.
void apply_rate(const options& o, client_params& p);

/// Parses `args` (without the program name). The environment supplies `JOB_COMPLETION_INDEX`
/// (with `--shards N` or `CATALYST_BATCH_SHARDS`). Throws `usage_error`, e.g. for `--api-key`.
options parse_options(const std::vector<std::string_view>& args, const env_lookup& getenv_fn = {});

std::string help_text();

}  // namespace catalyst::batch

#endif
