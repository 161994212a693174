// catalyst-sandbox: the local CatalystPay API from the shell. See docs/sandbox.md.

#include "cli/command_line.hpp"
#include "cli/values.hpp"
#include "sandbox/faults.hpp"

#include <catalyst/sandbox.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <pthread.h>

namespace {

std::string default_cert_dir() {
    if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x) return (std::filesystem::path(x) / "catalyst-sandbox").string();
    if (const char* h = std::getenv("HOME"); h && *h)
        return (std::filesystem::path(h) / ".local" / "state" / "catalyst-sandbox").string();
    return ".catalyst-sandbox";
}

// A setting refused by the sandbox's own parsers, reworded so that the flag is named first.
template <class F>
void as_flag_value(F&& apply) {
    try {
        apply();
    } catch (const catalyst::sandbox_config_error& e) {
        throw catalyst::cli::value_error(e.what());
    }
}

// The --fault help: every fault of the sandbox's table, one line each.
std::string fault_help() {
    std::string out = "inject a fault (repeatable), e.g. --fault server_error.every_nth=3 --fault latency.min_ms=50; "
                      "FIELD: probability, every_nth, or the fault's own; the faults:";
    for (const auto& row : catalyst::sandbox_detail::fault_table)
        out += "\n  " + std::string(row.name) + ": " + std::string(row.help);
    out += "\n  idle_timeout_ms (a value, e.g. --fault idle_timeout_ms=200): " +
           std::string(catalyst::sandbox_detail::idle_timeout_help);
    return out;
}

struct cli_state {
    bool cert_dir_set = false;
    bool keys_replaced = false;
    bool no_idempotency = false;
    std::optional<std::string> health_check;
};

