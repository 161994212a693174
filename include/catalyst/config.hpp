#ifndef CATALYST_CONFIG_HPP
#define CATALYST_CONFIG_HPP

#include <catalyst/client_params.hpp>
#include <catalyst/export.hpp>

#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace catalyst {

/// A configuration problem; `key()` names the setting ("retry.max_attempts",
/// "CATALYST_MAX_CONNECTIONS"). The message never contains the API key.
class CATALYST_DECL config_error : public std::runtime_error {
public:
    config_error(std::string key, const std::string& reason);
    const std::string& key() const noexcept { return key_; }

private:
    std::string key_;
};

/// Reads a JSON object onto `p` (keys as in client_params, nested "retry", "tls", "rate";
/// durations in milliseconds with an "_ms" suffix: "connect_timeout_ms"). Unknown keys and
/// wrong types are refused with `config_error` naming the key path ("retry.max_attempts");
/// malformed JSON with the key "config". A refused document leaves `p` unchanged.
CATALYST_DECL void apply_json(client_params& p, std::string_view json);

/// Reads `path` and applies it as `apply_json` does. Throws config_error ("config file: ...")
/// when the file cannot be read.
CATALYST_DECL void apply_file(client_params& p, const std::string& path);

/// Applies the environment: CATALYST_BASE_URL, CATALYST_API_KEY, CATALYST_MAX_CONNECTIONS,
/// CATALYST_QUEUE_LIMIT, CATALYST_CONNECT_TIMEOUT_MS, CATALYST_TLS_HANDSHAKE_TIMEOUT_MS,
/// CATALYST_ATTEMPT_TIMEOUT_MS, CATALYST_OVERALL_TIMEOUT_MS, CATALYST_IDLE_TIMEOUT_MS,
/// CATALYST_MAX_ATTEMPTS, CATALYST_BASE_BACKOFF_MS, CATALYST_MAX_BACKOFF_MS,
/// CATALYST_IDEMPOTENCY (automatic|caller_keys_only|disabled), CATALYST_RATE_MODE
/// (fixed|adaptive), CATALYST_RATE_PER_SECOND, CATALYST_RATE_BURST, CATALYST_RATE_INITIAL,
/// CATALYST_RATE_MIN, CATALYST_RATE_MAX, CATALYST_RATE_MAX_PAUSE_MS,
/// CATALYST_RATE_LOCAL_THROTTLING, CATALYST_RATE_LOCAL_THROTTLING_WINDOW_MS,
/// CATALYST_CA_FILE, CATALYST_CA_DIR, CATALYST_TLS_SERVER_NAME, CATALYST_TLS_INSECURE_SKIP_VERIFY,
/// CATALYST_TLS13_CIPHERSUITES, CATALYST_TLS12_CIPHERS, CATALYST_THREADS. `getenv` is injectable for tests (empty: the process environment).
/// An empty variable counts as unset. Booleans: 1/0/true/false/yes/no/on/off. A malformed
/// value throws config_error naming the variable; `p` is then left unchanged.
using env_lookup = std::function<const char*(const char*)>;
CATALYST_DECL void apply_env(client_params& p, const env_lookup& getenv_fn = {});

/// Defaults, then the file (when `path` is not empty), then the environment, then `check()`.
CATALYST_DECL client_params load_client_params(const std::string& path = {}, const env_lookup& getenv_fn = {});

}  // namespace catalyst

#endif
