#ifndef CATALYST_BATCH_RESUME_HPP
#define CATALYST_BATCH_RESUME_HPP

#include "batch/header.hpp"
#include "batch/line_reader.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace catalyst::batch {

/// What is kept per input line to check a rerun's input against the file: 64 bits of the line's
/// key, whose lowest bit says whether the line has an outcome (else it only has a `sending`
/// record). 0: nothing recorded for the line.
std::uint64_t line_key_hash(std::string_view key) noexcept;

/// One 64-bit value per input line number, 0 for lines never set. Stored in chunks of 64 Ki
/// lines allocated as they are touched: exactly 8 bytes per line up to the highest one set,
/// and no copy (no doubling peak) while it grows.
class line_table {
public:
    std::uint64_t get(std::uint64_t line) const noexcept {
        const auto c = line >> chunk_bits;
        return c < chunks_.size() && chunks_[c] ? chunks_[c][line & chunk_mask] : 0;
    }
    /// The slot of `line`, allocated (zero) when new.
    std::uint64_t& at(std::uint64_t line);
    /// The highest line whose value is not 0, or 0.
    std::uint64_t last_set() const noexcept;
    std::size_t bytes() const noexcept;

private:
    static constexpr unsigned chunk_bits = 16;
    static constexpr std::uint64_t chunk_mask = (std::uint64_t{1} << chunk_bits) - 1;
    std::vector<std::unique_ptr<std::uint64_t[]>> chunks_;
};

/// What an existing output file says was already done.
struct resume_state {
    /// By input line number: `line_key_hash` of the line's key | done bit; 0 = nothing.
    /// 8 bytes per input line (8 MB per million lines, 80 MB for 10 million).
    line_table lines;
    std::optional<run_header> header; ///< the file's last header (the run that wrote last)
    std::uint64_t headers = 0;        ///< runs that wrote to the file
    std::uint64_t records = 0;        ///< distinct lines with an outcome
    std::uint64_t ok = 0;
    std::uint64_t failed = 0;
    std::uint64_t dry_run = 0;        ///< records written by --dry-run
    std::map<std::string, std::uint64_t> failed_by_reason;
    std::uint64_t valid_bytes = 0;    ///< the file is cut here: everything after is a torn record
    bool torn = false;                ///< the last line had no '\n' and is not whole (a crash mid-write)
    bool unterminated = false;        ///< the last line is a whole record without its '\n' (kept)
    /// When each line that will be sent again was first sent (ms since the epoch; 0 = unknown):
    /// lines with a `sending` record and no outcome (in flight at a crash), and with
    /// `collect_retriable` the lines whose outcome is an error other than validation_failed.
    std::unordered_map<std::uint64_t, std::int64_t> first_sent;
    std::vector<std::uint64_t> retriable;  ///< with `collect_retriable`: those error lines

    bool is_done(std::uint64_t line) const noexcept { return lines.get(line) & 1; }
    /// The key hash recorded for `line` (done or only sent), or 0.
    std::uint64_t key_hash(std::uint64_t line) const noexcept { return lines.get(line) & ~std::uint64_t{1}; }
    /// The highest line with anything recorded.
    std::uint64_t last_line() const noexcept { return lines.last_set(); }
};

/// The file is not an output of ours, or one we cannot resume safely: exit code 2.
class resume_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Reads an output file, streaming. Its first line must be a header (`run_header`): a file
/// without one (an older catalyst-batch's, or another program's) is refused. A last line
/// without '\n' is kept when it is a whole record or header of ours, cut (`torn`, `valid_bytes`
/// ends before it) when it is the start of one, and refused otherwise (the file is not ours:
/// nothing of it is changed).
resume_state scan_output(read_function read, bool collect_retriable = false);

/// The first line of `item_key` that differs from what `st` recorded for its number, as a
/// message; "" when it matches or nothing is recorded.
std::string check_line(const resume_state& st, std::uint64_t line, std::string_view item_key);

}  // namespace catalyst::batch

#endif
