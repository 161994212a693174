#ifndef CATALYST_TESTS_BATCH_PROCESS_HPP
#define CATALYST_TESTS_BATCH_PROCESS_HPP

// Runs catalyst-batch as a child process with a clean environment (nothing of the test's own
// CATALYST_* settings leaks in), its output in files, waited for with a bounded loop.

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace catalyst::batch::test {

inline std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline void spit(const std::string& path, const std::string& data) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << data;
}

struct child {
    pid_t pid = -1;
    std::string out_path;
    std::string err_path;
};

/// Starts `exe args...`; stdin from `stdin_path` ("" = /dev/null).
inline child spawn(const std::string& exe, const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& env, const std::string& dir,
                   const std::string& stdin_path = {}) {
    static int counter = 0;
    child c;
    ++counter;
    c.out_path = dir + "/stdout." + std::to_string(counter);
    c.err_path = dir + "/stderr." + std::to_string(counter);
    std::vector<std::string> argv_s{exe};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<std::string> env_s;
    for (const auto& [k, v] : env) env_s.push_back(k + "=" + v);
    // Sanitizer settings pass through, so that an ASan build of the tool is checked too.
    for (const char* name : {"PATH", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS"})
        if (const char* v = std::getenv(name); v && !env.count(name)) env_s.push_back(std::string(name) + "=" + v);
    std::vector<char*> argv, envp;
    for (auto& s : argv_s) argv.push_back(s.data());
    argv.push_back(nullptr);
    for (auto& s : env_s) envp.push_back(s.data());
    envp.push_back(nullptr);
    c.pid = ::fork();
    if (c.pid < 0) throw std::runtime_error("fork failed");
    if (c.pid == 0) {
        const int in = ::open(stdin_path.empty() ? "/dev/null" : stdin_path.c_str(), O_RDONLY);
        const int out = ::open(c.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        const int err = ::open(c.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || out < 0 || err < 0) ::_exit(126);
        ::dup2(in, 0);
        ::dup2(out, 1);
        ::dup2(err, 2);
        ::execve(exe.c_str(), argv.data(), envp.data());
        ::_exit(127);
    }
    return c;
}

/// Waits at most `limit`; kills the child and returns -1 when it takes longer.
/// Returns the exit code, or 128 + signal.
inline int wait_for(const child& c, std::chrono::seconds limit = std::chrono::seconds(90)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    int status = 0;
    for (;;) {
        const pid_t r = ::waitpid(c.pid, &status, WNOHANG);
        if (r == c.pid) break;
        if (std::chrono::steady_clock::now() > end) {
            ::kill(c.pid, SIGKILL);
            ::waitpid(c.pid, &status, 0);
            return -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -2;
}

struct result {
    int code = -1;
    std::string out;
    std::string err;
};

inline result run(const std::string& exe, const std::vector<std::string>& args,
                  const std::map<std::string, std::string>& env, const std::string& dir,
                  const std::string& stdin_path = {}) {
    child c = spawn(exe, args, env, dir, stdin_path);
    result r;
    r.code = wait_for(c);
    r.out = slurp(c.out_path);
    r.err = slurp(c.err_path);
    return r;
}

}  // namespace catalyst::batch::test

#endif
