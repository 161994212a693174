#ifndef CATALYST_SANDBOX_HPP
#define CATALYST_SANDBOX_HPP

// catalyst::sandbox: a local HTTPS server that behaves like the CatalystPay session API
// (docs/api.md) and misbehaves on demand. It is the default target of the
// demo, of every integration test and of the benchmarks. See docs/sandbox.md.
//
// This header carries no Asio/Beast: the server lives in src/sandbox/*.cpp.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace catalyst {

/// What a campaign does with a lead whose email (compared case-insensitively) it already has.
enum class duplicate_policy {
    allow,   ///< a new session every time (201)
    reject,  ///< 409 `{"detail": "...", "code": "duplicate_lead"}`
    reuse,   ///< 200 with the existing session's body (same token)
};
std::string_view to_string(duplicate_policy p) noexcept;

/// A campaign the sandbox knows. Requests naming another `campaign_id` get 404.
struct sandbox_campaign {
    std::string id;  ///< lower-case hyphenated UUID
    duplicate_policy duplicates = duplicate_policy::allow;
    std::string gateway_id;  ///< informational; "" = none
};

/// When a fault fires: with `probability` (0..1, drawn per eligible request; read from JSON
/// and `--fault` to the nearest multiple of 1e-9), and/or on
/// every `every_nth` eligible request (1 = every one, 0 = never). Both zero: off.
/// Eligible requests are those under `/api/` (the admin endpoints `/sandbox/*` are exempt),
/// counted from 1 since the last `set_faults` / start; `close_before_read` counts every
/// request the server is about to read, admin ones included (the path is not known yet).
struct fault_trigger {
    double probability = 0;
    unsigned every_nth = 0;

    bool enabled() const noexcept { return probability > 0 || every_nth > 0; }
};

/// Body of an injected 5xx.
enum class fault_body { json, html, empty };

/// Every misbehaviour the sandbox can inject. Each counts in `sandbox_stats::faults_injected`
/// under the name of its field ("server_error", "close_after_create", ...).
///
/// Several faults may fire on one request; they apply in this order, and the first that ends
/// the exchange wins: latency (adds to anything) -> close_after_read -> throttle ->
/// server_error -> [the request is processed] -> close_after_create -> reset_mid_response ->
/// truncated_body -> garbage_body -> trickle; connection_close adds `Connection: close` to
/// whatever answer is sent.
struct fault_params {
    /// Sleep before answering: `latency_min`, or uniform in [latency_min, latency_max] when
    /// latency_max > latency_min.
    fault_trigger latency;
    std::chrono::milliseconds latency_min{0};
    std::chrono::milliseconds latency_max{0};

    /// Answer `server_error_status` (500, 502, 503 or 504) without processing the request.
    /// `Retry-After: server_error_retry_after` when it is > 0 (seconds). Body: a JSON
    /// `detail`, an HTML page, or nothing.
    fault_trigger server_error;
    unsigned server_error_status = 503;
    unsigned server_error_retry_after = 0;
    fault_body server_error_body = fault_body::json;

    /// Answer 429 with `Retry-After: throttle_retry_after` (seconds) without processing.
    fault_trigger throttle;
    unsigned throttle_retry_after = 1;

    /// Close the connection instead of reading the next request (the client sees its request
    /// land on a closed connection: the "stale keep-alive" case; the request never counted).
    fault_trigger close_before_read;
    /// Read the request completely, then close without answering and without creating
    /// anything (ambiguous for the client; a retry is harmless).
    fault_trigger close_after_read;
    /// Read and process the request (the session IS created and recorded for idempotency),
    /// then close without answering: the ambiguous case a client must survive without
    /// creating a second session.
    fault_trigger close_after_create;
    /// Process the request, send part of the response, then reset the connection
    /// (SO_LINGER 0 + close: the client reads ECONNRESET).
    fault_trigger reset_mid_response;
    /// Process the request, send the headers with the full Content-Length but only part of
    /// the body, then close.
    fault_trigger truncated_body;
    /// Process the request and answer with its real status but a body that is not JSON.
    fault_trigger garbage_body;
    /// Send the response one byte at a time, `trickle_delay` apart.
    fault_trigger trickle;
    std::chrono::milliseconds trickle_delay{1};
    /// Add `Connection: close` to the answer and close after it.
    fault_trigger connection_close;

    /// A short keep-alive idle timeout: when > 0 it replaces `sandbox_limits::idle_timeout`
    /// (the wait for the next request on a kept-alive connection).
    std::chrono::milliseconds idle_timeout{0};

    /// True when any trigger is enabled or `idle_timeout` is set.
    bool any() const noexcept;
};

/// Names of the faults as used in config files, `--fault`, `PUT /sandbox/faults` and stats.
std::vector<std::string> fault_names();

