#include "cli/version.hpp"

#if __has_include(<catalyst/version.hpp>)
#include <catalyst/version.hpp>
#endif

namespace catalyst::cli {

std::string_view version() noexcept {
#if defined(CATALYST_VERSION_STRING)
    return CATALYST_VERSION_STRING;
#else
    return CATALYST_CLI_FALLBACK_VERSION;  // set by src/cli/CMakeLists.txt from project(VERSION)
#endif
}

}  // namespace catalyst::cli
