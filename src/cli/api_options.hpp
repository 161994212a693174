#ifndef CATALYST_CLI_API_OPTIONS_HPP
#define CATALYST_CLI_API_OPTIONS_HPP

// The options every tool that talks to the API shares: --config FILE, --base-url URL,
// --cacert FILE (as curl), --api-key-file FILE, over the CATALYST_* environment of
// <catalyst/config.hpp>. An API key on the command line is refused.

#include "cli/command_line.hpp"

#include <catalyst/client_params.hpp>

#include <optional>
#include <string>

namespace catalyst::cli {

struct api_options {
    std::string config_file;              ///< --config FILE: client settings (JSON)
    std::optional<std::string> base_url;  ///< --base-url URL
    std::string ca_file;                  ///< --cacert FILE
    std::string api_key_file;             ///< --api-key-file FILE
};

/// The spellings of the two options some tools name their own way (first name first).
struct api_option_names {
    std::string base_url = "--base-url";
    std::string cacert = "--cacert";
};

/// The added options a tool may adjust (an environment variable of its own, ...).
struct api_option_handles {
    command_line::option base_url;
    command_line::option cacert;
};

/// Adds --config, --base-url, --cacert and --api-key-file, and refuses --api-key.
api_option_handles add_api_options(command_line& cl, api_options& o, const api_option_names& names = {});

/// Why an API key is refused on the command line (for a tool that refuses more spellings).
std::string api_key_refusal();

/// What the settings resolve to.
struct resolved_api {
    client_params params;
    /// A base URL came from --base-url, CATALYST_BASE_URL or the config file (tools start an
    /// embedded sandbox when none did).
    bool base_url_configured = false;
};

/// Defaults, then the config file, then the CATALYST_* environment, then the flags. Reads the
/// key file. Does not call check(): the caller completes the settings first. Throws
/// config_error naming the setting.
resolved_api resolve(const api_options& o, const env_function& env = {});

/// The key in `path` (surrounding blanks and the newline dropped); throws
/// config_error("--api-key-file", ...) when it cannot be read or is empty.
std::string read_api_key_file(const std::string& path);

/// The footer paragraph naming the environment variables (for --help).
std::string api_environment_help();

}  // namespace catalyst::cli

#endif
