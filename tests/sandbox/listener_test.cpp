// What the sandbox listens on and how it starts and stops: TLS by default with a certificate
// a client can verify (its CA, the names it carries), plain HTTP only when asked, TLS 1.2 and
// 1.3 only, the IPv6 loopback, a certificate folder reused across runs and the user's own
// certificate, start errors that say what failed, and a stop that neither hangs on open
// connections nor on requests in flight.

#include "sandbox/sandbox_fixture.hpp"

#include <openssl/ssl.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>

using namespace catalyst;
using namespace catalyst::test;
using namespace std::chrono_literals;

namespace {

using listener = sandbox_test;

TEST_F(listener, plain_http_only_when_asked) {
    sandbox_params p;
    p.plain_http = true;
    start(p);
    EXPECT_EQ(sb_->base_url(), "http://127.0.0.1:" + std::to_string(sb_->port()) + "/api/v1");
    EXPECT_EQ(sb_->ca_pem(), "");
    EXPECT_EQ(post(example_create_body()).status, 201u);
}

TEST_F(listener, default_is_tls_with_a_verifiable_certificate) {
    start();
    EXPECT_EQ(sb_->base_url(), "https://127.0.0.1:" + std::to_string(sb_->port()) + "/api/v1");
    EXPECT_NE(sb_->ca_pem().find("BEGIN CERTIFICATE"), std::string::npos);
    // "localhost" is in the SAN too.
    test_client_options o;
    o.port = sb_->port();
    o.ca_pem = sb_->ca_pem();
    o.verify_name = "localhost";
    https_test_client by_name(o);
    EXPECT_FALSE(by_name.connect());
    // A name the certificate does not carry fails verification.
    o.verify_name = "example.com";
    https_test_client wrong(o);
    EXPECT_TRUE(wrong.connect());
    // And so does a client that does not trust the CA.
    o.verify_name = "127.0.0.1";
    o.ca_pem.clear();
    https_test_client untrusting(o);
    EXPECT_TRUE(untrusting.connect());
}

TEST_F(listener, tls12_and_tls13_only_tls12_and_up) {
    start();
    for (const auto& [version, name] :
         {std::pair{TLS1_2_VERSION, "TLSv1.2"}, std::pair{TLS1_3_VERSION, "TLSv1.3"}}) {
        test_client_options o;
        o.port = sb_->port();
        o.ca_pem = sb_->ca_pem();
        o.min_tls_version = version;
        o.max_tls_version = version;
        https_test_client c(o);
        http_reply r;
        ASSERT_FALSE(c.request("POST", create_path, create_headers(), example_create_body(), r))
            << name;
        EXPECT_EQ(r.status, 201u);
        EXPECT_EQ(c.tls_version(), name);
    }
    test_client_options old;
    old.port = sb_->port();
    old.ca_pem = sb_->ca_pem();
    old.max_tls_version = TLS1_1_VERSION;
    https_test_client c(old);
    EXPECT_TRUE(c.connect()) << "a TLS 1.1 handshake succeeded";
}

TEST_F(listener, serves_ipv6_loopback) {
    sandbox_params p;
    p.listen_address = "::1";
    sb_ = std::make_unique<sandbox>(p);
    try {
        sb_->start();
    } catch (const std::runtime_error& e) {
        GTEST_SKIP() << "no IPv6 loopback here: " << e.what();
    }
    EXPECT_EQ(sb_->base_url(), "https://[::1]:" + std::to_string(sb_->port()) + "/api/v1");
    test_client_options o;
    o.host = "::1";
    o.verify_name = "::1";  // IP:::1 is in the certificate's SAN
    o.port = sb_->port();
    o.ca_pem = sb_->ca_pem();
    https_test_client c(o);
    http_reply r;
    ASSERT_FALSE(c.request("POST", create_path, create_headers(), example_create_body(), r));
    EXPECT_EQ(r.status, 201u);
}

TEST_F(listener, cert_dir_is_reused_and_user_certs_work) {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("catalyst-sb-certs-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    sandbox_params p;
    p.cert_dir = dir.string();
    std::string first_ca;
    {
        sandbox a(p);
        a.start();
        first_ca = a.ca_pem();
        EXPECT_EQ(a.ca_file(), (dir / "ca.crt").string());
        EXPECT_TRUE(std::filesystem::exists(dir / "server.key"));
        EXPECT_EQ(std::filesystem::status(dir / "server.key").permissions() &
                      std::filesystem::perms::others_read,
                  std::filesystem::perms::none);
    }
    {
        sandbox b(p);
        b.start();
        EXPECT_EQ(b.ca_pem(), first_ca);  // reused, not regenerated
    }
    sandbox_params u;
    u.cert_file = (dir / "server.crt").string();
    u.key_file = (dir / "server.key").string();
    start(u);
    EXPECT_EQ(sb_->ca_pem(), "");
    test_client_options o;
    o.port = sb_->port();
    o.ca_pem = first_ca;
    https_test_client c(o);
    http_reply r;
    ASSERT_FALSE(c.request("POST", create_path, create_headers(), example_create_body(), r));
    EXPECT_EQ(r.status, 201u);
    sb_->stop();
    std::filesystem::remove_all(dir);
}

TEST_F(listener, start_errors_say_what) {
    start();
    sandbox_params p;
    p.port = sb_->port();
    sandbox clash(p);
    try {
        clash.start();
        FAIL() << "bound a port in use";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("bind"), std::string::npos) << e.what();
    }
    sandbox_params missing;
    missing.cert_file = "/nonexistent/cert.pem";
    missing.key_file = "/nonexistent/key.pem";
    sandbox m(missing);
    try {
        m.start();
        FAIL();
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/cert.pem"), std::string::npos)
            << e.what();
    }
    sandbox_params bad;
    bad.api_keys = {};
    EXPECT_THROW(sandbox{bad}, sandbox_config_error);
    sandbox_params journal;
    journal.journal_file = "/nonexistent/dir/journal.jsonl";
    try {
        sandbox j(journal);
        j.start();
        FAIL() << "an unwritable journal was accepted";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/journal.jsonl"), std::string::npos)
            << e.what();
    }
}

TEST_F(listener, stop_with_open_connections_and_requests_in_flight) {
    fault_params f;
    f.latency.every_nth = 1;
    f.latency_min = 10s;  // a request parked in the latency fault
    sandbox_params p;
    p.faults = f;
    p.threads = 2;
    start(p);
    auto idle = client();
    ASSERT_FALSE(idle->connect());
    auto parked = client(200ms);
    ASSERT_FALSE(parked->write(
        "POST /api/v1/payment-sessions/ HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"));
    http_reply r;
    EXPECT_TRUE(parked->read_reply(r));  // our own timeout: the server is sleeping on it
    sb_->stop();                         // must not hang
    sb_->stop();                         // idempotent
    std::string rest;
    EXPECT_TRUE(is_closed_by_peer(idle->read_until_close(rest)));
}

}  // namespace
