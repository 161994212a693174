#ifndef CATALYST_BATCH_OUTPUT_HPP
#define CATALYST_BATCH_OUTPUT_HPP

#include "batch/header.hpp"
#include "batch/record.hpp"
#include "batch/resume.hpp"

#include <chrono>
#include <functional>
#include <string>

namespace catalyst::batch {

/// Opens (creating it) and locks `path` for this run: an exclusive `flock`, then checks that
/// the locked file is still the one at `path` (fstat against stat: another run may have renamed
/// a new file over it meanwhile, leaving us a lock on a deleted file) and starts over if not, a
/// few times. `after_lock` runs between the lock and that check (tests put a rename there).
/// Returns the descriptor; throws std::runtime_error naming the path.
int open_locked(const std::string& path, const std::function<void(int attempt)>& after_lock = {});

/// The results file. What reaches the disk when:
/// - `append` only fills a memory buffer;
/// - `flush` hands the whole buffer to the kernel with write(2) (complete records only, so a
///   crash of the process loses nothing that was flushed; a crash mid-write leaves at most
///   one torn last line, cut off on the next run). The engine flushes every `--flush-ms`
///   (200 ms), whenever the buffer passes 64 KiB, and before any request goes out (so that
///   the line's `sending` record is in the file first);
/// - `sync` is fdatasync(2): what was flushed survives a power loss too. The engine syncs
///   every second and at exit; `close` reports what the file system reports last (NFS).
/// Every failure of write, fdatasync or close throws: the run ends with exit code 2.
class output_file {
public:
    /// "" or "-": standard output (nothing to resume). Otherwise opens or creates `path`,
    /// locks it (`open_locked`), scans what is there into `resume()` (collecting the retriable
    /// error lines with `collect_retriable`), and cuts a torn last line. Throws
    /// std::runtime_error / resume_error with the path and the reason.
    explicit output_file(const std::string& path, bool collect_retriable = false);
    ~output_file();
    output_file(const output_file&) = delete;
    output_file& operator=(const output_file&) = delete;

    const resume_state& resume() const noexcept { return resume_; }
    bool is_file() const noexcept { return is_file_; }

    /// --retry-failed: drops the records of `resume().retriable` (the file is rewritten to a
    /// temporary and renamed over, atomically), so that their lines are sent again, with the
    /// same keys, and get one record each. Returns how many were dropped.
    std::uint64_t drop_retriable();

    /// Appends this run's header and flushes it.
    void write_header(const run_header& h);
    void append(const result_record& r);
    bool wants_flush() const noexcept { return buffer_.size() >= 64 * 1024; }
    bool has_buffered() const noexcept { return !buffer_.empty(); }
    /// Throws std::system_error when the write fails (disk full...).
    void flush();
    /// Throws std::system_error when fdatasync fails.
    void sync();
    /// Flushes, syncs and closes; throws std::system_error when any of them fails.
    void close();

private:
    void scan(bool collect_retriable);

    int fd_ = -1;
    bool is_file_ = false;
    bool owns_fd_ = false;
    std::string path_;
    std::string buffer_;
    resume_state resume_;
};

}  // namespace catalyst::batch

#endif
