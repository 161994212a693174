#include "cli/version.hpp"

#include <catalyst/version.hpp>

namespace catalyst::cli {

std::string_view version() noexcept { return CATALYST_VERSION_STRING; }

}  // namespace catalyst::cli
