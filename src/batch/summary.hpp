#ifndef CATALYST_BATCH_SUMMARY_HPP
#define CATALYST_BATCH_SUMMARY_HPP

// --summary FILE: one JSON object for the job system that ran catalyst-batch (what ran, against
// what, what it did, how it ended). Counts, settings and error messages only: never a lead's
// field (the tool's error messages name lines and columns, never cell values) and never the
// API key (its `key_fingerprint` only).

#include "batch/header.hpp"
#include "batch/stats.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace catalyst::batch {

/// Everything a summary says, gathered while the tool runs. A run that stops early leaves
/// what it never reached at its defaults (no target, zero counts).
struct run_report {
    run_header header;              ///< version, target, key fingerprint, campaign, shard, start
    bool target_known = false;      ///< the configuration was read far enough to name the target
    std::string input;              ///< path, "-" for stdin
    std::string output;             ///< path, "" or "-" for stdout
    run_stats stats;
    std::string error;              ///< why the run stopped early (exit 2), "" otherwise
};

/// Short meaning of an exit code of catalyst-batch ("some lines failed").
std::string exit_meaning(int code);

/// The summary's JSON text (one object and '\n'). `ended_ms`: wall clock at the end;
/// `elapsed_ms`: the run's duration (monotonic).
std::string summary_json(const run_report& r, int exit_code, std::int64_t ended_ms, std::int64_t elapsed_ms);

/// Replaces `path` with `data` atomically: a temporary file beside it, written, fsync'ed and
/// renamed over `path` (then the directory is synced). A reader sees the old file or the whole
/// new one. Throws std::system_error naming the file.
void write_file_atomically(const std::string& path, const std::string& data);

}  // namespace catalyst::batch

#endif
