// The catalyst-sandbox command: start, print URL and CA, answer the documentation's example
// request sent by the real curl, stop cleanly on SIGTERM.

#include "support/https_test_client.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

using namespace catalyst::test;
using namespace std::chrono_literals;

namespace {

const std::string binary = std::string(CATALYST_BINARY_DIR) + "/src/tools/catalyst-sandbox";

/// A child process with its stdout+stderr on a pipe; killed if still running at the end.
class child {
  public:
    explicit child(const std::vector<std::string>& args) {
        int fds[2];
        if (::pipe(fds) != 0) return;
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
        posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
        posix_spawn_file_actions_addclose(&fa, fds[0]);
        std::vector<char*> argv;
        argv.push_back(const_cast<char*>(binary.c_str()));
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        if (posix_spawn(&pid_, binary.c_str(), &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
        posix_spawn_file_actions_destroy(&fa);
        ::close(fds[1]);
        out_fd_ = fds[0];
    }
    ~child() {
        if (pid_ > 0 && !exited_) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        if (out_fd_ >= 0) ::close(out_fd_);
    }
    bool started() const { return pid_ > 0; }

    /// Reads output until `pattern` is in it or `timeout` passes; returns everything read.
    std::string read_until(const std::string& pattern, std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (output_.find(pattern) == std::string::npos) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) break;
            pollfd p{out_fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
            char buf[4096];
            const auto n = ::read(out_fd_, buf, sizeof buf);
            if (n <= 0) break;
            output_.append(buf, static_cast<std::size_t>(n));
        }
        return output_;
    }

    /// Waits (bounded) for the exit; the exit status, or nullopt on timeout.
    std::optional<int> wait(std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            const auto r = ::waitpid(pid_, &status, WNOHANG);
            if (r == pid_) {
                exited_ = true;
                read_until("\x01never", 200ms);
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            std::this_thread::sleep_for(10ms);
        }
        return std::nullopt;
    }

    void signal(int sig) { ::kill(pid_, sig); }

  private:
    pid_t pid_ = -1;
    int out_fd_ = -1;
    bool exited_ = false;
    std::string output_;
};

std::string run_capture(const std::string& command) {
    std::string out;
    if (FILE* f = ::popen(command.c_str(), "r")) {
        char buf[4096];
        std::size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
        ::pclose(f);
    }
    return out;
}

/// A plain-HTTP client to the port the banner in `out` names after `listening on <prefix>`.
std::unique_ptr<https_test_client> plain_client_from_banner(const std::string& out,
                                                            const std::string& prefix) {
    std::smatch m;
    if (!std::regex_search(out, m, std::regex("listening on " + prefix + R"(:(\d+)/api/v1)"))) {
        ADD_FAILURE() << "no \"listening on " << prefix << "\" in: " << out;
        return nullptr;
    }
    test_client_options o;
    o.port = static_cast<unsigned short>(std::stoi(m[1]));
    o.tls = false;
    return std::make_unique<https_test_client>(o);
}

class sandbox_command : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(std::filesystem::exists(binary)) << binary << " is not built";
        dir_ = std::filesystem::temp_directory_path() /
               ("catalyst-sb-cli-" + std::to_string(::getpid()));
        std::filesystem::remove_all(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::filesystem::path dir_;
};

TEST_F(sandbox_command, help_and_bad_flags) {
    {
        child c({"--help"});
        ASSERT_TRUE(c.started());
        EXPECT_EQ(c.wait(10s), 0);
        EXPECT_NE(c.read_until("", 0ms).find("--listen HOST:PORT"), std::string::npos);
    }
    {
        child c({"--no-such-flag"});
        EXPECT_EQ(c.wait(10s), 2);
        EXPECT_NE(c.read_until("", 0ms).find("--no-such-flag"), std::string::npos);
    }
    {
        child c({"--fault", "server_error.status=418"});
        EXPECT_EQ(c.wait(10s), 2);
        EXPECT_NE(c.read_until("", 0ms).find("server_error.status"), std::string::npos);
    }
    {
        child c({"--config", "/nonexistent/sandbox.json"});
        EXPECT_EQ(c.wait(10s), 2);
        EXPECT_NE(c.read_until("", 0ms).find("/nonexistent/sandbox.json"), std::string::npos);
    }
}

TEST_F(sandbox_command, curl_with_the_printed_ca_gets_a_session) {
    child c({"--config", std::string(CATALYST_SOURCE_DIR) + "/config/sandbox.json", "--listen",
             "127.0.0.1:0", "--cert-dir", dir_.string(), "--threads", "1"});
    ASSERT_TRUE(c.started());
    const auto out = c.read_until("CA certificate:", 20s);
    std::smatch m;
    ASSERT_TRUE(std::regex_search(
        out, m, std::regex(R"(listening on (https://127\.0\.0\.1:(\d+)/api/v1))")))
        << out;
    const std::string base = m[1];
    const auto port = static_cast<unsigned short>(std::stoi(m[2]));
    const auto ca = (dir_ / "ca.crt").string();
    EXPECT_NE(out.find(ca), std::string::npos) << out;
    ASSERT_TRUE(std::filesystem::exists(ca));

    const std::string body =
        R"({"campaign_id":"a1b2c3d4-e5f6-7890-abcd-ef1234567890","customer_ip":"203.0.113.50","lead":{"first_name":"Max","last_name":"Mustermann","email":"max@example.com","country":"DE"}})";
    if (std::filesystem::exists("/usr/bin/curl")) {
        const std::string cmd = "/usr/bin/curl -sS --max-time 20 --cacert " + ca +
                                " -w '\\nHTTP %{http_code}' -X POST " + base +
                                "/payment-sessions/ -H 'Authorization: Bearer rk_your_api_key' -H "
                                "'Content-Type: application/json' -d '" +
                                body + "' 2>&1";
        const auto res = run_capture(cmd);
        EXPECT_NE(res.find("HTTP 201"), std::string::npos) << res;
        EXPECT_NE(res.find("\"session_token\":\"ps_"), std::string::npos) << res;
    } else {
        std::ifstream in(ca);
        std::stringstream pem;
        pem << in.rdbuf();
        test_client_options o;
        o.port = port;
        o.ca_pem = pem.str();
        https_test_client client(o);
        http_reply r;
        ASSERT_FALSE(
            client.request("POST", "/api/v1/payment-sessions/", create_headers(), body, r));
        EXPECT_EQ(r.status, 201u);
    }
    c.signal(SIGTERM);
    EXPECT_EQ(c.wait(20s), 0);
    EXPECT_NE(c.read_until("sessions created", 1s).find("1 sessions created"), std::string::npos);
}

TEST_F(sandbox_command, plain_http_and_fault_flags) {
    child c({"--listen", "127.0.0.1:0", "--plain-http", "--threads", "2", "--fault",
             "server_error.every_nth=1", "--fault", "server_error.status=502"});
    ASSERT_TRUE(c.started());
    const auto client =
        plain_client_from_banner(c.read_until("faults:", 20s), R"(http://127\.0\.0\.1)");
    ASSERT_TRUE(client);
    http_reply r;
    ASSERT_FALSE(client->request("POST", "/api/v1/payment-sessions/", create_headers(),
                                 example_create_body(), r));
    EXPECT_EQ(r.status, 502u);
    c.signal(SIGINT);
    EXPECT_EQ(c.wait(20s), 0);
}

TEST_F(sandbox_command, off_loopback_the_banner_shows_the_bound_address_and_warns) {
    const std::string token = "cli-adm-7f3a9c";
    child c({"--listen", "0.0.0.0:0", "--cert-dir", dir_.string(), "--threads", "1",
             "--admin-token", token});
    ASSERT_TRUE(c.started());
    const auto out = c.read_until("CA certificate:", 20s);
    std::smatch m;
    ASSERT_TRUE(
        std::regex_search(out, m, std::regex(R"(listening on https://0\.0\.0\.0:(\d+)/api/v1)")))
        << out;
    const std::string port = m[1];
    EXPECT_NE(out.find("from this host: https://127.0.0.1:" + port + "/api/v1"), std::string::npos)
        << out;
    EXPECT_NE(out.find("warning: listening on 0.0.0.0:" + port + ", not a loopback address"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("require the admin token"), std::string::npos) << out;

    // The container health check mode, against the running server (connecting to 127.0.0.1).
    {
        child probe({"--health-check", "https://127.0.0.1:" + port + "/sandbox/health"});
        EXPECT_EQ(probe.wait(20s), 0) << probe.read_until("", 0ms);
    }
    std::ifstream in(dir_ / "ca.crt");
    std::stringstream pem;
    pem << in.rdbuf();
    test_client_options o;
    o.port = static_cast<unsigned short>(std::stoi(port));
    o.ca_pem = pem.str();
    https_test_client client(o);
    http_reply r;
    ASSERT_FALSE(client.request("GET", "/sandbox/stats", {}, "", r));
    EXPECT_EQ(r.status, 401u);
    ASSERT_FALSE(
        client.request("GET", "/sandbox/stats", {{"Authorization", "Bearer " + token}}, "", r));
    EXPECT_EQ(r.status, 200u);
    c.signal(SIGTERM);
    EXPECT_EQ(c.wait(20s), 0);
    EXPECT_EQ(c.read_until("", 0ms).find(token), std::string::npos)
        << "the admin token must never be printed";
}

TEST_F(sandbox_command, health_check_fails_when_nothing_answers) {
    // A port that was just free: bind, read it, close.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    child probe({"--health-check",
                 "https://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/sandbox/health"});
    EXPECT_EQ(probe.wait(20s), 1);
    EXPECT_NE(probe.read_until("", 0ms).find("health check"), std::string::npos);
    child bad({"--health-check", "ftp://x/"});
    EXPECT_EQ(bad.wait(20s), 1);
}

TEST_F(sandbox_command, retention_flags_and_the_admin_token_from_the_environment) {
    ::setenv("CATALYST_SANDBOX_ADMIN_TOKEN", "env-adm-1234", 1);
    child c({"--listen", "0.0.0.0:0", "--plain-http", "--threads", "1", "--max-sessions", "2",
             "--max-idempotency-records", "3", "--idempotency-ttl", "24h"});
    ::unsetenv("CATALYST_SANDBOX_ADMIN_TOKEN");
    ASSERT_TRUE(c.started());
    const auto client =
        plain_client_from_banner(c.read_until("from this host:", 20s), R"(http://0\.0\.0\.0)");
    ASSERT_TRUE(client);
    http_reply r;
    for (int i = 0; i < 4; ++i) {
        ASSERT_FALSE(client->request("POST", "/api/v1/payment-sessions/",
                                     create_headers("rk_your_api_key", "k" + std::to_string(i)),
                                     example_create_body(), r));
        EXPECT_EQ(r.status, 201u);
    }
    ASSERT_FALSE(client->request("GET", "/sandbox/stats",
                                 {{"Authorization", "Bearer env-adm-1234"}}, "", r));
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_NE(r.body.find("\"sessions_held\":2,"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("\"idempotency_records_held\":3,"), std::string::npos) << r.body;
    c.signal(SIGTERM);
    EXPECT_EQ(c.wait(20s), 0);

    for (const auto& [flag, value] :
         std::vector<std::pair<std::string, std::string>>{{"--idempotency-ttl", "soon"},
                                                          {"--idempotency-ttl", "400d"},
                                                          {"--max-sessions", "0"},
                                                          {"--max-idempotency-records", "-1"}}) {
        child bad({flag, value});
        EXPECT_EQ(bad.wait(10s), 2) << flag << " " << value;
        EXPECT_NE(bad.read_until("", 0ms).find(flag), std::string::npos) << flag;
    }
}

}  // namespace
