// catalyst-sandbox in the command-line style of every catalyst tool: --version, --flag=value,
// booleans that refuse what they do not understand, --tls-cert/--tls-key with the old
// --cert/--key kept, every flag over --config wherever it stands.
#include "batch/process.hpp"
#include "cli/version.hpp"
#include "support/https_test_client.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;
namespace proc = catalyst::batch::test;

const std::string sandbox_exe = std::string(CATALYST_BINARY_DIR) + "/src/tools/catalyst-sandbox";

class sandbox_cli_style : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("catalyst-sb-style-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    proc::result run(const std::vector<std::string>& args) { return proc::run(sandbox_exe, args, {}, dir_.string()); }

    /// Starts the server, waits (bounded) for its banner, stops it with SIGTERM; the banner.
    std::string banner_of(const std::vector<std::string>& args) {
        auto c = proc::spawn(sandbox_exe, args, {}, dir_.string());
        std::string out;
        for (int i = 0; i < 400 && out.find("listening on") == std::string::npos; ++i) {
            std::this_thread::sleep_for(25ms);
            out = proc::slurp(c.out_path);
            if (::waitpid(c.pid, nullptr, WNOHANG) == c.pid) return out + proc::slurp(c.err_path);
        }
        ::kill(c.pid, SIGTERM);
        EXPECT_EQ(proc::wait_for(c, 20s), 0);
        return proc::slurp(c.out_path) + proc::slurp(c.err_path);
    }
    std::filesystem::path dir_;
};

}  // namespace

TEST_F(sandbox_cli_style, version_and_help) {
    auto v = run({"--version"});
    EXPECT_EQ(v.code, 0);  // the hand-written parser: "unknown option --version", exit 2
    EXPECT_EQ(v.out, "catalyst-sandbox " + std::string(catalyst::cli::version()) + "\n");
    auto h = run({"--help"});
    EXPECT_EQ(h.code, 0);
    for (const char* part : {"--tls-cert,--cert", "--tls-key,--key", "deprecated", "--listen HOST:PORT", "Exit codes:",
                             "CATALYST_SANDBOX_ADMIN_TOKEN"})
        EXPECT_NE(h.out.find(part), std::string::npos) << "--help lacks " << part;
}

TEST_F(sandbox_cli_style, booleans_refuse_what_they_do_not_understand) {
    auto r = run({"--plain-http=maybe"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("--plain-http: expected true or false"), std::string::npos) << r.err;
    auto n = run({"--no-idempotency=perhaps"});
    EXPECT_EQ(n.code, 2);
    EXPECT_NE(n.err.find("--no-idempotency"), std::string::npos) << n.err;
}

TEST_F(sandbox_cli_style, equals_forms_and_plain_http_false_serves_tls) {
    const auto out = banner_of({"--listen=127.0.0.1:0", "--threads=1", "--plain-http=false",
                                "--cert-dir=" + (dir_ / "certs").string(), "--idempotency-ttl=30s"});
    EXPECT_TRUE(std::regex_search(out, std::regex(R"(listening on https://127\.0\.0\.1:\d+/api/v1)"))) << out;
}

TEST_F(sandbox_cli_style, tls_files_by_the_new_and_the_old_names) {
    const auto certs = dir_ / "certs";
    banner_of({"--listen=127.0.0.1:0", "--threads=1", "--cert-dir=" + certs.string()});  // generates them
    ASSERT_TRUE(std::filesystem::exists(certs / "server.crt"));
    const std::string crt = (certs / "server.crt").string(), key = (certs / "server.key").string();
    for (const auto& args : {std::vector<std::string>{"--tls-cert=" + crt, "--tls-key=" + key},
                             std::vector<std::string>{"--cert", crt, "--key", key}}) {
        auto full = args;
        full.insert(full.end(), {"--listen=127.0.0.1:0", "--threads=1"});
        const auto out = banner_of(full);
        EXPECT_TRUE(std::regex_search(out, std::regex(R"(listening on https://127\.0\.0\.1:\d+/api/v1)")))
            << args.front() << ":\n" << out;
    }
}

TEST_F(sandbox_cli_style, a_flag_before_config_still_overrides_it) {
    // config/sandbox.json listens on 127.0.0.1:8443; the flag given first wins all the same.
    const auto out = banner_of({"--listen=127.0.0.1:0", "--config", std::string(CATALYST_SOURCE_DIR) + "/config/sandbox.json",
                                "--plain-http", "--threads=1"});
    std::smatch m;
    ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(listening on http://127\.0\.0\.1:(\d+)/api/v1)"))) << out;
    EXPECT_NE(m[1], "8443");
}
