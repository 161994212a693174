// catalyst/version.hpp is generated from project(VERSION); the user agent and the tools use it.
#include <catalyst/client_params.hpp>
#include <catalyst/version.hpp>

#include <gtest/gtest.h>

#include <string>

namespace catalyst {
namespace {

TEST(version, the_string_is_major_minor_patch) {
    const std::string parts = std::to_string(CATALYST_VERSION_MAJOR) + "." + std::to_string(CATALYST_VERSION_MINOR) +
                              "." + std::to_string(CATALYST_VERSION_PATCH);
    EXPECT_EQ(CATALYST_VERSION_STRING, parts);
    EXPECT_EQ(CATALYST_VERSION,
              CATALYST_VERSION_MAJOR * 100000 + CATALYST_VERSION_MINOR * 100 + CATALYST_VERSION_PATCH);
}

TEST(version, the_default_user_agent_carries_the_library_version) {
    EXPECT_EQ(client_params{}.user_agent, std::string("catalyst/") + CATALYST_VERSION_STRING);
}

}  // namespace
}  // namespace catalyst
