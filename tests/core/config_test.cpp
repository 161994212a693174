#include <catalyst/client_params.hpp>
#include <catalyst/config.hpp>

#include <gtest/gtest.h>

#include <openssl/ssl.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <unistd.h>

namespace {

using catalyst::client_params;
using catalyst::config_error;
using std::chrono::milliseconds;

catalyst::rate_params& adaptive(client_params& p) {
    p.rate.mode = catalyst::rate_mode::adaptive;
    return p.rate;
}

std::string dump(const client_params& p) {
    std::ostringstream os;
    os << p;
    return os.str();
}

// The key of the config_error `f` throws, or "no error".
template <class F>
std::string refused_key(F&& f, std::string* what = nullptr) {
    try {
        f();
    } catch (const config_error& e) {
        if (what) *what = e.what();
        return e.key();
    }
    return "no error";
}

struct fake_env {
    std::map<std::string, std::string> vars;
    catalyst::env_lookup fn() const {
        return [this](const char* name) -> const char* {
            auto it = vars.find(name);
            return it == vars.end() ? nullptr : it->second.c_str();
        };
    }
};

class temp_file {
public:
    explicit temp_file(const std::string& text) {
        char name[] = "/tmp/catalyst-config-XXXXXX";
        const int fd = ::mkstemp(name);
        EXPECT_GE(fd, 0);
        ::close(fd);
        path_ = name;
        std::ofstream(path_) << text;
    }
    ~temp_file() { std::remove(path_.c_str()); }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

TEST(config, defaults_pass_check) {
    EXPECT_NO_THROW(catalyst::check(client_params{}));
    client_params p;
    adaptive(p);
    EXPECT_NO_THROW(catalyst::check(p));
}

// The adaptive settings are checked in adaptive mode only: a fixed client does not read them.
TEST(config, adaptive_settings_are_checked_in_adaptive_mode_only) {
    client_params p;
    p.rate.initial_rate = 0;
    EXPECT_NO_THROW(catalyst::check(p));
    adaptive(p);
    EXPECT_EQ(refused_key([&] { catalyst::check(p); }), "rate.initial_rate");
    p.rate.initial_rate = 10;
    p.rate.local_throttling = false;
    p.rate.local_throttling_window = milliseconds(0);  // not used when off
    EXPECT_NO_THROW(catalyst::check(p));
}

// A config file written for an older release still says "pacing": the error says what it became.
TEST(config, the_old_pacing_key_says_it_was_renamed) {
    client_params p;
    std::string what;
    EXPECT_EQ(refused_key([&] { catalyst::apply_json(p, R"({"pacing": {"rate_per_second": 5}})"); }, &what), "pacing");
    EXPECT_NE(what.find("\"rate\""), std::string::npos) << what;
}

TEST(config, sample_file_holds_every_key_with_its_default) {
    client_params p;
    p.api_key = "rk_different_value";
    p.max_connections = 1;
    catalyst::apply_file(p, CATALYST_SOURCE_DIR "/config/client.json");
    EXPECT_EQ(dump(p), dump(client_params{}));
    // Every printed setting appears in the sample file (nothing forgotten there).
    std::ifstream in(CATALYST_SOURCE_DIR "/config/client.json");
    std::stringstream text;
    text << in.rdbuf();
    std::istringstream lines(dump(client_params{}));
    for (std::string line; std::getline(lines, line);) {
        std::string key = line.substr(0, line.find(' '));
        key = key.substr(key.rfind('.') + 1);
        EXPECT_NE(text.str().find("\"" + key + "\""), std::string::npos) << key;
    }
}

TEST(config, example_file_loads_and_checks) {
    const client_params p = catalyst::load_client_params(CATALYST_SOURCE_DIR "/config/client.example.json",
                                                         fake_env{}.fn());
    EXPECT_EQ(p.max_connections, 128u);
    EXPECT_EQ(p.retry.max_attempts, 5u);
    EXPECT_EQ(p.retry.base_backoff, milliseconds(100));  // untouched: default
    EXPECT_EQ(p.rate.mode, catalyst::rate_mode::fixed);
    EXPECT_DOUBLE_EQ(p.rate.rate_per_second, 500);
}

TEST(config, apply_json_reads_every_key) {
    client_params p;
    catalyst::apply_json(p, R"({
      "base_url": "https://127.0.0.1:8080/api/v1/", "api_key": "rk_test_123",
      "max_connections": 7, "queue_limit": 8, "connect_timeout_ms": 9, "tls_handshake_timeout_ms": 10,
      "attempt_timeout_ms": 11, "overall_timeout_ms": 0, "idle_timeout_ms": 13,
      "max_requests_per_connection": 14, "max_connection_age_ms": 15, "dns_cache_ttl_ms": 16,
      "max_response_body": 17,
      "retry": {"max_attempts": 1, "base_backoff_ms": 19, "max_backoff_ms": 20, "max_retry_after_ms": 21,
                "budget_ratio": 0, "budget_min_concurrency": 22},
      "idempotency": "caller_keys_only",
      "rate": {"mode": "adaptive", "rate_per_second": 2.5, "burst": 23, "initial_rate": 24, "min_rate": 1.5,
               "max_rate": 900, "max_pause_ms": 25, "local_throttling": false, "local_throttling_window_ms": 26},
      "tls": {"ca_file": "/ca.pem", "ca_dir": "/ca", "ca_pem": "PEM", "server_name": "api.local",
              "insecure_skip_verify": true, "session_resumption": false,
              "tls13_ciphersuites": "TLS_AES_256_GCM_SHA384", "tls12_ciphers": "ECDHE-RSA-AES256-GCM-SHA384"},
      "threads": 2, "user_agent": "ua/1"})");
    EXPECT_EQ(p.base_url, "https://127.0.0.1:8080/api/v1/");
    EXPECT_EQ(p.api_key, "rk_test_123");
    EXPECT_EQ(p.max_connections, 7u);
    EXPECT_EQ(p.queue_limit, 8u);
    EXPECT_EQ(p.connect_timeout, milliseconds(9));
    EXPECT_EQ(p.tls_handshake_timeout, milliseconds(10));
    EXPECT_EQ(p.attempt_timeout, milliseconds(11));
    EXPECT_EQ(p.overall_timeout, milliseconds(0));
    EXPECT_EQ(p.idle_timeout, milliseconds(13));
    EXPECT_EQ(p.max_requests_per_connection, 14u);
    EXPECT_EQ(p.max_connection_age, milliseconds(15));
    EXPECT_EQ(p.dns_cache_ttl, milliseconds(16));
    EXPECT_EQ(p.max_response_body, 17u);
    EXPECT_EQ(p.retry.max_attempts, 1u);
    EXPECT_EQ(p.retry.base_backoff, milliseconds(19));
    EXPECT_EQ(p.retry.max_backoff, milliseconds(20));
    EXPECT_EQ(p.retry.max_retry_after, milliseconds(21));
    EXPECT_EQ(p.retry.budget_ratio, 0.0);
    EXPECT_EQ(p.retry.budget_min_concurrency, 22u);
    EXPECT_EQ(p.idempotency, catalyst::idempotency_policy::caller_keys_only);
    EXPECT_EQ(p.rate.mode, catalyst::rate_mode::adaptive);
    EXPECT_EQ(p.rate.rate_per_second, 2.5);
    EXPECT_EQ(p.rate.burst, 23u);
    EXPECT_EQ(p.rate.initial_rate, 24);
    EXPECT_EQ(p.rate.min_rate, 1.5);
    EXPECT_EQ(p.rate.max_rate, 900);
    EXPECT_EQ(p.rate.max_pause, milliseconds(25));
    EXPECT_FALSE(p.rate.local_throttling);
    EXPECT_EQ(p.rate.local_throttling_window, milliseconds(26));
    EXPECT_EQ(p.tls.ca_file, "/ca.pem");
    EXPECT_EQ(p.tls.ca_dir, "/ca");
    EXPECT_EQ(p.tls.ca_pem, "PEM");
    EXPECT_EQ(p.tls.server_name, "api.local");
    EXPECT_TRUE(p.tls.insecure_skip_verify);
    EXPECT_FALSE(p.tls.session_resumption);
    EXPECT_EQ(p.tls.tls13_ciphersuites, "TLS_AES_256_GCM_SHA384");
    EXPECT_EQ(p.tls.tls12_ciphers, "ECDHE-RSA-AES256-GCM-SHA384");
    EXPECT_EQ(p.threads, 2u);
    EXPECT_EQ(p.user_agent, "ua/1");
    EXPECT_NO_THROW(catalyst::check(p));
}

TEST(config, unknown_keys_and_wrong_types_name_the_key_path) {
    const std::pair<const char*, const char*> cases[] = {
        {R"({"max_conections": 1})", "max_conections"},
        {R"({"retry": {"max_attempt": 1}})", "retry.max_attempt"},
        {R"({"tls": {"verify": false}})", "tls.verify"},
        {R"({"rate": {"rate": 1}})", "rate.rate"},
        {R"({"rate": {"mode": "auto"}})", "rate.mode"},
        {R"({"rate": {"mode": 1}})", "rate.mode"},
        {R"({"rate": {"min_rate": "1"}})", "rate.min_rate"},
        {R"({"rate": {"max_pause_ms": -1}})", "rate.max_pause_ms"},
        {R"({"rate": {"local_throttling": 1}})", "rate.local_throttling"},
        {R"({"rate": 5})", "rate"},
        {R"({"pacing": {"rate_per_second": 1}})", "pacing"},
        {R"({"retry": {"max_attempts": "3"}})", "retry.max_attempts"},
        {R"({"retry": {"max_attempts": -1}})", "retry.max_attempts"},
        {R"({"retry": {"max_attempts": 1.5}})", "retry.max_attempts"},
        {R"({"retry": {"max_attempts": 99999999999}})", "retry.max_attempts"},
        {R"({"retry": {"budget_ratio": "0.1"}})", "retry.budget_ratio"},
        {R"({"retry": 3})", "retry"},
        {R"({"tls": {"insecure_skip_verify": "yes"}})", "tls.insecure_skip_verify"},
        {R"({"connect_timeout_ms": -5})", "connect_timeout_ms"},
        {R"({"connect_timeout": 5})", "connect_timeout"},
        {R"({"base_url": 1})", "base_url"},
        {R"({"idempotency": "sometimes"})", "idempotency"},
        {R"({"threads": null})", "threads"},
        {R"({"max_connections": 1,})", "config"},
        {R"([1])", "config"},
    };
    for (const auto& [json, key] : cases) {
        client_params p;
        const std::string before = dump(p);
        EXPECT_EQ(refused_key([&p, doc = json] { catalyst::apply_json(p, doc); }), key) << json;
        EXPECT_EQ(dump(p), before) << "a refused document must leave the params alone: " << json;
    }
}

TEST(config, check_refuses_invalid_settings_naming_the_key) {
    const std::pair<void (*)(client_params&), const char*> cases[] = {
        {[](client_params& p) { p.max_connections = 0; }, "max_connections"},
        {[](client_params& p) { p.attempt_timeout = milliseconds(0); }, "attempt_timeout_ms"},
        {[](client_params& p) { p.connect_timeout = milliseconds(0); }, "connect_timeout_ms"},
        {[](client_params& p) { p.tls_handshake_timeout = milliseconds(-1); }, "tls_handshake_timeout_ms"},
        {[](client_params& p) { p.overall_timeout = milliseconds(-1); }, "overall_timeout_ms"},
        {[](client_params& p) { p.base_url = "ftp://api.catalystpay.com/api/v1"; }, "base_url"},
        {[](client_params& p) { p.base_url = "api.catalystpay.com/api/v1"; }, "base_url"},
        {[](client_params& p) { p.base_url = "https://"; }, "base_url"},
        {[](client_params& p) { p.base_url = "https://exa mple.com/"; }, "base_url"},
        {[](client_params& p) { p.base_url = "https://u:p@example.com/"; }, "base_url"},
        {[](client_params& p) { p.base_url = ""; }, "base_url"},
        {[](client_params& p) { p.retry.max_attempts = 0; }, "retry.max_attempts"},
        {[](client_params& p) { p.retry.budget_ratio = -0.1; }, "retry.budget_ratio"},
        {[](client_params& p) { p.retry.max_backoff = milliseconds(10); }, "retry.max_backoff_ms"},
        {[](client_params& p) { p.rate.rate_per_second = -1; }, "rate.rate_per_second"},
        {[](client_params& p) { p.rate.rate_per_second = std::numeric_limits<double>::infinity(); },
         "rate.rate_per_second"},
        {[](client_params& p) { p.rate.mode = static_cast<catalyst::rate_mode>(7); }, "rate.mode"},
        {[](client_params& p) { adaptive(p).initial_rate = 0; }, "rate.initial_rate"},
        {[](client_params& p) { adaptive(p).initial_rate = std::nan(""); }, "rate.initial_rate"},
        {[](client_params& p) { adaptive(p).min_rate = 0; }, "rate.min_rate"},
        {[](client_params& p) { adaptive(p).min_rate = 20; }, "rate.min_rate"},  // above initial_rate 10
        {[](client_params& p) { adaptive(p).max_rate = -1; }, "rate.max_rate"},
        {[](client_params& p) { adaptive(p).max_rate = 5; }, "rate.initial_rate"},  // initial 10 above it
        {[](client_params& p) { adaptive(p).max_pause = milliseconds(-1); }, "rate.max_pause_ms"},
        {[](client_params& p) { adaptive(p).local_throttling_window = milliseconds(0); },
         "rate.local_throttling_window_ms"},
        {[](client_params& p) { p.max_response_body = 0; }, "max_response_body"},
        {[](client_params& p) { p.api_key = "rk_abc\r\nX-Evil: 1"; }, "api_key"},
        {[](client_params& p) { p.user_agent = "ua\r\nX: y"; }, "user_agent"},
        {[](client_params& p) { p.threads = 100000; }, "threads"},
        {[](client_params& p) { p.metrics_labels = {{"9lives", "x"}}; }, "metrics_labels[0].name"},
        {[](client_params& p) { p.metrics_labels = {{"ok", "x"}, {"has-dash", "x"}}; }, "metrics_labels[1].name"},
        {[](client_params& p) { p.metrics_labels = {{"__reserved", "x"}}; }, "metrics_labels[0].name"},
        {[](client_params& p) { p.metrics_labels = {{"le", "x"}}; }, "metrics_labels[0].name"},
        {[](client_params& p) { p.metrics_labels = {{"a", "x"}, {"a", "y"}}; }, "metrics_labels[1].name"},
        {[](client_params& p) { p.min_log_level = static_cast<catalyst::log_level>(42); }, "min_log_level"},
        {[](client_params& p) { p.tls.tls13_ciphersuites = ""; }, "tls.tls13_ciphersuites"},
        {[](client_params& p) { p.tls.tls13_ciphersuites = "TLS_AES_128_GCM_SHA256:TLS_AES_512_GCM"; }, "tls.tls13_ciphersuites"},
        {[](client_params& p) { p.tls.tls13_ciphersuites = "TLS_AES_128_GCM_SHA256::TLS_AES_256_GCM_SHA384"; }, "tls.tls13_ciphersuites"},
        {[](client_params& p) { p.tls.tls13_ciphersuites = "ECDHE-RSA-AES128-GCM-SHA256"; }, "tls.tls13_ciphersuites"},
        {[](client_params& p) { p.tls.tls13_ciphersuites = std::string("TLS_AES_128_GCM_SHA256\0x", 24); }, "tls.tls13_ciphersuites"},
        {[](client_params& p) { p.tls.tls12_ciphers = ""; }, "tls.tls12_ciphers"},
        {[](client_params& p) { p.tls.tls12_ciphers = "NO-SUCH-CIPHER"; }, "tls.tls12_ciphers"},
        {[](client_params& p) { p.tls.tls12_ciphers = "TLS_AES_128_GCM_SHA256"; }, "tls.tls12_ciphers"},
    };
    for (const auto& [mutate, key] : cases) {
        client_params p;
        mutate(p);
        EXPECT_EQ(refused_key([&] { catalyst::check(p); }), key);
    }
}

// A host or server name with a NUL reaches OpenSSL as a shorter C string; an empty one
// switches the certificate's host check off. check() refuses them (the client calls it).
TEST(config, check_refuses_hosts_with_control_characters_encoded_or_not) {
    const std::string urls[] = {"https://%00api.example.com/api/v1", "https://%00localhost:8443/api/v1",
                                "https://api%0a.example.com/", "https://%7fapi.example.com/",
                                "https://api%1b.example.com/", "https://a%2fb.example.com/",
                                "https://api\x01.example.com/", std::string("https://api\0.example.com/", 25)};
    for (const std::string& url : urls) {
        client_params p;
        p.base_url = url;
        std::string what;
        EXPECT_EQ(refused_key([&] { catalyst::check(p); }, &what), "base_url") << url;
    }
    const std::string names[] = {std::string("localhost\0.evil.test", 20), std::string("\0", 1), "api\n", "a\x7f",
                                 "a b", "a\tb", "a/b", std::string("127.0.0.1\0", 10)};
    for (const std::string& name : names) {
        client_params p;
        p.tls.server_name = name;
        EXPECT_EQ(refused_key([&] { catalyst::check(p); }), "tls.server_name") << name.size();
    }
    for (const char* name : {"api.example.test", "127.0.0.1", "::1", "API.Example.Test"}) {
        client_params p;
        p.tls.server_name = name;
        EXPECT_NO_THROW(catalyst::check(p)) << name;
    }
}

// Suites without authentication (anonymous: a man in the middle needs no certificate) or
// without encryption, and a security level of 0, are refused however the list says it.
TEST(config, check_refuses_tls12_lists_that_weaken_the_suites) {
    for (const char* list : {"aNULL", "eNULL", "NULL", "ADH", "AECDH", "anull", "Enull", "adh",
                             "ECDHE+AESGCM:aNULL", "ECDHE+AESGCM:ECDH+aNULL", "ECDHE+AESGCM:+aNULL",
                             "ECDHE+AESGCM:@SECLEVEL=0", "ECDHE+AESGCM:@seclevel=0", "ECDHE+AESGCM ADH",
                             "ECDHE+AESGCM,AECDH", "ECDHE+AESGCM;NULL",
                             // No weak rule by name, but weak suites in what is selected:
                             "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-NULL-SHA", "ADH-AES128-GCM-SHA256",
                             "ALL:COMPLEMENTOFALL", "COMPLEMENTOFDEFAULT"}) {
        client_params p;
        p.tls.tls12_ciphers = list;
        std::string what;
        EXPECT_EQ(refused_key([&] { catalyst::check(p); }, &what), "tls.tls12_ciphers") << list;
        EXPECT_NE(what.find("tls.tls12_ciphers: "), std::string::npos) << what;
    }
    for (const char* list : {"ECDHE+AESGCM:!aNULL", "ECDHE+AESGCM:!aNULL:!eNULL", "HIGH:!aNULL:!eNULL",
                             "ECDHE+AESGCM:-ADH", "ECDHE+AESGCM:@STRENGTH"}) {
        client_params p;
        p.tls.tls12_ciphers = list;
        EXPECT_NO_THROW(catalyst::check(p)) << list;
    }
    client_params p;
    EXPECT_NO_THROW(catalyst::check(p)) << "the default list";
    // Any level below the one a fresh context has here (the system's policy) is refused too.
    SSL_CTX* fresh = SSL_CTX_new(TLS_method());
    ASSERT_NE(fresh, nullptr);
    const int level = SSL_CTX_get_security_level(fresh);
    SSL_CTX_free(fresh);
    if (level > 1) {
        p.tls.tls12_ciphers = "ECDHE+AESGCM:@SECLEVEL=" + std::to_string(level - 1);
        EXPECT_EQ(refused_key([&] { catalyst::check(p); }), "tls.tls12_ciphers") << p.tls.tls12_ciphers;
    }
    p.tls.tls12_ciphers = "ECDHE+AESGCM:@SECLEVEL=" + std::to_string(level);
    EXPECT_NO_THROW(catalyst::check(p)) << p.tls.tls12_ciphers;
}

TEST(config, an_unknown_cipher_suite_is_named) {
    client_params p;
    p.tls.tls13_ciphersuites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA348";  // a typo
    try {
        catalyst::check(p);
        ADD_FAILURE() << "accepted";
    } catch (const catalyst::config_error& e) {
        EXPECT_EQ(e.key(), "tls.tls13_ciphersuites");
        EXPECT_NE(std::string(e.what()).find("\"TLS_AES_256_GCM_SHA348\""), std::string::npos) << e.what();
    }
    // Every suite OpenSSL offers for TLS 1.3, in any order, and a cipher-list rule for TLS 1.2.
    p.tls.tls13_ciphersuites = "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256:TLS_AES_256_GCM_SHA384";
    p.tls.tls12_ciphers = "ECDHE+AESGCM:!aNULL";
    EXPECT_NO_THROW(catalyst::check(p));
}

TEST(config, check_accepts_what_is_fine) {
    client_params p;
    p.base_url = "https://127.0.0.1:18443/api/v1/";
    p.tls.insecure_skip_verify = true;
    p.tls.ca_file = "/etc/ssl/certs/ca-certificates.crt";  // both at once is fine
    p.retry.max_attempts = 1;
    p.retry.budget_ratio = 0;
    p.overall_timeout = milliseconds(0);
    p.queue_limit = 0;
    EXPECT_NO_THROW(catalyst::check(p));
    p.base_url = "https://[::1]:8443/api/v1";
    EXPECT_NO_THROW(catalyst::check(p));
}

TEST(config, log_level_and_metrics_labels_from_file_and_environment) {
    client_params p;
    catalyst::apply_json(p, R"({"min_log_level": "warning", "metrics_labels": {"client": "checkout", "region": "eu"}})");
    EXPECT_EQ(p.min_log_level, catalyst::log_level::warning);
    ASSERT_EQ(p.metrics_labels.size(), 2u);
    EXPECT_EQ(p.metrics_labels[0], (std::pair<std::string, std::string>("client", "checkout")));
    EXPECT_EQ(p.metrics_labels[1], (std::pair<std::string, std::string>("region", "eu")));
    EXPECT_EQ(refused_key([&] { catalyst::apply_json(p, R"({"min_log_level": "loud"})"); }), "min_log_level");
    EXPECT_EQ(refused_key([&] { catalyst::apply_json(p, R"({"metrics_labels": {"a": 1}})"); }), "metrics_labels");
    fake_env env;
    env.vars["CATALYST_LOG_LEVEL"] = "error";
    catalyst::apply_env(p, env.fn());
    EXPECT_EQ(p.min_log_level, catalyst::log_level::error);
}

TEST(config, redact_api_key) {
    EXPECT_EQ(catalyst::redact_api_key(""), "");
    EXPECT_EQ(catalyst::redact_api_key("rk_short"), "rk_****");
    EXPECT_EQ(catalyst::redact_api_key("rk_123456789"), "rk_****");  // 12 characters
    EXPECT_EQ(catalyst::redact_api_key("rk_live_abcdefghijklWXYZ"), "rk_****WXYZ");
}

TEST(config, printing_shows_every_setting_and_never_the_key) {
    client_params p;
    p.api_key = "rk_live_secretsecretsecret9876";
    p.tls.ca_pem = "-----BEGIN CERTIFICATE-----";
    const std::string s = dump(p);
    EXPECT_EQ(s.find("secret"), std::string::npos) << s;
    EXPECT_NE(s.find("api_key = rk_****9876"), std::string::npos) << s;
    EXPECT_EQ(s.find("BEGIN"), std::string::npos) << s;
    for (const char* key : {"base_url = https://api.catalystpay.com/api/v1", "max_connections = 64",
                            "queue_limit = 100000", "connect_timeout_ms = 5000", "tls_handshake_timeout_ms = 5000",
                            "attempt_timeout_ms = 15000", "overall_timeout_ms = 60000", "idle_timeout_ms = 30000",
                            "max_requests_per_connection = 0", "max_connection_age_ms = 0",
                            "dns_cache_ttl_ms = 30000", "max_response_body = 65536", "retry.max_attempts = 4",
                            "retry.base_backoff_ms = 100", "retry.max_backoff_ms = 5000",
                            "retry.max_retry_after_ms = 30000", "retry.budget_ratio = 0.2",
                            "retry.budget_min_concurrency = 10", "idempotency = automatic",
                            "rate.mode = fixed", "rate.rate_per_second = 0", "rate.burst = 0",
                            "rate.initial_rate = 10", "rate.min_rate = 0.5", "rate.max_rate = 0",
                            "rate.max_pause_ms = 30000", "rate.local_throttling = true",
                            "rate.local_throttling_window_ms = 30000", "tls.ca_file = ", "tls.ca_dir = ",
                            "tls.ca_pem = 27 bytes", "tls.server_name = ", "tls.insecure_skip_verify = false",
                            "tls.session_resumption = true",
                            "tls.tls13_ciphersuites = TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256",
                            "tls.tls12_ciphers = ECDHE-ECDSA-AES128-GCM-SHA256:", "threads = 0", "user_agent = catalyst/" CATALYST_VERSION_STRING "\n"})
        EXPECT_NE(s.find(key), std::string::npos) << key;
}

TEST(config, a_key_pasted_into_another_setting_is_masked_there_too) {
    client_params p;
    p.api_key = "rk_live_secretsecret1234";
    p.user_agent = "agent rk_live_secretsecret1234";
    p.tls.server_name = "rk_live_secretsecret1234";
    const std::string s = dump(p);
    EXPECT_EQ(s.find("secret"), std::string::npos) << s;
    EXPECT_NE(s.find("user_agent = agent rk_****1234"), std::string::npos) << s;
    p.api_key = "short";  // too short to be masked in ordinary text
    p.user_agent = "short agent";
    EXPECT_NE(dump(p).find("user_agent = short agent"), std::string::npos);
}

TEST(config, errors_never_carry_the_key) {
    std::string what;
    client_params p;
    p.api_key = "rk_live_secret value";
    EXPECT_EQ(refused_key([&] { catalyst::check(p); }, &what), "api_key");
    EXPECT_EQ(what.find("secret"), std::string::npos) << what;

    // A key pasted where a name belongs is masked in the message.
    EXPECT_NE(refused_key([&] { catalyst::apply_json(p, R"({"rk_live_secret123": 1})"); }, &what), "no error");
    EXPECT_EQ(what.find("secret"), std::string::npos) << what;

    fake_env env;
    env.vars["CATALYST_API_KEY"] = "rk_live_secret\nbad";
    EXPECT_EQ(refused_key([&] { catalyst::load_client_params({}, env.fn()); }, &what), "api_key");
    EXPECT_EQ(what.find("secret"), std::string::npos) << what;

    EXPECT_EQ(refused_key([&] { catalyst::apply_json(p, R"({"api_key": 5})"); }, &what), "api_key");
}

TEST(config, every_environment_variable) {
    fake_env env;
    env.vars = {
        {"CATALYST_BASE_URL", "https://127.0.0.1:9/api/v1"},
        {"CATALYST_API_KEY", "rk_env"},
        {"CATALYST_MAX_CONNECTIONS", "3"},
        {"CATALYST_QUEUE_LIMIT", "4"},
        {"CATALYST_CONNECT_TIMEOUT_MS", "5"},
        {"CATALYST_TLS_HANDSHAKE_TIMEOUT_MS", "6"},
        {"CATALYST_ATTEMPT_TIMEOUT_MS", "7"},
        {"CATALYST_OVERALL_TIMEOUT_MS", "8"},
        {"CATALYST_IDLE_TIMEOUT_MS", "9"},
        {"CATALYST_MAX_ATTEMPTS", "2"},
        {"CATALYST_BASE_BACKOFF_MS", "11"},
        {"CATALYST_MAX_BACKOFF_MS", "12"},
        {"CATALYST_IDEMPOTENCY", "disabled"},
        {"CATALYST_RATE_MODE", "adaptive"},
        {"CATALYST_RATE_PER_SECOND", "12.5"},
        {"CATALYST_RATE_BURST", "13"},
        {"CATALYST_RATE_INITIAL", "14"},
        {"CATALYST_RATE_MIN", "1.5"},
        {"CATALYST_RATE_MAX", "16"},
        {"CATALYST_RATE_MAX_PAUSE_MS", "17"},
        {"CATALYST_RATE_LOCAL_THROTTLING", "off"},
        {"CATALYST_RATE_LOCAL_THROTTLING_WINDOW_MS", "18"},
        {"CATALYST_CA_FILE", "/ca.pem"},
        {"CATALYST_CA_DIR", "/ca"},
        {"CATALYST_TLS_SERVER_NAME", "api.test"},
        {"CATALYST_TLS_INSECURE_SKIP_VERIFY", "true"},
        {"CATALYST_TLS13_CIPHERSUITES", "TLS_CHACHA20_POLY1305_SHA256"},
        {"CATALYST_TLS12_CIPHERS", "ECDHE-ECDSA-CHACHA20-POLY1305"},
        {"CATALYST_THREADS", "2"},
    };
    const client_params p = catalyst::load_client_params({}, env.fn());
    EXPECT_EQ(p.base_url, "https://127.0.0.1:9/api/v1");
    EXPECT_EQ(p.api_key, "rk_env");
    EXPECT_EQ(p.max_connections, 3u);
    EXPECT_EQ(p.queue_limit, 4u);
    EXPECT_EQ(p.connect_timeout, milliseconds(5));
    EXPECT_EQ(p.tls_handshake_timeout, milliseconds(6));
    EXPECT_EQ(p.attempt_timeout, milliseconds(7));
    EXPECT_EQ(p.overall_timeout, milliseconds(8));
    EXPECT_EQ(p.idle_timeout, milliseconds(9));
    EXPECT_EQ(p.retry.max_attempts, 2u);
    EXPECT_EQ(p.retry.base_backoff, milliseconds(11));
    EXPECT_EQ(p.retry.max_backoff, milliseconds(12));
    EXPECT_EQ(p.idempotency, catalyst::idempotency_policy::disabled);
    EXPECT_EQ(p.rate.mode, catalyst::rate_mode::adaptive);
    EXPECT_EQ(p.rate.rate_per_second, 12.5);
    EXPECT_EQ(p.rate.burst, 13u);
    EXPECT_EQ(p.rate.initial_rate, 14);
    EXPECT_EQ(p.rate.min_rate, 1.5);
    EXPECT_EQ(p.rate.max_rate, 16);
    EXPECT_EQ(p.rate.max_pause, milliseconds(17));
    EXPECT_FALSE(p.rate.local_throttling);
    EXPECT_EQ(p.rate.local_throttling_window, milliseconds(18));
    EXPECT_EQ(p.tls.ca_file, "/ca.pem");
    EXPECT_EQ(p.tls.ca_dir, "/ca");
    EXPECT_EQ(p.tls.server_name, "api.test");
    EXPECT_TRUE(p.tls.insecure_skip_verify);
    EXPECT_EQ(p.tls.tls13_ciphersuites, "TLS_CHACHA20_POLY1305_SHA256");
    EXPECT_EQ(p.tls.tls12_ciphers, "ECDHE-ECDSA-CHACHA20-POLY1305");
    EXPECT_EQ(p.threads, 2u);
    // Each variable on its own changes its setting (none is read under another's name).
    for (const auto& [name, value] : env.vars) {
        fake_env one;
        one.vars[name] = value;
        client_params q;
        catalyst::apply_env(q, one.fn());
        EXPECT_NE(dump(q), dump(client_params{})) << name;
    }
}

TEST(config, malformed_environment_values_name_the_variable) {
    const std::pair<const char*, const char*> cases[] = {
        {"CATALYST_MAX_CONNECTIONS", "many"},   {"CATALYST_MAX_CONNECTIONS", "-1"},
        {"CATALYST_MAX_CONNECTIONS", "12abc"},  {"CATALYST_QUEUE_LIMIT", "1e5"},
        {"CATALYST_CONNECT_TIMEOUT_MS", "5s"},  {"CATALYST_TLS_HANDSHAKE_TIMEOUT_MS", " 5"},
        {"CATALYST_ATTEMPT_TIMEOUT_MS", "1.5"}, {"CATALYST_OVERALL_TIMEOUT_MS", "+1"},
        {"CATALYST_IDLE_TIMEOUT_MS", "x"},      {"CATALYST_MAX_ATTEMPTS", "99999999999"},
        {"CATALYST_BASE_BACKOFF_MS", "-100"},   {"CATALYST_MAX_BACKOFF_MS", "ten"},
        {"CATALYST_IDEMPOTENCY", "always"},     {"CATALYST_RATE_PER_SECOND", "fast"},
        {"CATALYST_RATE_PER_SECOND", "-1"},     {"CATALYST_RATE_PER_SECOND", "inf"},
        {"CATALYST_RATE_MODE", "auto"},         {"CATALYST_RATE_BURST", "-3"},
        {"CATALYST_RATE_INITIAL", "x"},         {"CATALYST_RATE_MIN", "nan"},
        {"CATALYST_RATE_MAX", "-5"},            {"CATALYST_RATE_MAX_PAUSE_MS", "1s"},
        {"CATALYST_RATE_LOCAL_THROTTLING", "sometimes"}, {"CATALYST_RATE_LOCAL_THROTTLING_WINDOW_MS", "-1"},
        {"CATALYST_TLS_INSECURE_SKIP_VERIFY", "maybe"}, {"CATALYST_THREADS", "two"},
        {"CATALYST_LOG_LEVEL", "verbose"},      {"CATALYST_LOG_LEVEL", "INFO "},
    };
    for (const auto& [name, value] : cases) {
        fake_env env;
        env.vars[name] = value;
        client_params p;
        EXPECT_EQ(refused_key([&] { catalyst::apply_env(p, env.fn()); }), name) << value;
    }
}

TEST(config, empty_environment_variables_count_as_unset) {
    fake_env env;
    env.vars = {{"CATALYST_MAX_CONNECTIONS", ""}, {"CATALYST_BASE_URL", ""}};
    client_params p;
    catalyst::apply_env(p, env.fn());
    EXPECT_EQ(dump(p), dump(client_params{}));
}

TEST(config, precedence_defaults_then_file_then_environment) {
    temp_file file(R"({"max_connections": 10, "queue_limit": 20, "retry": {"max_attempts": 2}})");
    fake_env env;
    env.vars["CATALYST_MAX_CONNECTIONS"] = "30";
    const client_params p = catalyst::load_client_params(file.path(), env.fn());
    EXPECT_EQ(p.max_connections, 30u);    // environment over file
    EXPECT_EQ(p.queue_limit, 20u);        // file over default
    EXPECT_EQ(p.retry.max_attempts, 2u);  // file over default
    EXPECT_EQ(p.connect_timeout, milliseconds(5000));  // default
}

TEST(config, load_checks_the_result) {
    temp_file file(R"({"max_connections": 0})");
    EXPECT_EQ(refused_key([&] { catalyst::load_client_params(file.path(), fake_env{}.fn()); }), "max_connections");
    fake_env env;
    env.vars["CATALYST_MAX_CONNECTIONS"] = "5";  // the environment may repair the file
    EXPECT_EQ(catalyst::load_client_params(file.path(), env.fn()).max_connections, 5u);
}

TEST(config, file_problems) {
    std::string what;
    client_params p;
    EXPECT_EQ(refused_key([&] { catalyst::apply_file(p, "/nonexistent/catalyst.json"); }, &what), "config file");
    EXPECT_NE(what.find("/nonexistent/catalyst.json"), std::string::npos) << what;
    temp_file bad("{ not json");
    EXPECT_EQ(refused_key([&] { catalyst::apply_file(p, bad.path()); }, &what), "config file");
    EXPECT_NE(what.find("malformed JSON"), std::string::npos) << what;
    temp_file wrong(R"({"tls": {"ca_file": 1}})");
    EXPECT_EQ(refused_key([&] { catalyst::apply_file(p, wrong.path()); }), "tls.ca_file");
}

TEST(config, process_environment_is_the_default_lookup) {
    ::setenv("CATALYST_QUEUE_LIMIT", "77", 1);
    client_params p;
    catalyst::apply_env(p);
    ::unsetenv("CATALYST_QUEUE_LIMIT");
    EXPECT_EQ(p.queue_limit, 77u);
}

}  // namespace
