#include "cli/api_options.hpp"

#include "cli/fake_env.hpp"

#include <catalyst/config.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <unistd.h>

using catalyst::cli::api_options;
using catalyst::cli::command_line;

using catalyst::cli::test::fake_env;

namespace {

std::string temp_file(const std::string& text) {
    std::string path = ::testing::TempDir() + "/cli_api_" + std::to_string(::getpid()) + "_" +
                       ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::ofstream(path, std::ios::binary) << text;
    return path;
}

}  // namespace

TEST(cli_api_options, defaults_then_file_then_environment_then_flags) {
    const std::string config = temp_file(R"({"base_url":"https://file/api/v1","max_connections":7})");
    fake_env env{{{"CATALYST_MAX_CONNECTIONS", "9"}, {"CATALYST_CA_FILE", "/env/ca.pem"}, {"CATALYST_API_KEY", "rk_env"}}};
    api_options o;
    command_line cl("t", "t");
    catalyst::cli::add_api_options(cl, o);
    cl.parse(std::vector<std::string>{"--config=" + config, "--cacert", "/flag/ca.pem"}, env.fn());
    auto r = catalyst::cli::resolve(o, env.fn());
    EXPECT_TRUE(r.base_url_configured);
    EXPECT_EQ(r.params.base_url, "https://file/api/v1");
    EXPECT_EQ(r.params.max_connections, 9u);            // the environment over the file
    EXPECT_EQ(r.params.tls.ca_file, "/flag/ca.pem");    // --cacert over CATALYST_CA_FILE
    EXPECT_EQ(r.params.api_key, "rk_env");
    std::remove(config.c_str());
}

TEST(cli_api_options, no_base_url_anywhere_is_reported_and_keeps_the_default) {
    api_options o;
    auto r = catalyst::cli::resolve(o, fake_env{}.fn());
    EXPECT_FALSE(r.base_url_configured);
    EXPECT_EQ(r.params.base_url, catalyst::client_params{}.base_url);
    fake_env env{{{"CATALYST_BASE_URL", "https://env/api/v1"}}};
    EXPECT_TRUE(catalyst::cli::resolve(o, env.fn()).base_url_configured);
    o.base_url = "https://flag/api/v1";
    auto f = catalyst::cli::resolve(o, env.fn());
    EXPECT_TRUE(f.base_url_configured);
    EXPECT_EQ(f.params.base_url, "https://flag/api/v1");
}

TEST(cli_api_options, the_key_file_and_bad_settings_name_their_source) {
    const std::string key = temp_file("  rk_file_key \n");
    api_options o;
    o.api_key_file = key;
    EXPECT_EQ(catalyst::cli::resolve(o, fake_env{}.fn()).params.api_key, "rk_file_key");
    std::remove(key.c_str());
    try {
        catalyst::cli::resolve(o, fake_env{}.fn());
        ADD_FAILURE() << "a missing key file was accepted";
    } catch (const catalyst::config_error& e) {
        EXPECT_EQ(e.key(), "--api-key-file");
    }
    fake_env bad{{{"CATALYST_MAX_CONNECTIONS", "many"}}};
    try {
        catalyst::cli::resolve(api_options{}, bad.fn());
        ADD_FAILURE() << "a malformed variable was accepted";
    } catch (const catalyst::config_error& e) {
        EXPECT_EQ(e.key(), "CATALYST_MAX_CONNECTIONS");
    }
}

TEST(cli_api_options, an_api_key_on_the_command_line_is_refused) {
    api_options o;
    command_line cl("t", "t");
    catalyst::cli::add_api_options(cl, o);
    EXPECT_THROW(cl.parse(std::vector<std::string>{"--api-key=rk_x"}), catalyst::cli::usage_error);
    EXPECT_NE(cl.help().find("--cacert"), std::string::npos);
}
