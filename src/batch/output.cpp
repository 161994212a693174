#include "batch/output.hpp"

#include "batch/line_reader.hpp"

#include <algorithm>
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

[[noreturn]] void fail_io(const std::string& what, const std::string& path) {
    throw std::system_error(errno, std::generic_category(), what + " " + (path.empty() ? "stdout" : path));
}

read_function fd_reader(int fd, const std::string& path) {
    return [fd, &path](char* buf, std::size_t n) -> std::size_t {
        for (;;) {
            const ssize_t r = ::read(fd, buf, n);
            if (r >= 0) return static_cast<std::size_t>(r);
            if (errno != EINTR) fail("cannot read output", path);
        }
    };
}

void write_all(int fd, const std::string& data, const std::string& path) {
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail_io("write", path);
        }
        done += static_cast<std::size_t>(n);
    }
}

}  // namespace

int open_locked(const std::string& path, const std::function<void(int)>& after_lock) {
    constexpr int attempts = 8;
    for (int attempt = 0; attempt < attempts; ++attempt) {
        const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) fail("cannot open output", path);
        if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
            const int e = errno;
            ::close(fd);
            errno = e;
            if (e == EWOULDBLOCK)
                throw std::runtime_error("output " + path + " is in use by another catalyst-batch run");
            fail("cannot lock output", path);
        }
        if (after_lock) after_lock(attempt);
        // The lock holds an inode, the path names one: the same, or we locked a replaced file.
        struct stat locked {}, named {};
        if (::fstat(fd, &locked) != 0) {
            const int e = errno;
            ::close(fd);
            errno = e;
            fail("cannot stat output", path);
        }
        if (::stat(path.c_str(), &named) == 0 && named.st_dev == locked.st_dev && named.st_ino == locked.st_ino)
            return fd;
        ::close(fd);  // replaced (or removed) between our open and our lock: again
    }
    throw std::runtime_error("output " + path + " was replaced " + std::to_string(attempts) +
                             " times while being locked (another run rewriting it?)");
}

output_file::output_file(const std::string& path, bool collect_retriable) : path_(path) {
    if (path.empty() || path == "-") {
        fd_ = STDOUT_FILENO;
        return;
    }
    fd_ = open_locked(path);
    owns_fd_ = true;
    struct stat st {};
    is_file_ = ::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode);
    scan(collect_retriable);
}

void output_file::scan(bool collect_retriable) {
    if (::lseek(fd_, 0, SEEK_SET) < 0 && is_file_) fail("cannot seek", path_);
    resume_ = scan_output(fd_reader(fd_, path_), collect_retriable);
    if (!is_file_) return;
    if (resume_.torn && ::ftruncate(fd_, static_cast<off_t>(resume_.valid_bytes)) != 0)
        fail("cannot cut the torn last record of", path_);
    if (::lseek(fd_, static_cast<off_t>(resume_.valid_bytes), SEEK_SET) < 0) fail("cannot seek", path_);
    if (resume_.unterminated) {
        write_all(fd_, "\n", path_);
        resume_.valid_bytes += 1;
        resume_.unterminated = false;
    }
}

// Copies the records to keep into a new file and renames it over the old one: a crash leaves
// either file whole. The new file is locked before the rename, and the old one stays locked
// until then; a run that opened the old file meanwhile finds, once it holds the lock, that the
// path names another file now, and starts over (`open_locked`).
std::uint64_t output_file::drop_retriable() {
    if (!is_file_ || resume_.retriable.empty()) return 0;
    std::vector<std::uint64_t> drop = resume_.retriable;
    std::sort(drop.begin(), drop.end());
    const std::string tmp = path_ + ".retry-tmp";
    const int tfd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (tfd < 0) fail("cannot create", tmp);
    if (::flock(tfd, LOCK_EX | LOCK_NB) != 0 || ::ftruncate(tfd, 0) != 0) {
        const int e = errno;
        ::close(tfd);
        errno = e;
        fail("cannot lock", tmp);
    }
    if (::lseek(fd_, 0, SEEK_SET) < 0) fail("cannot seek", path_);
    line_reader reader(fd_reader(fd_, path_), 1 << 20);
    physical_line pl;
    std::uint64_t offset = 0;
    std::uint64_t dropped = 0;
    buffer_.clear();
    const int old_fd = fd_;
    fd_ = tfd;
    while (reader.next(pl)) {
        offset += pl.text.size() + 1;
        if (offset > resume_.valid_bytes) break;
        if (!looks_like_header(pl.text)) {
            auto r = parse_record(pl.text);
            if (r && !r->sending && !r->ok && r->error != "validation_failed" &&
                std::binary_search(drop.begin(), drop.end(), r->line)) {
                ++dropped;
                continue;
            }
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
    // The dropped lines are no longer done; what else the scan found still holds.
    for (std::uint64_t line : drop) {
        resume_.lines.at(line) &= ~std::uint64_t{1};
        --resume_.records;
        --resume_.failed;
    }
    for (auto it = resume_.failed_by_reason.begin(); it != resume_.failed_by_reason.end();)
        it = it->first == "validation_failed" ? std::next(it) : resume_.failed_by_reason.erase(it);
    resume_.retriable.clear();
    struct stat st {};
    if (::fstat(fd_, &st) == 0) resume_.valid_bytes = static_cast<std::uint64_t>(st.st_size);
    return dropped;
}

output_file::~output_file() {
    try {
        close();
    } catch (...) {
    }
}

void output_file::write_header(const run_header& h) {
    append_header(h, buffer_);
    flush();
}

void output_file::append(const result_record& r) { append_record(r, buffer_); }

void output_file::flush() {
    if (buffer_.empty()) return;
    try {
        write_all(fd_, buffer_, path_);
    } catch (...) {
        buffer_.clear();  // what is lost is redone by a rerun (the keys are the same)
        throw;
    }
    buffer_.clear();
}

void output_file::sync() {
    if (is_file_ && ::fdatasync(fd_) != 0) fail_io("fdatasync", path_);
}

void output_file::close() {
    if (fd_ < 0) return;
    flush();
    sync();
    if (owns_fd_) {
        const int fd = fd_;
        fd_ = -1;
        owns_fd_ = false;
        if (::close(fd) != 0) fail_io("close", path_);
    }
    fd_ = -1;
}

}  // namespace catalyst::batch
