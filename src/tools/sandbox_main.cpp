// catalyst-sandbox: the local CatalystPay API from the shell. See docs/sandbox.md.

#include <catalyst/sandbox.hpp>

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
  --fault NAME.FIELD=VALUE
                       inject a fault (repeatable), e.g. --fault server_error.every_nth=3
                       --fault server_error.status=502 --fault latency.probability=0.1
                       --fault latency.min_ms=50 --fault idle_timeout_ms=200
                       faults: latency server_error throttle close_before_read close_after_read
                       close_after_create reset_mid_response truncated_body garbage_body
                       trickle connection_close idle_timeout_ms
  -h, --help           this text

Admin endpoints: GET /sandbox/stats, GET /sandbox/ledger, GET|PUT /sandbox/faults.
SIGINT or SIGTERM stops the server.
)";

std::string default_cert_dir() {
    if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x) return (std::filesystem::path(x) / "catalyst-sandbox").string();
    if (const char* h = std::getenv("HOME"); h && *h)
        return (std::filesystem::path(h) / ".local" / "state" / "catalyst-sandbox").string();
    return ".catalyst-sandbox";
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string_view> args(argv + 1, argv + argc);
    catalyst::sandbox_params p;
    p.port = 8443;
    p.threads = std::max(1u, std::thread::hardware_concurrency());
    bool cert_dir_set = false;
    bool keys_replaced = false;
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
        std::cout << "catalyst-sandbox listening on " << sb.base_url() << " (" << sb.params().threads << " thread"
                  << (sb.params().threads == 1 ? "" : "s") << ")\n";
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
