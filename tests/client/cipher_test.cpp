// The TLS cipher suite: the client's order (tls_params::tls13_ciphersuites, AES-128-GCM first)
// decides against a server that honours it (the sandbox by default), the server's against one
// that prefers its own; the observer reports what was negotiated.
#include "client/client_fixture.hpp"

#include <catalyst/config.hpp>
#include <catalyst/observer.hpp>

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

namespace catalyst::test {
namespace {

using namespace std::chrono_literals;
using boost::system::error_code;

struct cipher_observer : client_observer {
    std::mutex m;
    std::string cipher;
    void on_attempt_end(const attempt_end_event& e) override {
        std::lock_guard lock(m);
        cipher = std::string(e.tls_cipher);
    }
};

/// One call into `out`, run to completion on `ctx` (bounded: 10 s).
error_code call_into(boost::asio::io_context& ctx, client& c, const session_request& req,
                     session& out) {
    bool done = false;
    error_code result = errc::timeout;
    c.async_create_session(req, request_options{}, out, [&](error_code ec) {
        result = ec;
        done = true;
    });
    for (int i = 0; i < 1000 && !done; ++i) ctx.run_for(10ms);
    return result;
}

class cipher_suites : public client_test {
  protected:
    /// The suite of one call's connection, as the observer saw it.
    std::string negotiated(client_params p, errc expected = {}) {
        auto obs = std::make_shared<cipher_observer>();
        p.observer = obs;
        boost::asio::io_context ctx;
        client c(ctx, std::move(p));
        session out;
        const error_code result = call_into(ctx, c, valid_request(), out);
        if (expected == errc{})
            EXPECT_FALSE(result) << result.message();
        else
            EXPECT_EQ(result, expected) << result.message();
        std::lock_guard lock(obs->m);
        return obs->cipher;
    }
};

TEST_F(cipher_suites, aes_128_gcm_by_default) {
    start();
    EXPECT_EQ(negotiated(params()), "TLS_AES_128_GCM_SHA256");
}

TEST_F(cipher_suites, the_configured_order_decides) {
    start();
    auto p = params();
    p.tls.tls13_ciphersuites = "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256";
    EXPECT_EQ(negotiated(p), "TLS_AES_256_GCM_SHA384");
    p.tls.tls13_ciphersuites = "TLS_CHACHA20_POLY1305_SHA256";
    EXPECT_EQ(negotiated(p), "TLS_CHACHA20_POLY1305_SHA256");
}

TEST_F(cipher_suites, a_server_that_prefers_its_own_order_wins) {
    sandbox_params sp;
    sp.prefer_server_ciphers = true;
    start(sp);
    auto p = params();
    p.tls.tls13_ciphersuites = "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256";
    EXPECT_EQ(negotiated(p), "TLS_AES_128_GCM_SHA256");
}

TEST_F(cipher_suites, no_tls13_suite_in_common_is_a_tls_failure) {
    sandbox_params sp;
    sp.tls13_ciphersuites = "TLS_AES_256_GCM_SHA384";
    start(sp);
    auto p = params();
    p.tls.tls13_ciphersuites = "TLS_AES_128_GCM_SHA256";
    // Both speak TLS 1.3, so that is the version; there is no falling back to TLS 1.2 (whose
    // list is only for servers that stop there). The server's handshake_failure alert is a
    // failure on the way (retried within the retry policy), tls_failed in the end.
    EXPECT_EQ(negotiated(p, errc::tls_failed), "");
}

TEST_F(cipher_suites, an_invalid_list_is_a_config_error_naming_the_field) {
    start();
    auto p = params();
    p.tls.tls13_ciphersuites = "TLS_AES_128_GCM_SHA256:AES128";
    try {
        client c(p);
        ADD_FAILURE() << "accepted";
    } catch (const config_error& e) {
        EXPECT_EQ(e.key(), "tls.tls13_ciphersuites");
        EXPECT_NE(std::string(e.what()).find("\"AES128\""), std::string::npos) << e.what();
    }
    sandbox_params sp;
    sp.tls13_ciphersuites = "TLS_AES_256_GCM";
    try {
        sandbox s(sp);
        ADD_FAILURE() << "accepted";
    } catch (const sandbox_config_error& e) {
        EXPECT_EQ(e.key(), "tls13_ciphersuites");
    }
}

// The result written into the caller's session: reused across calls, cleared on error.
TEST_F(cipher_suites, a_session_given_by_the_caller_is_filled_and_reused) {
    start();
    boost::asio::io_context ctx;
    client c(ctx, params());
    session out;
    out.token = "stale";
    std::string first;
    for (int round = 0; round < 2; ++round) {
        const error_code result =
            call_into(ctx, c, valid_request("r" + std::to_string(round) + "@example.com"), out);
        ASSERT_FALSE(result) << result.message();
        EXPECT_EQ(out.token.rfind("ps_", 0), 0u) << out.token;
        EXPECT_EQ(out.status, session_status::pending);
        EXPECT_NE(out.payment_url.find(out.token), std::string::npos);
        if (round == 0)
            first = out.token;
        else
            EXPECT_NE(out.token, first);
    }
    // Refused before the wire: the session is emptied, the handler gets the code.
    session_request bad = valid_request();
    bad.lead.email = "not an email";
    EXPECT_EQ(call_into(ctx, c, bad, out), errc::validation_failed);
    EXPECT_EQ(out, session{});
}

}  // namespace
}  // namespace catalyst::test
