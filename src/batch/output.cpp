#include "batch/output.hpp"

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

output_file::output_file(const std::string& path) : path_(path) {
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
    const int fd = fd_;
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
