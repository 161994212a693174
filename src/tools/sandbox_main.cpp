// catalyst-sandbox: the local CatalystPay API from the shell. See docs/sandbox.md.

#include <catalyst/sandbox.hpp>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <iostream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <pthread.h>

namespace {

constexpr std::string_view usage = R"(Usage: catalyst-sandbox [options]

A local HTTPS server behaving like the CatalystPay session API, with fault injection.

Options:
  --listen HOST:PORT   address to serve (default 127.0.0.1:8443; port 0 = any free port)
  --config FILE        sandbox.json settings (flags given after it override it)
  --cert FILE          PEM server certificate chain (with --key)
  --key FILE           PEM server private key
  --cert-dir DIR       where the generated development CA and server certificate live
                       (default $XDG_STATE_HOME/catalyst-sandbox, ~/.local/state/catalyst-sandbox
                       or ./.catalyst-sandbox); reused when still valid
  --plain-http         serve plain HTTP instead of TLS (for debugging only)
  --threads N          server threads, one io_context each (default: the number of cores)
  --api-key KEY        accept this Bearer key (repeatable; replaces the default keys)
  --rate-limit R[:B]   per-key token bucket: R requests/s, burst B
  --no-idempotency     ignore Idempotency-Key, as the real API may
  --journal FILE       append one JSON line per created session
  --idempotency-ttl D  forget an idempotency key D after its first request (e.g. 500ms, 30s,
                       24h; default: never): a resend then creates a new session, as a real
                       API that forgets keys does
  --max-idempotency-records N
                       keep at most N idempotency records, forget the oldest (default 1000000)
  --max-sessions N     keep at most N sessions in the ledger, evict the oldest (default 1000000)
  --admin-token TOKEN  Bearer token required by the admin endpoints (all but /sandbox/health);
                       also $CATALYST_SANDBOX_ADMIN_TOKEN or "admin_token" in --config. Without
                       one, a sandbox listening off loopback disables those endpoints (403)
  --health-check URL   GET URL (e.g. https://127.0.0.1:8443/sandbox/health), exit 0 when it
                       answers 200, else 1; the certificate is not verified. For containers
  --fault NAME.FIELD=VALUE
                       inject a fault (repeatable), e.g. --fault server_error.every_nth=3
                       --fault server_error.status=502 --fault latency.probability=0.1
                       --fault latency.min_ms=50 --fault idle_timeout_ms=200
                       faults: latency server_error throttle close_before_read close_after_read
                       close_after_create reset_mid_response truncated_body garbage_body
                       trickle connection_close idle_timeout_ms
  -h, --help           this text

Admin endpoints: GET /sandbox/health, GET /sandbox/stats, GET /sandbox/ledger?offset=N&limit=M,
POST /sandbox/reset, GET|PUT /sandbox/faults.
SIGINT or SIGTERM stops the server.
)";

std::string default_cert_dir() {
    if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x) return (std::filesystem::path(x) / "catalyst-sandbox").string();
    if (const char* h = std::getenv("HOME"); h && *h)
        return (std::filesystem::path(h) / ".local" / "state" / "catalyst-sandbox").string();
    return ".catalyst-sandbox";
}

/// "500ms", "30s", "15m", "24h" or plain milliseconds.
std::chrono::milliseconds parse_duration(const std::string& flag, const std::string& v) {
    std::size_t used = 0;
    unsigned long long n = 0;
    try {
        if (v.empty() || v.front() < '0' || v.front() > '9') throw std::invalid_argument(v);
        n = std::stoull(v, &used);
    } catch (const std::exception&) {
        throw catalyst::sandbox_config_error(flag, "expected a duration like 500ms, 30s, 15m or 24h, got \"" + v + "\"");
    }
    const std::string unit = v.substr(used);
    unsigned long long scale = 0;
    if (unit.empty() || unit == "ms") scale = 1;
    else if (unit == "s") scale = 1000;
    else if (unit == "m") scale = 60'000;
    else if (unit == "h") scale = 3'600'000;
    else throw catalyst::sandbox_config_error(flag, "unknown unit \"" + unit + "\" (ms, s, m or h)");
    if (n > 366ull * 24 * 3'600'000 / scale) throw catalyst::sandbox_config_error(flag, "at most 366 days");
    return std::chrono::milliseconds(static_cast<long long>(n * scale));
}

