#ifndef CATALYST_BATCH_RESUME_HPP
#define CATALYST_BATCH_RESUME_HPP

#include "batch/line_reader.hpp"

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace catalyst::batch {

/// What an existing output file says was already done.
struct resume_state {
    std::vector<bool> done;           ///< indexed by input line number
    std::uint64_t records = 0;        ///< distinct lines with a record
    std::uint64_t ok = 0;
    std::uint64_t failed = 0;
    std::uint64_t dry_run = 0;        ///< records written by --dry-run
    std::map<std::string, std::uint64_t> failed_by_reason;
    std::uint64_t valid_bytes = 0;    ///< the file is cut here: everything after is a torn record
    bool torn = false;                ///< the last line had no '\n' (a crash mid-write)
    /// Keys of the first `ok` records, by line: a rerun against another input shows up as a
    /// different key on one of these lines.
    std::map<std::uint64_t, std::string> sample_keys;

    bool is_done(std::uint64_t line) const noexcept { return line < done.size() && done[line]; }
};

/// The file is not an output of ours (a complete line that is not a record): exit code 2.
class resume_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Reads an output file, streaming. A last line without '\n' is torn: it is left out and
/// `valid_bytes` ends before it. Memory: one bit per input line.
resume_state scan_output(read_function read);

}  // namespace catalyst::batch

#endif
