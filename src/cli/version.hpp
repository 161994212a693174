#ifndef CATALYST_CLI_VERSION_HPP
#define CATALYST_CLI_VERSION_HPP

#include <string_view>

namespace catalyst::cli {

/// The catalyst version every tool's --version prints: CATALYST_VERSION_STRING from the
/// generated <catalyst/version.hpp> when the build has one, else the project() version
/// CMake passes in.
std::string_view version() noexcept;

}  // namespace catalyst::cli

#endif
