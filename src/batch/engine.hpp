#ifndef CATALYST_BATCH_ENGINE_HPP
#define CATALYST_BATCH_ENGINE_HPP

#include "batch/input.hpp"
#include "batch/key.hpp"
#include "batch/output.hpp"
#include "batch/stats.hpp"

#include <catalyst/client.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <optional>

namespace catalyst::batch {

struct engine_params {
    int input_fd = 0;
    input_params input;
    shard_spec shard;
    unsigned concurrency = 64;
    double rate = 0;
    bool adaptive_rate = false;  ///< the client runs in adaptive mode: its allowed rate is shown
    request_options request;   ///< deadline and retry; the key is set per line
    bool dry_run = false;
    enum class progress_style { none, bar, plain } progress = progress_style::none;
    std::chrono::milliseconds progress_interval{5000};
    std::chrono::milliseconds flush_interval{200};
    std::chrono::milliseconds sync_interval{1000};
    std::optional<std::uint64_t> total;  ///< input records, when counted beforehand
    std::uint64_t input_size = 0;        ///< bytes, 0 when unknown (a pipe)
};

enum class engine_result { completed, aborted };

/// Runs one batch on `ctx` (on the calling thread): a reader thread streams the input through
/// a bounded window, lines are sent through `cl` (null with `dry_run`) with at most
/// `concurrency` in flight and at most `rate` starts per second, each result becomes one
/// record in `out` as it arrives. Lines already in `out.resume()` and lines of other shards
/// are skipped. Two identical lines (same key) are never in flight together: the second
/// waits and then gets the replayed session. SIGINT/SIGTERM: stop reading, let what is in
/// flight finish, flush; a second signal writes what is buffered and leaves at once.
/// Throws `input_error` when the input is unusable (after flushing what was done).
engine_result run_engine(boost::asio::io_context& ctx, client* cl, output_file& out, const engine_params& p,
                         run_stats& stats);

/// Counts the records of a regular file (lines that are not empty; for CSV, records outside
/// quotes, header excluded), for the progress total. std::nullopt when not countable.
std::optional<std::uint64_t> count_records(int fd, input_format f);

/// A result's message without a lead's personal data: every value of the lead's personal
/// fields (values under 3 characters where they stand as a word of their own) and anything
/// shaped like an email address is masked.
std::string scrub_personal(std::string message, const lead& l);

}  // namespace catalyst::batch

#endif