std::size_t parse_count(const std::string& flag, const std::string& v) {
    char* end = nullptr;
    errno = 0;
    const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
    if (v.empty() || v.front() == '-' || !end || *end || errno || n < 1 || n > 1'000'000'000)
        throw catalyst::sandbox_config_error(flag, "must be 1..1000000000");
    return static_cast<std::size_t>(n);
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string_view> args(argv + 1, argv + argc);
    catalyst::sandbox_params p;
    p.port = 8443;
    p.threads = std::max(1u, std::thread::hardware_concurrency());
    bool cert_dir_set = false;
    bool keys_replaced = false;
    bool admin_token_flag = false;
    try {
        for (std::size_t i = 0; i < args.size(); ++i) {
            const std::string_view a = args[i];
            auto value = [&]() -> std::string {
                if (i + 1 >= args.size()) throw catalyst::sandbox_config_error(std::string(a), "needs a value");
                return std::string(args[++i]);
            };
            if (a == "-h" || a == "--help") {
                std::cout << usage;
                return 0;
            } else if (a == "--listen") {
                const auto v = value();
                catalyst::apply_sandbox_json(p, "{\"listen\":\"" + v + "\"}");
            } else if (a == "--config") {
                // Applied onto the current settings: keys the file leaves out keep the CLI's
                // defaults (port 8443, one thread per core) and earlier flags.
                const auto file = value();
                std::ifstream in(file, std::ios::binary);
                if (!in) throw catalyst::sandbox_config_error("config file", file + ": cannot be read");
                std::ostringstream text;
                text << in.rdbuf();
                try {
                    catalyst::apply_sandbox_json(p, text.str());
                } catch (const catalyst::sandbox_config_error& e) {
                    throw catalyst::sandbox_config_error(e.key(), std::string(e.what()) + " (in " + file + ")");
                }
            } else if (a == "--cert") {
                p.cert_file = value();
            } else if (a == "--key") {
                p.key_file = value();
            } else if (a == "--cert-dir") {
                p.cert_dir = value();
                cert_dir_set = true;
            } else if (a == "--plain-http") {
                p.plain_http = true;
            } else if (a == "--threads") {
                const auto v = value();
                char* end = nullptr;
                const long n = std::strtol(v.c_str(), &end, 10);
                if (!end || *end || n < 1 || n > 1024) throw catalyst::sandbox_config_error("--threads", "must be 1..1024");
                p.threads = static_cast<unsigned>(n);
            } else if (a == "--api-key") {
                if (!keys_replaced) p.api_keys.clear();
                keys_replaced = true;
                p.api_keys.push_back(value());
            } else if (a == "--rate-limit") {
                const auto v = value();
                const auto colon = v.find(':');
                try {
                    p.rate_limit_per_second = std::stod(v.substr(0, colon));
                    p.rate_limit_burst = colon == std::string::npos ? 0 : static_cast<unsigned>(std::stoul(v.substr(colon + 1)));
                } catch (const std::exception&) {
                    throw catalyst::sandbox_config_error("--rate-limit", "expected RATE or RATE:BURST, got \"" + v + "\"");
                }
            } else if (a == "--no-idempotency") {
                p.honour_idempotency = false;
            } else if (a == "--journal") {
                p.journal_file = value();
            } else if (a == "--idempotency-ttl") {
                p.idempotency_ttl = parse_duration("--idempotency-ttl", value());
            } else if (a == "--max-idempotency-records") {
                p.max_idempotency_records = parse_count("--max-idempotency-records", value());
            } else if (a == "--max-sessions") {
                p.max_sessions = parse_count("--max-sessions", value());
            } else if (a == "--admin-token") {
                p.admin_token = value();
                admin_token_flag = true;
            } else if (a == "--health-check") {
                const auto url = value();
                std::string error;
                if (catalyst::probe_sandbox_health(url, std::chrono::seconds(5), error)) return 0;
                std::cerr << "catalyst-sandbox: health check " << url << ": " << error << "\n";
                return 1;
            } else if (a == "--fault") {
                catalyst::apply_fault_setting(p.faults, value());
            } else {
                std::cerr << "catalyst-sandbox: unknown option " << a << " (see --help)\n";
                return 2;
            }
        }
    } catch (const std::exception& e) {
        std::cerr << "catalyst-sandbox: " << e.what() << "\n";
        return 2;
    }
    // Precedence: --admin-token, then the environment, then the config file.
    if (const char* t = std::getenv("CATALYST_SANDBOX_ADMIN_TOKEN"); t && *t && !admin_token_flag) p.admin_token = t;
    if (!p.plain_http && p.cert_file.empty() && p.cert_dir.empty() && !cert_dir_set) p.cert_dir = default_cert_dir();

    // The threads the sandbox starts inherit this mask: only sigwait below sees the signals.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    try {
        catalyst::sandbox sb(p);
        sb.start();
        // The address actually bound; then, when that is a wildcard, the URL to use from here.
        const std::string scheme = sb.params().plain_http ? "http://" : "https://";
        const std::string bound_url = scheme + sb.bound_address() + "/api/v1";
        std::cout << "catalyst-sandbox listening on " << bound_url << " (" << sb.params().threads << " thread"
                  << (sb.params().threads == 1 ? "" : "s") << ")\n";
        if (bound_url != sb.base_url()) std::cout << "from this host: " << sb.base_url() << "\n";
        if (!sb.ca_file().empty()) {
            std::cout << "CA certificate: " << sb.ca_file() << "\n"
                      << "try: curl --cacert " << sb.ca_file() << " " << sb.base_url() << "/payment-sessions/ \\\n"
                      << "  -H 'Authorization: Bearer " << (sb.params().api_keys.front().rfind("rk_your", 0) == 0 ? sb.params().api_keys.front() : std::string("<your key>"))
                      << "' -H 'Content-Type: application/json' \\\n"
                      << "  -d '{\"campaign_id\":\"a1b2c3d4-e5f6-7890-abcd-ef1234567890\",\"lead\":{\"first_name\":\"Max\","
                         "\"last_name\":\"Mustermann\",\"email\":\"max@example.com\",\"country\":\"DE\"}}'\n";
        }
        if (sb.params().faults.any()) std::cout << "faults: " << catalyst::to_json(sb.params().faults) << "\n";
        std::cout.flush();
        int sig = 0;
        sigwait(&stop_signals, &sig);
        std::cout << "catalyst-sandbox: signal " << sig << ", stopping\n";
        sb.stop();
        const auto s = sb.stats();
        std::cout << "catalyst-sandbox: " << s.requests << " requests, " << s.created << " sessions created\n";
    } catch (const std::exception& e) {
        std::cerr << "catalyst-sandbox: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
