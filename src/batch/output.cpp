#include "batch/output.hpp"

#include "batch/line_reader.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace catalyst::batch {
namespace {

[[noreturn]] void fail(const std::string& what, const std::string& path) {
    throw std::runtime_error(what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

output_file::output_file(const std::string& path, bool retry_failed) : path_(path) {
    if (path.empty() || path == "-") {
        fd_ = STDOUT_FILENO;
        return;
    }
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) fail("cannot open output", path);
    owns_fd_ = true;
    is_file_ = true;
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            throw std::runtime_error("output " + path + " is in use by another catalyst-batch run");
        fail("cannot lock output", path);
    }
    scan();
    if (retry_failed && resume_.failed > resume_.failed_by_reason["validation_failed"]) {
        drop_failed();
        scan();
    }
}

void output_file::scan() {
    const int fd = fd_;
    const std::string& path = path_;
    if (::lseek(fd_, 0, SEEK_SET) < 0) fail("cannot seek", path);
    resume_ = scan_output([fd, &path](char* buf, std::size_t n) -> std::size_t {
        for (;;) {
            const ssize_t r = ::read(fd, buf, n);
            if (r >= 0) return static_cast<std::size_t>(r);
            if (errno != EINTR) fail("cannot read output", path);
        }
    });
    if (resume_.torn && ::ftruncate(fd_, static_cast<off_t>(resume_.valid_bytes)) != 0)
        fail("cannot cut the torn last record of", path);
    if (::lseek(fd_, static_cast<off_t>(resume_.valid_bytes), SEEK_SET) < 0) fail("cannot seek", path);
}

// Copies the records to keep into a new file and renames it over the old one: a crash leaves
// either file whole. The new file is locked before the rename, and the old one stays locked
// until then, so no other run slips in between.
void output_file::drop_failed() {
    const std::string tmp = path_ + ".retry-tmp";
    const int tfd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (tfd < 0) fail("cannot create", tmp);
    if (::flock(tfd, LOCK_EX | LOCK_NB) != 0) {
        ::close(tfd);
        fail("cannot lock", tmp);
    }
    if (::lseek(fd_, 0, SEEK_SET) < 0) fail("cannot seek", path_);
    const int fd = fd_;
    const std::string& path = path_;
    line_reader reader(
        [fd, &path](char* buf, std::size_t n) -> std::size_t {
            for (;;) {
                const ssize_t r = ::read(fd, buf, n);
                if (r >= 0) return static_cast<std::size_t>(r);
                if (errno != EINTR) fail("cannot read output", path);
            }
        },
        1 << 20);
    physical_line pl;
    std::uint64_t offset = 0;
    buffer_.clear();
    const int old_fd = fd_;
    fd_ = tfd;
    while (reader.next(pl)) {
        offset += pl.text.size() + 1;
        if (offset > resume_.valid_bytes) break;
        auto r = parse_record(pl.text);
        if (r && !r->ok && r->error != "validation_failed") {
            ++dropped_;
            continue;
        }
        buffer_.append(pl.text);
        buffer_.push_back('\n');
        if (buffer_.size() >= 64 * 1024) flush();
    }
    flush();
    if (::fsync(fd_) != 0) fail("cannot sync", tmp);
    if (::rename(tmp.c_str(), path_.c_str()) != 0) fail("cannot rename over", path_);
    const auto slash = path_.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path_.substr(0, slash));
    if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
    ::close(old_fd);
}

output_file::~output_file() {
    try {
        flush();
        sync();
    } catch (...) {
    }
    if (owns_fd_) ::close(fd_);
}

void output_file::append(const result_record& r) { append_record(r, buffer_); }

void output_file::flush() {
    std::size_t done = 0;
    while (done < buffer_.size()) {
        const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            const int e = errno;
            buffer_.erase(0, done);
            throw std::system_error(e, std::generic_category(), "write " + (path_.empty() ? "stdout" : path_));
        }
        done += static_cast<std::size_t>(n);
    }
    buffer_.clear();
}

void output_file::sync() {
    if (is_file_) ::fdatasync(fd_);
}

}  // namespace catalyst::batch
