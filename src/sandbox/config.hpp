#ifndef CATALYST_SRC_SANDBOX_CONFIG_HPP
#define CATALYST_SRC_SANDBOX_CONFIG_HPP

#include <catalyst/sandbox.hpp>

namespace catalyst::sandbox_detail {

/// Fills defaults (campaigns, gateways) and checks every rule once; throws
/// sandbox_config_error naming the key.
sandbox_params normalize(sandbox_params p);

/// Splits "HOST:PORT", "[::1]:PORT" or ":PORT"; throws sandbox_config_error("listen", ...).
void parse_listen(std::string_view s, std::string& host, unsigned short& port);

}  // namespace catalyst::sandbox_detail

#endif
