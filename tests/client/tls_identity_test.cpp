// Who the server must prove to be (src/client/tls_identity.*): the identity and SNI set on a
// real SSL object, the rule that tells a refused identity (never retried) from a handshake
// that failed on the way (retried), and both through a client against test servers: an
// unknown CA or a name the certificate does not cover is tls_failed at once, "localhost" is
// verified and resolved.

#include "client_fixture.hpp"

#include "client/tls_identity.hpp"

#include <catalyst/config.hpp>

#include <boost/asio/use_future.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

namespace net = boost::asio;
using namespace catalyst;
using namespace catalyst::test;
using boost::system::error_code;
using catalyst::detail::apply_peer_identity;
using catalyst::detail::origin;
using catalyst::detail::verification_refused;

namespace {

struct ssl_ctx_free {
    void operator()(SSL_CTX* c) const noexcept { SSL_CTX_free(c); }
};
struct ssl_free {
    void operator()(SSL* s) const noexcept { SSL_free(s); }
};

/// A client SSL object from a real context, as a connection has before its handshake.
class peer_identity : public ::testing::Test {
  protected:
    void SetUp() override {
        ctx_.reset(SSL_CTX_new(TLS_client_method()));
        ASSERT_TRUE(ctx_);
        ssl_.reset(SSL_new(ctx_.get()));
        ASSERT_TRUE(ssl_);
        ERR_clear_error();
    }
    SSL* ssl() const { return ssl_.get(); }
    X509_VERIFY_PARAM* param() const { return SSL_get0_param(ssl_.get()); }
    const char* sni() const { return SSL_get_servername(ssl_.get(), TLSEXT_NAMETYPE_host_name); }
    std::string verified_host() const {
        const char* h = X509_VERIFY_PARAM_get0_host(param(), 0);
        return h ? h : "";
    }
    std::string verified_ip() const {
        char* ip = X509_VERIFY_PARAM_get1_ip_asc(param());
        std::string out = ip ? ip : "";
        OPENSSL_free(ip);
        ERR_clear_error();  // none set: OpenSSL notes that as an error
        return out;
    }
    static origin host(std::string h, bool ip = false) {
        origin o;
        o.host = std::move(h);
        o.host_is_ip = ip;
        return o;
    }

