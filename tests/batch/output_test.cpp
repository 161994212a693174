// The output file's durability and locking: failures the file system reports late (fdatasync,
// close: NFS) are errors, and the lock is on the file the path names.
#include "batch/output.hpp"
#include "process.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <filesystem>

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

// fdatasync and close, interposed for this test executable: they fail with EIO on the
// descriptor named here, and otherwise do what the next definition (libc, or a sanitizer's
// interceptor) does. The batch library is linked statically, so its calls come here.
namespace {
std::atomic<int> fail_fdatasync_fd{-1};
std::atomic<int> fail_close_fd{-1};

template <class F>
F next_definition(const char* name) {
    return reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}
}  // namespace

extern "C" int fdatasync(int fd) {
    static auto real = next_definition<int (*)(int)>("fdatasync");
    if (fd >= 0 && fd == fail_fdatasync_fd.load()) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}

extern "C" int close(int fd) {
    static auto real = next_definition<int (*)(int)>("close");
    if (fd >= 0 && fd == fail_close_fd.load()) {
        fail_close_fd = -1;
        real(fd);  // the descriptor is gone, as after a real failed close; the error is what counts
        errno = EIO;
        return -1;
    }
    return real(fd);
}

namespace catalyst::batch {
namespace {

namespace fs = std::filesystem;

class output_file_safety : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("catalyst-batch-output-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override {
        fail_fdatasync_fd = -1;
        fail_close_fd = -1;
        fs::remove_all(dir_);
    }
    std::string path(const std::string& name) const { return (dir_ / name).string(); }

    // The descriptor the output file holds: the lowest free one when it was opened.
    static int next_fd() {
        const int fd = ::dup(0);
        ::close(fd);
        return fd;
    }

    static run_header header() {
        run_header h;
        h.target.embedded_sandbox = true;
        h.started_ms = 1'700'000'000'000;
        return h;
    }

    fs::path dir_;
};

TEST_F(output_file_safety, fdatasync_failure_is_a_write_error) {
    const int fd = next_fd();
    output_file out(path("out.jsonl"));
    out.write_header(header());
    result_record r;
    r.line = 1;
    r.key = "k1";
    r.ok = true;
    out.append(r);
    out.flush();
    fail_fdatasync_fd = fd;
    EXPECT_THROW(out.sync(), std::system_error);
    try {
        out.close();
        ADD_FAILURE() << "close() succeeded although fdatasync failed";
    } catch (const std::system_error& e) {
        EXPECT_NE(std::string(e.what()).find("fdatasync"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("out.jsonl"), std::string::npos) << e.what();
    }
    fail_fdatasync_fd = -1;
}

TEST_F(output_file_safety, close_failure_is_a_write_error) {
    const int fd = next_fd();
    output_file out(path("out.jsonl"));
    out.write_header(header());
    fail_close_fd = fd;
    try {
        out.close();
        ADD_FAILURE() << "close() succeeded although close(2) failed";
    } catch (const std::system_error& e) {
        EXPECT_NE(std::string(e.what()).find("close"), std::string::npos) << e.what();
    }
}

TEST_F(output_file_safety, lock_is_retaken_when_the_path_was_replaced) {
    // Another run renames a new file over the path between our open and our lock (what
    // --retry-failed does): the lock we got is on a deleted file, so we start over.
    const std::string p = path("out.jsonl");
    test::spit(p, "old\n");
    test::spit(path("new"), "new\n");
    int calls = 0;
    const int fd = open_locked(p, [&](int attempt) {
        ++calls;
        if (attempt == 0) fs::rename(path("new"), p);
    });
    ASSERT_GE(fd, 0);
    EXPECT_EQ(calls, 2);
    struct stat locked {
    }, named{};
    ASSERT_EQ(::fstat(fd, &locked), 0);
    ASSERT_EQ(::stat(p.c_str(), &named), 0);
    EXPECT_EQ(locked.st_ino, named.st_ino);
    char buf[8] = {};
    EXPECT_EQ(::pread(fd, buf, 4, 0), 4);
    EXPECT_EQ(std::string(buf, 4), "new\n");
    ::close(fd);
}

TEST_F(output_file_safety, second_run_on_a_locked_file_is_refused) {
    output_file first(path("out.jsonl"));
    EXPECT_THROW(output_file second(path("out.jsonl")), std::runtime_error);
}

TEST_F(output_file_safety, foreign_file_is_left_untouched) {
    // One line, no '\n', not ours: left whole, not cut to nothing as a "torn record".
    const std::string foreign = "first_name,last_name,email,country";
    test::spit(path("out.jsonl"), foreign);
    EXPECT_THROW(output_file out(path("out.jsonl")), resume_error);
    EXPECT_EQ(test::slurp(path("out.jsonl")), foreign);
}

TEST_F(output_file_safety, whole_header_without_newline_is_kept_and_completed) {
    std::string h;
    append_header(header(), h);
    test::spit(path("out.jsonl"), h.substr(0, h.size() - 1));
    {
        output_file out(path("out.jsonl"));
        EXPECT_EQ(out.resume().headers, 1u);
        out.close();
    }
    EXPECT_EQ(test::slurp(path("out.jsonl")), h);
}

}  // namespace
}  // namespace catalyst::batch
