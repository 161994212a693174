#include "cli/api_options.hpp"

#include <catalyst/config.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace catalyst::cli {

std::string api_key_refusal() {
    return "a key on the command line is visible to every user of this machine (ps, /proc) and stays in shell "
           "history. Put it in CATALYST_API_KEY or in a file read with --api-key-file FILE.";
}

api_option_handles add_api_options(command_line& cl, api_options& o, const api_option_names& names) {
    cl.text("--config", "FILE", "client settings (JSON, keys as client_params); the CATALYST_* environment applies on top",
            o.config_file);
    auto url = cl.text(names.base_url, "URL", "API base URL up to /api/v1 (else CATALYST_BASE_URL or the config file)",
                       o.base_url);
    auto ca = cl.text(names.cacert, "FILE", "PEM bundle of the CAs to trust (as curl; else CATALYST_CA_FILE)", o.ca_file);
    cl.text("--api-key-file", "FILE", "file holding the API key (else CATALYST_API_KEY)", o.api_key_file);
    cl.refuse("--api-key,--api_key", api_key_refusal());
    return {url, ca};
}

std::string read_api_key_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw config_error("--api-key-file", "cannot read " + path + ": " + std::strerror(errno));
    std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto blank = [](char c) { return c == '\n' || c == '\r' || c == ' ' || c == '\t'; };
    while (!key.empty() && blank(key.back())) key.pop_back();
    while (!key.empty() && blank(key.front())) key.erase(key.begin());
    if (key.empty()) throw config_error("--api-key-file", path + " is empty");
    return key;
}

resolved_api resolve(const api_options& o, const env_function& env) {
    resolved_api r;
    const std::string default_url = r.params.base_url;
    r.params.base_url.clear();  // whatever sets it from here on was configured
    if (!o.config_file.empty()) apply_file(r.params, o.config_file);
    apply_env(r.params, env);
    if (o.base_url) r.params.base_url = *o.base_url;
    if (!o.ca_file.empty()) r.params.tls.ca_file = o.ca_file;
    if (!o.api_key_file.empty()) r.params.api_key = read_api_key_file(o.api_key_file);
    r.base_url_configured = !r.params.base_url.empty();
    if (!r.base_url_configured) r.params.base_url = default_url;
    return r;
}

std::string api_environment_help() {
    return "Environment (the flags win; see docs/client.md): CATALYST_BASE_URL, CATALYST_API_KEY, CATALYST_CA_FILE,\n"
           "  CATALYST_CA_DIR, CATALYST_TLS_SERVER_NAME, CATALYST_MAX_CONNECTIONS, CATALYST_QUEUE_LIMIT,\n"
           "  CATALYST_*_TIMEOUT_MS (CONNECT, TLS_HANDSHAKE, ATTEMPT, OVERALL, IDLE), CATALYST_MAX_ATTEMPTS,\n"
           "  CATALYST_BASE_BACKOFF_MS, CATALYST_MAX_BACKOFF_MS, CATALYST_IDEMPOTENCY, CATALYST_THREADS,\n"
           "  CATALYST_RATE_* (MODE, PER_SECOND, BURST, INITIAL, MIN, MAX, MAX_PAUSE_MS, LOCAL_THROTTLING,\n"
           "  LOCAL_THROTTLING_WINDOW_MS).\n";
}

}  // namespace catalyst::cli
