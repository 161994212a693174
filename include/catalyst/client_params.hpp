#ifndef CATALYST_CLIENT_PARAMS_HPP
#define CATALYST_CLIENT_PARAMS_HPP

#include <catalyst/export.hpp>
#include <catalyst/version.hpp>

#include <chrono>
#include <cstddef>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <catalyst/logging.hpp>

namespace catalyst {

using std::chrono::milliseconds;

class client_observer;  // <catalyst/observer.hpp>

/// Retries: exponential backoff with full jitter, `Retry-After` honoured.
/// The wait before retry n (n = 1, 2, ...) is uniform in [0, min(max_backoff, base_backoff * 2^(n-1))],
/// or the server's `Retry-After` when it sent one, capped at `max_retry_after`.
struct retry_params {
    unsigned max_attempts = 4;                 ///< attempts in all, the first included; 1 = no retry
    milliseconds base_backoff{100};
    milliseconds max_backoff{5'000};
    milliseconds max_retry_after{30'000};      ///< a longer Retry-After ends the request instead
    /// Retry budget (as Envoy's): retries in flight may be at most this share of the requests
    /// in flight, plus `budget_min_concurrency`; past that, failures are not retried
    /// (reason "retry budget exhausted"). 0 turns the budget off.
    double budget_ratio = 0.2;
    unsigned budget_min_concurrency = 10;
};

/// When is an ambiguous failure (request sent, no answer) retried?
enum class idempotency_policy {
    /// Every request carries an Idempotency-Key (the caller's, or a random UUID), and
    /// ambiguous failures (and 500/502/504) are retried with it. The default: "never a
    /// duplicate" then rests on the server honouring the key (see docs/client.md); against a
    /// server that may ignore keys, use `disabled`.
    automatic,
    /// Only requests whose caller supplied a key carry one and are retried when ambiguous.
    caller_keys_only,
    /// No key is sent; every failure after sending (reset, timeout, answer cut short,
    /// 500/502/504) ends as `errc::outcome_unknown`, never retried. 429 and 503 are retried.
    disabled,
};

/// TLS settings. Peer verification (chain and host name) is always on unless
/// `insecure_skip_verify` is set, which logs a warning on every new connection (through the
/// client's logger, or on stderr when none is installed: it is never silent).
struct tls_params {
    std::string ca_file;       ///< PEM bundle; "" = the system's default paths
    std::string ca_dir;        ///< hashed CA directory; ""= none
    std::string ca_pem;        ///< PEM text of extra trusted CAs (tests, the embedded sandbox)
    /// Overrides the name the certificate is verified for and sent as SNI; "" = the URL's
    /// host. An IP address is verified against the certificate's IP entries and sends no SNI.
    std::string server_name;
    bool insecure_skip_verify = false;
    bool session_resumption = true;  ///< reuse TLS sessions on reconnect
    /// TLS 1.3 cipher suites offered, in order of preference (OpenSSL names, colon-separated).
    /// AES-128-GCM first: it costs less than AES-256-GCM on both ends (10 AES rounds instead
    /// of 14) and is as safe for a session's lifetime; a server that honours the client's order
    /// (most do for TLS 1.3) picks it. The observer's `attempt_end_event::tls_cipher` shows
    /// what was negotiated. Refused by `check()`: an empty list, an unknown name.
    std::string tls13_ciphersuites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
    /// TLS 1.2 cipher suites (OpenSSL cipher-list syntax), used only with a server that stops at
    /// TLS 1.2. The default keeps forward-secret AEAD suites only (no CBC, no RSA key
    /// exchange), AES-128-GCM first. Refused by `check()`: a list that selects nothing, that
    /// enables suites without authentication or encryption (the rules aNULL, eNULL, NULL, ADH,
    /// AECDH, in any case; "!aNULL" is fine; or any suite of that kind in what the list
    /// selects), or that lowers OpenSSL's security level ("@SECLEVEL=0", or below a fresh
    /// context's level).
    std::string tls12_ciphers =
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
        "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
};

/// How the client chooses its send rate to the API (docs/client.md, "Rate").
enum class rate_mode {
    /// A token bucket at `rate_params::rate_per_second` (0 = no limit): for a known limit.
    fixed,
    /// The client finds the API's unknown limit from its 429 and 503 answers and rides it
    /// (docs/client.md, "Adaptive rate").
    adaptive,
};

/// The client's send rate, per origin.
///
/// The default is `fixed` with no limit: a library inside a checkout backend must not slow
/// itself down on a guess. It still honours 429 and `Retry-After` call by call (see
/// `retry_params`). Turn `adaptive` on for bulk work against an API whose limit is unknown
/// (catalyst-batch `--rate auto` does): the client then slows down on the first 429s,
/// pauses every call on a `Retry-After`, and finds the limit within seconds.
struct rate_params {
    rate_mode mode = rate_mode::fixed;

    /// fixed: requests per second at most, spread over the client's threads; 0 = no limit.
    double rate_per_second = 0;
    /// fixed: the bucket's size (requests that may leave at once after a quiet spell);
    /// 0 = max(1, rate/10).
    unsigned burst = 0;

    /// adaptive: the rate to start from (requests/s). Slow start doubles it at most every
    /// 100 ms (and every round trip) until the API first throttles.
    double initial_rate = 10;
    /// adaptive: the rate never goes below this (a dead API is probed at this pace).
    double min_rate = 0.5;
    /// adaptive: the rate never goes above this; 0 = no bound.
    double max_rate = 0;
    /// adaptive: a `Retry-After` longer than 1 s, or one that comes with the third cut of the
    /// rate in a row (each within 2 s of the one before), pauses the whole origin (every call of
    /// this client) until then, plus up to 10 % (at least 100 ms) of jitter; an isolated
    /// `Retry-After: 1` holds only its own call (the cut answers it). A longer value is cut to
    /// this and counted (`rate_decision_event::retry_after_capped`); 0 = no origin pauses.
    milliseconds max_pause{30'000};
    /// adaptive: client-side throttling (Google SRE book, "Handling Overload"): when the API
    /// turned away most requests over `local_throttling_window`, the client refuses calls
    /// itself, with probability max(0, (requests - 2 accepts) / (requests + 1)) (at most 0.9,
    /// so that it notices when the API is back), without sending them. It only bites when
    /// the API rejects nearly everything for long.
    bool local_throttling = true;
    /// adaptive: the window of client-side throttling. 30 s, not the book's 2 minutes: the
    /// window is also how long the client remembers a dead API after it came back.
    milliseconds local_throttling_window{30'000};
};

/// Everything a client is configured with. Defaults are documented per field; "0 means off"
/// where said. Load from a JSON file and the environment with `load_client_params`.
struct client_params {
    /// Base URL up to and including "/api/v1" (a trailing "/" is fine).
    std::string base_url = "https://api.catalystpay.com/api/v1";
    /// "rk_..."; never printed (formatting redacts it).
    std::string api_key;
    std::size_t max_connections = 64;       ///< per origin
    /// Connections being opened (DNS, TCP, TLS handshake) at once, per origin (divided among
    /// the client's threads like max_connections); more calls wait in the queue meanwhile. A handshake holds some 40 KB of buffers for
    /// its duration: 256 at the same moment set the process's peak memory, in turns of 32
    /// the memory is reused (and a cold start with N calls still opens N connections).
    std::size_t max_opening_connections = 32;
    std::size_t queue_limit = 100'000;      ///< requests waiting for a connection; more: queue_full
    milliseconds connect_timeout{5'000};    ///< DNS + TCP connect, per address
    milliseconds tls_handshake_timeout{5'000};
    milliseconds attempt_timeout{15'000};   ///< one request/response exchange
    milliseconds overall_timeout{60'000};   ///< from the call to the completion, all attempts; 0 = none
    milliseconds idle_timeout{30'000};      ///< close a connection idle this long (before the server does)
    unsigned max_requests_per_connection = 0;  ///< 0 = no cap
    milliseconds max_connection_age{0};     ///< 0 = no cap
    milliseconds dns_cache_ttl{30'000};     ///< 0 = resolve on every connect
    std::size_t max_response_body = 64 * 1024;  ///< a larger body is a protocol_error
    retry_params retry;
    idempotency_policy idempotency = idempotency_policy::automatic;
    /// The send rate: fixed (the default, no limit) or adaptive. See `rate_params`.
    rate_params rate;
    tls_params tls;
    /// 0: the client runs on the executor it was given. N > 0: the client owns N threads
    /// (each with its own io_context and its own share of the connections).
    unsigned threads = 0;
    /// Sent as `User-Agent`; "catalyst/" and the library's version by default.
    std::string user_agent = "catalyst/" CATALYST_VERSION_STRING;
    /// Messages below this level are not formatted nor passed to the logger (the check comes
    /// before any formatting). The default passes everything the client logs.
    log_level min_log_level = log_level::debug;
    /// Called on each attempt's start and end (see `client_observer`); null = none (then the
    /// client gathers no per-attempt facts). Shared: the same observer may serve several clients.
    std::shared_ptr<client_observer> observer;
    /// Constant labels on every metric of `metrics_snapshot::to_prometheus` (e.g.
    /// {"client", "checkout"}), so that two clients in one process do not clash. Names match
    /// [a-zA-Z_][a-zA-Z0-9_]*, do not start with "__" and are not "le", "code", "reason" or
    /// "kind" (the client's own labels); values are escaped as the exposition format says.
    std::vector<std::pair<std::string, std::string>> metrics_labels;
};

/// Throws `config_error` naming the first invalid key (e.g. "max_connections: must be > 0").
/// Refused: a base_url that is not an absolute https URL with a host (plain http is refused:
/// TLS is required), or carries user info, a query or a fragment, or whose host is neither an
/// IP address nor, once percent-decoded, a host name of ASCII letters, digits, '-', '.' and
/// '_' (so no NUL, control character, space or DEL, encoded as "%00" or not: OpenSSL would
/// read such a name as empty, and check no host at all); a tls.server_name that is neither an
/// IP address nor such a host name; max_connections, max_response_body or retry.max_attempts
/// of 0; connect, TLS handshake or attempt timeouts <= 0; negative durations; max_backoff
/// below base_backoff; a negative or non-finite budget_ratio; threads > 1024; CR, LF or other
/// control characters in api_key or user_agent (header injection; a TAB is allowed in
/// user_agent, as in any header value, and refused in api_key, like a space).
/// An empty or unknown `tls.tls13_ciphersuites` name, a `tls.tls12_ciphers` that selects no
/// suite, enables suites without authentication or encryption, or lowers the security level
/// (see `tls_params`; named in the error: "tls.tls13_ciphersuites: unknown TLS 1.3 cipher
/// suite ...").
/// `insecure_skip_verify` together with CA settings is allowed.
/// `rate`: an unknown mode; a negative or non-finite rate_per_second; in adaptive mode, an
/// initial_rate or min_rate that is not a finite number > 0, a max_rate that is negative or
/// non-finite, min_rate above initial_rate or initial_rate above a max_rate set, a negative
/// max_pause_ms, a local_throttling_window_ms <= 0 with local_throttling on (each named:
/// "rate.min_rate: ..."). Thread-safe (pure).
CATALYST_DECL void check(const client_params& p);

/// The key masked: "rk_****" plus its last 4 characters when it has more than 12; "" stays "".
CATALYST_DECL std::string redact_api_key(std::string_view key);

/// A readable dump of every setting with the API key redacted.
CATALYST_DECL std::ostream& operator<<(std::ostream& os, const client_params& p);

CATALYST_DECL std::string_view to_string(idempotency_policy p) noexcept;
CATALYST_DECL std::string_view to_string(rate_mode m) noexcept;

}  // namespace catalyst

#endif