/// Hardening limits. 0 never means "unlimited" here.
struct sandbox_limits {
    std::size_t max_header_bytes = 8 * 1024;   ///< larger: 431 and close
    std::size_t max_body_bytes = 64 * 1024;    ///< larger: 413 and close
    std::size_t max_connections = 10'000;      ///< more: accepted and closed at once
    std::chrono::milliseconds handshake_timeout{10'000};  ///< TLS handshake
    std::chrono::milliseconds header_timeout{10'000};     ///< first byte to end of headers
    std::chrono::milliseconds body_timeout{10'000};       ///< end of headers to end of body
    /// One response write. Enforced loosely: a write is cut after at least this long, at the
    /// latest when the connection's pending keep-alive deadline passes too (one timer per
    /// connection, not per step).
    std::chrono::milliseconds write_timeout{10'000};
    std::chrono::milliseconds idle_timeout{30'000};       ///< keep-alive wait for the next request
};

/// One step of the global rate limit's schedule: `rate` requests per second for `duration`;
/// the last step has none (0) and lasts for ever.
struct sandbox_rate_step {
    double rate = 0;
    std::chrono::milliseconds duration{0};
};

/// Everything a sandbox is configured with. Defaults make the documentation's example
/// request work unchanged (key `rk_your_api_key`, campaign a1b2c3d4-...-ef1234567890).
struct sandbox_params {
    std::string listen_address = "127.0.0.1";
    unsigned short port = 0;  ///< 0 = ephemeral; read it back with `sandbox::port()`
    bool plain_http = false;  ///< serve plain HTTP instead of TLS (explicit opt-in only)
    /// PEM server certificate chain and key. Both empty: a development CA and a server
    /// certificate it signs (SAN IP:127.0.0.1, IP:::1, DNS:localhost) are generated.
    std::string cert_file, key_file;
    /// Where generated certificates live (ca.crt, server.crt, server.key; reused when present
    /// and valid). "" = generated in memory only.
    std::string cert_dir;
    /// Accepted Bearer keys. `rk_test_123` is what bench/reference/wrk-post.lua sends.
    std::vector<std::string> api_keys = {"rk_your_api_key", "rk_test_123"};
    /// Empty: the defaults of `default_sandbox_campaigns()`.
    std::vector<sandbox_campaign> campaigns;
    /// Gateways accepted in direct mode and as a campaign-mode override. Empty: the default
    /// `default_sandbox_gateway`.
    std::vector<std::string> gateways;
    /// false: `Idempotency-Key` is ignored, as the real API may do.
    bool honour_idempotency = true;
    /// How long a key is remembered, counted from its first request: after that a resend
    /// with the same key creates a new session, as a real API that forgets keys (typically
    /// after 24 h) does. 0 = for ever (the default).
    std::chrono::milliseconds idempotency_ttl{0};
    /// At most this many idempotency records (>= 1); when full, the oldest record is
    /// forgotten (a resend of its key then creates a new session). A record holds the
    /// SHA-256 of the request body and what a replay needs (the token, a short error body,
    /// nothing for a 400, which is recomputed): about 370 bytes with a 36-character key
    /// (measured; docs/sandbox.md, "Memory").
    std::size_t max_idempotency_records = 1'000'000;
    /// At most this many sessions in the ledger (>= 1); when full, the oldest session is
    /// evicted: GET of its token answers 404 and a reject/reuse campaign forgets its lead.
    /// Creating never fails because of this cap (long benchmarks keep running); the count
    /// is in `sandbox_stats::sessions_evicted`.
    std::size_t max_sessions = 1'000'000;
    /// Bearer token of the admin endpoints `/sandbox/*` (except `/sandbox/health`). When set
    /// it is always required; when empty and the sandbox listens on a non-loopback address,
    /// those endpoints answer 403. Compared in constant time; never logged.
    std::string admin_token;
    /// Token bucket per API key; 0 = no limit. Burst 0 = max(1, rate).
    double rate_limit_per_second = 0;
    unsigned rate_limit_burst = 0;
    /// A global limit over every key and client, beside the per-key one, whose rate follows
    /// these steps from the start (and from each `POST /sandbox/rate-limit-schedule`):
    /// `parse_rate_limit_schedule("400@15s,200@15s,400")`. Empty: none. A token bucket at the
    /// step's rate with a burst of rate/20 (at least 1); above it, 429 with Retry-After.
    std::vector<sandbox_rate_step> rate_limit_schedule;
    fault_params faults;
    /// One io_context (and thread) each; at least 1. The CLI defaults to the core count.
    unsigned threads = 1;
    /// `payment_url` = this + token.
    std::string payment_url_base = "https://pay.sandbox.catalystpay.test/s/";
    /// Optional JSON-lines journal of created sessions ("" = none). The API key is redacted;
    /// the lead's email is NOT written (only its campaign and the token).
    std::string journal_file;
    /// TLS 1.3 cipher suites the server accepts (OpenSSL names, colon-separated), in its order
    /// of preference: the client's default order, AES-128-GCM first. Refused when empty or
    /// naming an unknown suite.
    std::string tls13_ciphersuites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
    /// false (the default): the suite is the first of the client's list that the server
    /// accepts, as nginx's default and Mozilla's recommended TLS 1.3 settings do: the client
    /// knows whether it has AES hardware, and the client's own choice is what tests and
    /// benchmarks against the sandbox then see. true: the server's order wins
    /// (SSL_OP_CIPHER_SERVER_PREFERENCE), e.g. to give every client of a comparison (wrk,
    /// catalyst) the same suite.
    bool prefer_server_ciphers = false;
    sandbox_limits limits;
    /// The steady time of idempotency TTLs and rate limits. Empty (the default):
    /// std::chrono::steady_clock::now. A test passes a clock it advances itself, so that a
    /// key's expiry or a schedule's step needs no sleep. Called from the server's threads.
    std::function<std::chrono::steady_clock::time_point()> clock;
};

/// The default campaigns: the documentation's a1b2c3d4-e5f6-7890-abcd-ef1234567890 (allow),
/// 11111111-1111-4111-8111-111111111111 (reject) and 22222222-2222-4222-8222-222222222222 (reuse).
std::vector<sandbox_campaign> default_sandbox_campaigns();
/// The default gateway for direct mode.
inline constexpr std::string_view default_sandbox_gateway = "9f8e7d6c-5b4a-4321-8fed-cba987654321";

/// One second of the global rate limit.
struct sandbox_rate_second {
    std::uint64_t second = 0;    ///< since the schedule (re)started
    double limit = 0;            ///< requests/s in force at the second's start
    std::uint64_t accepted = 0;  ///< requests it let through
    std::uint64_t throttled = 0; ///< requests it answered 429
};

/// The global rate limit (`rate_limit_schedule`) now.
struct sandbox_global_limit_stats {
    bool enabled = false;
    std::string schedule;          ///< "400@15s,200@15s,400"
    std::uint64_t elapsed_ms = 0;  ///< since the schedule (re)started
    double limit = 0;              ///< requests/s in force now
    double burst = 0;              ///< the bucket's capacity now
    std::uint64_t accepted = 0;    ///< since the (re)start or the last reset
    std::uint64_t throttled = 0;
    /// The last 600 seconds at most, oldest first, the current (partial) one last.
    std::vector<sandbox_rate_second> seconds;
};

/// Counters since start. Each is read atomically, not all at one instant.
struct sandbox_stats {
    std::uint64_t connections = 0;           ///< accepted (TLS or not)
    std::uint64_t connections_rejected = 0;  ///< over `max_connections`
    std::uint64_t requests = 0;              ///< requests read completely (admin included)
    std::uint64_t created = 0;               ///< sessions created
    std::uint64_t replayed = 0;              ///< answered from an idempotency record
    std::uint64_t duplicates_rejected = 0;   ///< 409 duplicate_lead
    std::uint64_t duplicates_reused = 0;     ///< 200 with an existing session
    std::uint64_t idempotency_conflicts = 0; ///< 422 idempotency_key_reused
    std::uint64_t idempotency_in_progress = 0; ///< 409 idempotency_request_in_progress
    std::uint64_t rate_limited = 0;          ///< 429 from the per-key limiter (faults and the global limit not included)
    std::uint64_t malformed = 0;             ///< unparsable HTTP or TLS, limits exceeded, timeouts
    std::uint64_t sessions_evicted = 0;      ///< dropped from the ledger by `max_sessions`
    std::uint64_t idempotency_expired = 0;   ///< records forgotten after `idempotency_ttl`
    std::uint64_t idempotency_evicted = 0;   ///< records dropped by `max_idempotency_records`
    std::uint64_t sessions_held = 0;         ///< sessions in the ledger now
    std::uint64_t idempotency_records_held = 0;  ///< idempotency records kept now
    std::map<unsigned, std::uint64_t> responses_by_status;  ///< answers sent, by status
    std::map<std::string, std::uint64_t> faults_injected;   ///< by fault name (see fault_names)
    sandbox_global_limit_stats global_rate_limit;
};

/// One created session.
struct ledger_entry {
    std::string token;
    std::string api_key_redacted;  ///< "rk_****" + last 4 characters (see redact_api_key)
    std::string campaign_id;       ///< "" in direct mode
    std::string gateway_id;        ///< as sent, "" when none
    std::string email;             ///< the lead's email, as sent
    std::string idempotency_key;   ///< "" when none (or ignored)
    std::chrono::system_clock::time_point created;
};

/// A configuration problem; `key()` names the setting ("faults.server_error.status").
class sandbox_config_error : public std::runtime_error {
public:
    sandbox_config_error(std::string key, const std::string& reason);
    const std::string& key() const noexcept { return key_; }

private:
    std::string key_;
};

namespace sandbox_detail {
class sandbox_impl;
}

/// The server. Lifetime: `start()` binds and runs `params.threads` threads of its own;
/// `stop()` (or the destructor) closes every connection and joins them.
/// Thread-safety: every member function may be called from any thread except from the
/// sandbox's own threads (`stop()` would join itself).
class sandbox {
public:
    /// Checks the params (throws `sandbox_config_error` naming the key); does not bind.
    explicit sandbox(sandbox_params p = {});
    ~sandbox();
    sandbox(const sandbox&) = delete;
    sandbox& operator=(const sandbox&) = delete;

    /// Loads or generates the certificates, binds, listens and starts the threads.
    /// Throws std::runtime_error saying what failed ("bind 127.0.0.1:443: Permission denied",
    /// "cert_file /x: No such file"). Calling it twice throws.
    void start();
    /// Idempotent. Connections are closed without answering what is in flight.
    void stop();

    unsigned short port() const;
    /// "https://127.0.0.1:<port>/api/v1" ("http://" when plain; IPv6 hosts in brackets).
    /// A wildcard listen address (0.0.0.0, ::) is replaced by its loopback: a URL to connect to.
    std::string base_url() const;
    /// The address actually bound, "0.0.0.0:8443" or "[::]:8443" (after `start()`).
    std::string bound_address() const;
    /// PEM of the CA that signed the server certificate; "" with a user cert_file.
    std::string ca_pem() const;
    /// Path of ca.crt when `cert_dir` is set and the certificates were generated; else "".
    std::string ca_file() const;

    sandbox_stats stats() const;
    /// The sessions held (at most `max_sessions`), oldest first.
    std::vector<ledger_entry> ledger() const;
    /// Forgets every session, lead and idempotency record and zeroes the counters (as
    /// `POST /sandbox/reset`); the configuration and the faults stay.
    void reset();
    /// Replaces the faults (and restarts their every-N-th counting). Thread-safe, takes
    /// effect on the next request of every connection.
    void set_faults(const fault_params& f);
    fault_params faults() const;

    const sandbox_params& params() const noexcept;

private:
    std::unique_ptr<sandbox_detail::sandbox_impl> impl_;
};

/// Reads config/sandbox.json's format (keys as in sandbox_params; "listen": "HOST:PORT";
/// "faults" and "limits" objects, durations in "*_ms", e.g. "idempotency_ttl_ms"). Unknown keys and bad values throw
/// `sandbox_config_error` naming the key; a file that cannot be read names the file.
sandbox_params load_sandbox_params(const std::string& json_file);
/// The same from JSON text, applied onto `p`.
void apply_sandbox_json(sandbox_params& p, std::string_view json);
/// Applies a faults object (the body of `PUT /sandbox/faults`) onto a fresh fault_params:
/// `{"server_error": {"every_nth": 3, "status": 503}, "idle_timeout_ms": 200}`.
fault_params parse_faults_json(std::string_view json);
/// The faults as that JSON object.
std::string to_json(const fault_params& f);
/// One `--fault` flag: "server_error.every_nth=3", "latency.min_ms=50", "trickle.probability=0.1".
void apply_fault_setting(fault_params& f, std::string_view setting);

/// Reads a global rate-limit schedule: comma-separated steps RATE@DURATION (requests per
/// second, a duration with its unit: 500ms, 15s, 2m, 1h), the last a RATE alone that lasts
/// for ever: "400@15s,200@15s,400". Throws `sandbox_config_error` for `key` naming the item:
/// "item 2 '200@x': expected a duration ...".
std::vector<sandbox_rate_step> parse_rate_limit_schedule(std::string_view text,
                                                         const std::string& key = "rate_limit_schedule");
/// The schedule in that syntax.
std::string to_string(const std::vector<sandbox_rate_step>& schedule);

/// "rk_****" + the last 4 characters when the key is longer than 12, else "rk_****".
std::string redact_sandbox_key(std::string_view key);

/// True for 127.0.0.0/8, ::1 and ::ffff:127.x.y.z; false for anything else (0.0.0.0, ::, a
/// host name). Off loopback the admin endpoints need `admin_token`.
bool is_loopback_address(std::string_view ip) noexcept;

/// A liveness probe for container health checks (`catalyst-sandbox --health-check URL`):
/// GET `url` (http:// or https://; the certificate is NOT verified, the probe sends nothing
/// secret) and true when the answer is 200 within `timeout`. Otherwise false and `error`
/// says why.
bool probe_sandbox_health(std::string_view url, std::chrono::milliseconds timeout, std::string& error);

}  // namespace catalyst

#endif
