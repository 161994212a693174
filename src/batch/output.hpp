#ifndef CATALYST_BATCH_OUTPUT_HPP
#define CATALYST_BATCH_OUTPUT_HPP

#include "batch/record.hpp"
#include "batch/resume.hpp"

#include <chrono>
#include <string>

namespace catalyst::batch {

/// The results file. What reaches the disk when:
/// - `append` only fills a memory buffer;
/// - `flush` hands the whole buffer to the kernel with write(2) (complete records only, so a
///   crash of the process loses nothing that was flushed; a crash mid-write leaves at most
///   one torn last line, cut off on the next run). The engine flushes every `--flush-ms`
///   (200 ms) and whenever the buffer passes 64 KiB;
/// - `sync` is fdatasync(2): what was flushed survives a power loss too. The engine syncs
///   every second and at exit.
/// Lines lost to a crash (buffered, or in flight) are redone by the next run with the same
/// idempotency key: the server replays them, nothing is created twice.
class output_file {
public:
    /// "" or "-": standard output (nothing to resume). Otherwise opens or creates `path`,
    /// takes an exclusive lock (a second run on the same file is refused), scans what is
    /// there into `resume()`, and cuts a torn last line. Throws std::runtime_error /
    /// resume_error with the path and the reason.
    ///
    /// `retry_failed`: error records other than `validation_failed` are dropped first (the
    /// file is rewritten to a temporary and renamed over, atomically), so that their lines are
    /// sent again, with the same keys, and get one record each.
    explicit output_file(const std::string& path, bool retry_failed = false);
    ~output_file();
    output_file(const output_file&) = delete;
    output_file& operator=(const output_file&) = delete;

    const resume_state& resume() const noexcept { return resume_; }
    /// Error records dropped by `retry_failed`.
    std::uint64_t dropped() const noexcept { return dropped_; }
    bool is_file() const noexcept { return is_file_; }

    void append(const result_record& r);
    bool wants_flush() const noexcept { return buffer_.size() >= 64 * 1024; }
    /// Throws std::system_error when the write fails (disk full...).
    void flush();
    void sync();

private:
    void scan();
    void drop_failed();

    int fd_ = -1;
    std::uint64_t dropped_ = 0;
    bool is_file_ = false;
    bool owns_fd_ = false;
    std::string path_;
    std::string buffer_;
    resume_state resume_;
};

}  // namespace catalyst::batch

#endif