// Every flag of catalyst-sandbox, bound to `p`. Applied in this order whatever their order on
// the command line: --config first, so that every flag overrides the file.
void describe(catalyst::cli::command_line& cl, catalyst::sandbox_params& p, cli_state& st) {
    namespace cli = catalyst::cli;
    using namespace std::chrono_literals;
    using std::chrono::nanoseconds;
    cl.section("Server");
    cl.value("--config", "FILE", "sandbox.json settings (config/sandbox.json); every flag overrides it",
             [&p](const std::string& file) {
                 // Applied onto the defaults of this command (port 8443, one thread per core).
                 std::ifstream in(file, std::ios::binary);
                 if (!in) throw catalyst::sandbox_config_error("config file", file + ": cannot be read");
                 std::ostringstream text;
                 text << in.rdbuf();
                 try {
                     catalyst::apply_sandbox_json(p, text.str());
                 } catch (const catalyst::sandbox_config_error& e) {
                     throw catalyst::sandbox_config_error(e.key(), std::string(e.what()) + " (in " + file + ")");
                 }
             });
    cl.value("--listen", "HOST:PORT", "address to serve (default 127.0.0.1:8443; port 0 = any free port)",
             [&p](const std::string& v) {
                 as_flag_value([&] { catalyst::apply_sandbox_json(p, "{\"listen\":\"" + v + "\"}"); });
             });
    cl.text("--tls-cert,--cert", "FILE", "PEM server certificate chain (with --tls-key; --cert: the old spelling, "
            "deprecated)", p.cert_file);
    cl.text("--tls-key,--key", "FILE", "PEM server private key (--key: the old spelling, deprecated)", p.key_file);
    cl.value("--cert-dir", "DIR", "where the generated development CA and server certificate live (default "
             "$XDG_STATE_HOME/catalyst-sandbox, ~/.local/state/catalyst-sandbox or ./.catalyst-sandbox); reused when "
             "still valid", [&](const std::string& v) {
                 p.cert_dir = v;
                 st.cert_dir_set = true;
             });
    cl.flag("--plain-http", "serve plain HTTP instead of TLS (for debugging only)", p.plain_http);
    cl.whole("--threads", "server threads, one io_context each (default: the number of cores)", 1, 1024,
             [&p](std::uint64_t n) { p.threads = static_cast<unsigned>(n); });

    cl.section("Behaviour");
    cl.value("--api-key", "KEY", "accept this Bearer key (repeatable; replaces the default keys)",
             [&](const std::string& v) {
                 if (!st.keys_replaced) p.api_keys.clear();
                 st.keys_replaced = true;
                 p.api_keys.push_back(v);
             })
        .repeatable();
    cl.value("--rate-limit", "R[:B]", "per-key token bucket: R requests/s, burst B", [&p](const std::string& v) {
        const auto colon = v.find(':');
        p.rate_limit_per_second = cli::parse_number(std::string_view(v).substr(0, colon), 0, 1e9);
        p.rate_limit_burst = colon == std::string::npos
                                 ? 0
                                 : static_cast<unsigned>(cli::parse_whole(std::string_view(v).substr(colon + 1), 0, 1'000'000'000));
    });
    cl.value("--rate-limit-schedule", "SCHEDULE",
             "a global limit over all keys and clients whose rate follows SCHEDULE from the start: RATE@DURATION "
             "steps, the last a RATE alone that lasts for ever, e.g. 400@15s,200@15s,400 (requests/s; token bucket, "
             "burst rate/20, at least 1; 429 with Retry-After above it); restart it with POST "
             "/sandbox/rate-limit-schedule",
             [&p](const std::string& v) {
                 as_flag_value([&] { p.rate_limit_schedule = catalyst::parse_rate_limit_schedule(v, ""); });
             })
        .env("CATALYST_SANDBOX_RATE_LIMIT_SCHEDULE");
    cl.flag("--no-idempotency", "ignore Idempotency-Key, as the real API may", st.no_idempotency);
    cl.text("--journal", "FILE", "append one JSON line per created session", p.journal_file);
    cl.duration("--idempotency-ttl", "forget an idempotency key this long after its first request (500ms, 30s, 24h; "
                "a plain number counts milliseconds; default: never): a resend then creates a new session, as a real "
                "API that forgets keys does", 1ms, [&p](nanoseconds d) {
                    if (d > 366 * 24h) throw cli::value_error("at most 366 days");
                    p.idempotency_ttl = std::chrono::duration_cast<std::chrono::milliseconds>(d);
                });
    cl.whole("--max-idempotency-records", "keep at most N idempotency records, forget the oldest (default 1000000)", 1,
             1'000'000'000, [&p](std::uint64_t n) { p.max_idempotency_records = n; });
    cl.whole("--max-sessions", "keep at most N sessions in the ledger, evict the oldest (default 1000000)", 1,
             1'000'000'000, [&p](std::uint64_t n) { p.max_sessions = n; });
    cl.text("--admin-token", "TOKEN", "Bearer token required by the admin endpoints (all but /sandbox/health); also "
            "\"admin_token\" in --config. Without one, a sandbox listening off loopback disables those endpoints (403)",
            p.admin_token)
        .env("CATALYST_SANDBOX_ADMIN_TOKEN");
    cl.value("--fault", "NAME.FIELD=VALUE", fault_help(),
             [&p](const std::string& v) { as_flag_value([&] { catalyst::apply_fault_setting(p.faults, v); }); })
        .repeatable();

    cl.section("Container");
    cl.text("--health-check", "URL", "GET URL (e.g. https://127.0.0.1:8443/sandbox/health), exit 0 when it answers 200, "
            "else 1; the certificate is not verified", st.health_check);

    cl.footer("A local HTTPS server behaving like the CatalystPay session API, with fault injection (docs/sandbox.md).\n"
              "Admin endpoints: GET /sandbox/health, GET /sandbox/stats, GET /sandbox/ledger?offset=N&limit=M,\n"
              "POST /sandbox/reset, GET|PUT /sandbox/faults, GET|POST /sandbox/rate-limit-schedule.\n"
              "SIGINT or SIGTERM stops the server.\n\n" +
              cli::exit_codes_text({{0, "stopped by SIGINT/SIGTERM; with --health-check: the server answered 200"},
                                    {1, "the server could not start or failed; with --health-check: no 200"},
                                    {2, "usage or configuration error (the message names the flag or setting)"}}));
}

}  // namespace

int main(int argc, char** argv) {
    catalyst::sandbox_params p;
    p.port = 8443;
    p.threads = std::max(1u, std::thread::hardware_concurrency());
    cli_state st;
    catalyst::cli::command_line cl("catalyst-sandbox", "catalyst-sandbox: the CatalystPay session API on this machine.");
    describe(cl, p, st);
    try {
        if (auto code = catalyst::cli::parse_or_exit(cl, argc, argv)) return *code;
    } catch (const std::exception& e) {  // a sandbox_config_error of --config, naming the file
        std::cerr << "catalyst-sandbox: " << e.what() << "\n";
        return 2;
    }
    if (st.health_check) {
        std::signal(SIGPIPE, SIG_IGN);  // a server closing mid-request is an answer, not a crash
        std::string error;
        if (catalyst::probe_sandbox_health(*st.health_check, std::chrono::seconds(5), error)) return 0;
        std::cerr << "catalyst-sandbox: health check " << *st.health_check << ": " << error << "\n";
        return 1;
    }
    if (cl.given("--no-idempotency")) p.honour_idempotency = !st.no_idempotency;
    // The admin token: --admin-token, then CATALYST_SANDBOX_ADMIN_TOKEN (both by the command line),
    // then the config file.
    if (!p.plain_http && p.cert_file.empty() && p.cert_dir.empty() && !st.cert_dir_set) p.cert_dir = default_cert_dir();

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