    std::unique_ptr<SSL_CTX, ssl_ctx_free> ctx_;
    std::unique_ptr<SSL, ssl_free> ssl_;
};

TEST_F(peer_identity, a_host_name_is_verified_and_sent_as_sni_with_partial_wildcards_refused) {
    EXPECT_EQ(apply_peer_identity(ssl(), host("api.example.test"), tls_params{}), "");
    EXPECT_EQ(verified_host(), "api.example.test");
    ASSERT_NE(sni(), nullptr);
    EXPECT_STREQ(sni(), "api.example.test");
    // A certificate for "a*.example.test" or "*a.example.test" must not match.
    EXPECT_NE(X509_VERIFY_PARAM_get_hostflags(param()) & X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, 0u);
}

TEST_F(peer_identity, server_name_overrides_the_url_host) {
    tls_params t;
    t.server_name = "api.internal.test";
    EXPECT_EQ(apply_peer_identity(ssl(), host("10.0.0.7", true), t), "");
    EXPECT_EQ(verified_host(), "api.internal.test");
    EXPECT_EQ(verified_ip(), "");
    ASSERT_NE(sni(), nullptr);
    EXPECT_STREQ(sni(), "api.internal.test");
}

// RFC 6066: no IP literal in SNI, whether the address is the URL's host or tls.server_name;
// the certificate is checked for the address (its IP entries).
TEST_F(peer_identity, an_ip_address_is_verified_as_an_ip_and_sends_no_sni) {
    tls_params t;
    t.server_name = "127.0.0.1";
    EXPECT_EQ(apply_peer_identity(ssl(), host("api.example.test"), t), "");
    EXPECT_EQ(sni(), nullptr) << "an IP literal was set as SNI: " << sni();
    EXPECT_EQ(verified_ip(), "127.0.0.1");
    EXPECT_EQ(verified_host(), "");
}

TEST_F(peer_identity, an_ipv6_url_host_sends_no_sni) {
    EXPECT_EQ(apply_peer_identity(ssl(), host("::1", true), tls_params{}), "");
    EXPECT_EQ(sni(), nullptr);
    EXPECT_EQ(verified_ip(), "0:0:0:0:0:0:0:1");
}

// An empty name given to SSL_set1_host clears the host check and reports success: such a name
// must end the connection instead, whichever field it came from.
TEST_F(peer_identity, an_empty_or_nul_name_fails_closed) {
    EXPECT_NE(apply_peer_identity(ssl(), host(""), tls_params{}), "");
    tls_params t;
    t.server_name = std::string("\0evil.test", 10);
    const std::string why = apply_peer_identity(ssl(), host("api.example.test"), t);
    EXPECT_NE(why.find("tls.server_name"), std::string::npos) << why;
    EXPECT_NE(apply_peer_identity(ssl(), host(std::string("\0localhost", 10)), tls_params{}), "");
    EXPECT_NE(apply_peer_identity(ssl(), host("api\r\n.example.test"), tls_params{}), "");
    EXPECT_EQ(sni(), nullptr);
    EXPECT_EQ(verified_host(), "");
    EXPECT_EQ(ERR_peek_error(), 0u) << "an OpenSSL error was left in this thread's queue";
}

TEST_F(peer_identity, insecure_skip_verify_sets_only_the_sni) {
    tls_params t;
    t.insecure_skip_verify = true;
    EXPECT_EQ(apply_peer_identity(ssl(), host("api.example.test"), t), "");
    EXPECT_EQ(verified_host(), "");
    ASSERT_NE(sni(), nullptr);
    EXPECT_STREQ(sni(), "api.example.test");
    // Still fails closed on a name it cannot send.
    EXPECT_NE(apply_peer_identity(ssl(), host(""), t), "");
}

TEST(verification_refused, only_a_failed_verification_or_identity_is_a_refusal) {
    // A failed handshake with a clean verification result: an alert, EOF, reset, timeout.
    EXPECT_FALSE(verification_refused(X509_V_OK, false, true));
    EXPECT_TRUE(verification_refused(X509_V_ERR_HOSTNAME_MISMATCH, false, true));
    EXPECT_TRUE(verification_refused(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, false, true));
    EXPECT_TRUE(verification_refused(X509_V_ERR_CERT_HAS_EXPIRED, false, true));
    EXPECT_TRUE(verification_refused(X509_V_OK, true, true));
    EXPECT_TRUE(verification_refused(X509_V_OK, true, false));
    // Verification off: OpenSSL records a result without acting on it; it decides nothing.
    EXPECT_FALSE(verification_refused(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, false, false));
}

// --- through a client --------------------------------------------------------------------

using tls_identity_client = client_test;

struct call_error {
    error_code ec;
    diagnostics d;
};

call_error call(const client_params& p) {
    client c(p);
    call_error r;
    auto f = c.async_create_session(valid_request(), request_options{}, r.d, net::use_future);
    try {
        f.get();
    } catch (const boost::system::system_error& e) {
        r.ec = e.code();
    }
    return r;
}

// A NUL in the URL's host ("https://%00localhost:<port>") would reach OpenSSL as an empty
// name, under which a certificate for any host passes: the client refuses it at construction.
TEST_F(tls_identity_client, a_base_url_host_with_a_nul_is_refused_at_construction) {
    hostile_server server;
    auto p = params_for(server);
    p.base_url = "https://%00localhost:" + std::to_string(server.port()) + "/api/v1";
    try {
        client c(p);
        ADD_FAILURE() << "the client was constructed";
    } catch (const config_error& e) {
        EXPECT_EQ(e.key(), "base_url") << e.what();
    }
    EXPECT_EQ(server.connections_accepted(), 0u);
}

TEST_F(tls_identity_client, a_server_name_the_certificate_does_not_cover_is_refused_once) {
    hostile_server server;  // its certificate: 127.0.0.1, ::1, localhost
    for (const char* name : {"evil.test", "127.0.0.2"}) {
        auto p = params_for(server);
        p.tls.server_name = name;
        const auto r = call(p);
        EXPECT_EQ(r.ec, errc::tls_failed) << name << ": " << r.d.to_string();
        EXPECT_EQ(r.d.attempts, 1u) << name << ": a verification failure is never retried";
        EXPECT_NE(r.d.detail.find("certificate verification failed"), std::string::npos)
            << r.d.detail;
    }
    EXPECT_EQ(server.requests(), 0u);
    // The control: names it covers.
    for (const char* name : {"localhost", "127.0.0.1"}) {
        auto p = params_for(server);
        p.tls.server_name = name;
        const auto r = call(p);
        EXPECT_FALSE(r.ec) << name << ": " << r.d.to_string();
    }
}

// A server that fails one handshake with a fatal alert (an internal_error while it restarts,
// say): nothing was sent, so the call is retried, and succeeds.
TEST_F(tls_identity_client, a_fatal_alert_in_the_handshake_is_retried) {
    hostile_options so;
    so.on_connect = [](std::size_t connection) {
        return connection == 0 ? hostile_action::alert_handshake : hostile_action::answer;
    };
    hostile_server server(so);
    const auto r = call(params_for(server));
    EXPECT_FALSE(r.ec) << r.d.to_string();
    EXPECT_EQ(r.d.attempts, 2u) << r.d.to_string();
    EXPECT_EQ(server.connections_accepted(), 2u);
    EXPECT_EQ(server.requests(), 1u);
}

TEST_F(tls_identity_client, a_server_that_always_alerts_fails_after_the_retries) {
    hostile_options so;
    so.on_connect = [](std::size_t) { return hostile_action::alert_handshake; };
    hostile_server server(so);
    auto p = params_for(server);
    p.retry.max_attempts = 3;
    const auto r = call(p);
    EXPECT_EQ(r.ec, errc::tls_failed) << r.d.to_string();
    EXPECT_EQ(r.d.attempts, 3u) << r.d.to_string();
    EXPECT_NE(r.d.detail.find("TLS handshake failed"), std::string::npos) << r.d.detail;
    EXPECT_EQ(server.requests(), 0u);
}

TEST_F(tls_identity_client, unknown_ca_is_tls_failed_and_never_retried) {
    start();
    auto p = params();
    p.tls.ca_pem.clear();  // the system store does not know the sandbox's CA
    client c(p);
    diagnostics d;
    EXPECT_EQ(error_of(c, valid_request(), request_options{}, d), errc::tls_failed);
    EXPECT_EQ(d.attempts, 1u);
    EXPECT_NE(d.detail.find("certificate"), std::string::npos) << d.detail;
    EXPECT_EQ(sb_->stats().requests, 0u);
}

TEST_F(tls_identity_client, wrong_host_name_is_tls_failed_and_never_retried) {
    start();
    auto p = params();
    p.tls.server_name = "api.catalystpay.com";
    client c(p);
    diagnostics d;
    EXPECT_EQ(error_of(c, valid_request(), request_options{}, d), errc::tls_failed);
    EXPECT_EQ(d.attempts, 1u);
    EXPECT_EQ(c.metrics().retries, 0u);
}

TEST_F(tls_identity_client, localhost_name_is_verified_and_resolved) {
    start();
    auto p = params();
    p.base_url = "https://localhost:" + std::to_string(sb_->port()) + "/api/v1";
    client c(p);
    diagnostics d;
    auto f = c.async_create_session(valid_request(), request_options{}, d, net::use_future);
    // localhost may resolve to ::1 first where the sandbox only listens on 127.0.0.1:
    // every address is tried in turn.
    EXPECT_EQ(f.get().token.rfind("ps_", 0), 0u);
}

}  // namespace
