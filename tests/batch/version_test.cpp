// catalyst-batch --version prints the library's version (catalyst/version.hpp), not a copy.
#include "process.hpp"

#include <catalyst/version.hpp>

#include <gtest/gtest.h>

#include <filesystem>

namespace catalyst::batch {
namespace {

TEST(batch_version, prints_the_library_version) {
    const auto dir = std::filesystem::temp_directory_path() / ("catalyst-batch-version-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const test::result r = test::run(CATALYST_BATCH_EXE, {"--version"}, {}, dir.string());
    std::filesystem::remove_all(dir);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, std::string("catalyst-batch ") + CATALYST_VERSION_STRING + "\n");
}

}  // namespace
}  // namespace catalyst::batch
