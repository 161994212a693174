// The client's security properties: verification cannot be switched off silently,
// TLS 1.2 is the floor, header values cannot smuggle CR/LF or control characters, response
// bodies are bounded.
#include "client/client_fixture.hpp"

#include "client/client_impl.hpp"
#include "client/http_response.hpp"
#include "sandbox/certs.hpp"

#include <catalyst/client.hpp>
#include <catalyst/config.hpp>
#include <catalyst/sandbox.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ssl/context.hpp>

#include <gtest/gtest.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace catalyst {
namespace {

using namespace std::chrono_literals;

struct call_result {
    boost::system::error_code ec;
    session s;
    diagnostics diag;
};

// One call on a private io_context, driven to completion (bounded).
call_result call(const client_params& p, const session_request& req,
                 const request_options& opts = {}, log_function logger = {},
                 client** keep = nullptr) {
    boost::asio::io_context ctx;
    auto guard = boost::asio::make_work_guard(ctx);
    client cl(ctx, p);
    if (logger) cl.set_logger(logger);
    call_result r;
    bool done = false;
    cl.async_create_session(req, opts, &r.diag, [&](boost::system::error_code ec, session s) {
        r.ec = ec;
        r.s = std::move(s);
        done = true;
    });
    for (int i = 0; i < 3000 && !done; ++i) ctx.run_for(10ms);
    EXPECT_TRUE(done) << "the call did not complete";
    (void)keep;
    return r;
}

class security : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        sb_ = new sandbox(sandbox_params{});
        sb_->start();
    }
    static void TearDownTestSuite() {
        delete sb_;
        sb_ = nullptr;
    }
    static sandbox* sb_;
};
sandbox* security::sb_ = nullptr;

// --- certificate verification ------------------------------------------------------------

TEST_F(security, verification_is_on_by_default_and_an_untrusted_server_is_refused_without_retry) {
    client_params p = test::trusting(*sb_);
    p.tls.ca_pem.clear();  // the system store does not know the sandbox's development CA
    auto r = call(p, test::valid_request("untrusted@example.com"));
    EXPECT_EQ(r.ec, errc::tls_failed) << r.diag.to_string();
    EXPECT_EQ(r.diag.attempts, 1u) << "TLS failures are never retried";
}

TEST_F(security, host_name_is_verified) {
    client_params p = test::trusting(*sb_);
    p.tls.server_name =
        "not-the-sandbox.example";  // the certificate names 127.0.0.1, ::1, localhost
    auto r = call(p, test::valid_request("wrong.name@example.com"));
    EXPECT_EQ(r.ec, errc::tls_failed) << r.diag.to_string();
}

TEST_F(security, insecure_skip_verify_warns_on_every_connection) {
    client_params p = test::trusting(*sb_);
    p.tls.ca_pem.clear();
    p.tls.insecure_skip_verify = true;
    p.tls.session_resumption = false;
    fault_params f;
    f.connection_close.every_nth = 1;  // every answer closes: each call needs a new connection
    sb_->set_faults(f);

    boost::asio::io_context ctx;
    auto guard = boost::asio::make_work_guard(ctx);
    client cl(ctx, p);
    std::mutex m;
    std::vector<std::string> warnings;
    cl.set_logger([&](log_level l, std::string_view msg) {
        std::lock_guard lock(m);
        if (l == log_level::warning && msg.find("verification") != std::string_view::npos)
            warnings.emplace_back(msg);
    });
    const int calls = 3;
    for (int i = 0; i < calls; ++i) {
        bool done = false;
        boost::system::error_code ec;
        cl.async_create_session(
            test::valid_request("insecure" + std::to_string(i) + "@example.com"),
            [&](boost::system::error_code e, session) {
                ec = e;
                done = true;
            });
        for (int k = 0; k < 3000 && !done; ++k) ctx.run_for(10ms);
        ASSERT_TRUE(done);
        EXPECT_FALSE(ec) << ec.message();
    }
    sb_->set_faults({});
    const auto opened = cl.metrics().connections_opened;
    EXPECT_GE(opened, static_cast<std::uint64_t>(calls));
    std::lock_guard lock(m);
    EXPECT_EQ(warnings.size(), opened) << "one warning per connection";
}

TEST_F(security, insecure_skip_verify_without_a_logger_warns_on_stderr) {
    client_params p = test::trusting(*sb_);
    p.tls.ca_pem.clear();
    p.tls.insecure_skip_verify = true;
    boost::asio::io_context ctx;
    auto guard = boost::asio::make_work_guard(ctx);
    client cl(ctx, p);  // no logger installed
    testing::internal::CaptureStderr();
    bool done = false;
    boost::system::error_code ec;
    cl.async_create_session(test::valid_request("insecure.stderr@example.com"),
                            [&](boost::system::error_code e, session) {
                                ec = e;
                                done = true;
                            });
    for (int k = 0; k < 3000 && !done; ++k) ctx.run_for(10ms);
    const std::string err = testing::internal::GetCapturedStderr();
    ASSERT_TRUE(done);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_NE(err.find("TLS peer verification is OFF"), std::string::npos) << err;
    EXPECT_EQ(err.find(p.api_key), std::string::npos) << "the warning never carries the key";
}

// --- TLS 1.2 minimum ---------------------------------------------------------------------

TEST(security_tls, client_context_has_tls_1_2_as_its_floor) {
    for (bool insecure : {false, true}) {
        client_params p;
        p.tls.insecure_skip_verify = insecure;
        boost::asio::ssl::context ctx(boost::asio::ssl::context::tls_client);
        detail::configure_tls(ctx, p);
        EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx.native_handle()), TLS1_2_VERSION)
            << "insecure=" << insecure;
    }
}

// A bare OpenSSL server for one connection, capped at `max_version`; when the handshake
// succeeds it answers any request with a 201 session and closes.
class tls_server {
  public:
    explicit tls_server(int max_version) {
        const auto certs = sandbox_detail::generate_dev_certs();
        ca_pem_ = certs.ca_pem;
        ctx_ = SSL_CTX_new(TLS_server_method());
        // Below the system policy on purpose (Debian's floor is TLS 1.2 at level 2).
        SSL_CTX_set_security_level(ctx_, 0);
        SSL_CTX_set_cipher_list(ctx_, "DEFAULT:@SECLEVEL=0");
        SSL_CTX_set_min_proto_version(ctx_, TLS1_VERSION);
        SSL_CTX_set_max_proto_version(ctx_, max_version);
        BIO* cb = BIO_new_mem_buf(certs.cert_pem.data(), static_cast<int>(certs.cert_pem.size()));
        X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
        BIO_free(cb);
        BIO* kb = BIO_new_mem_buf(certs.key_pem.data(), static_cast<int>(certs.key_pem.size()));
        EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
        BIO_free(kb);
        SSL_CTX_use_certificate(ctx_, cert);
        SSL_CTX_use_PrivateKey(ctx_, key);
        X509_free(cert);
        EVP_PKEY_free(key);

        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::listen(fd_, 4);
        socklen_t len = sizeof a;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~tls_server() {
        ::shutdown(fd_, SHUT_RDWR);
        ::close(fd_);
        thread_.join();
        SSL_CTX_free(ctx_);
    }
    unsigned short port() const { return port_; }
    std::string base_url() const {
        return "https://127.0.0.1:" + std::to_string(port_) + "/api/v1";
    }
    const std::string& ca_pem() const { return ca_pem_; }
    bool handshake_succeeded() const { return ok_.load(); }

  private:
    void serve() {
        const int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        timeval tv{5, 0};
        ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        SSL* ssl = SSL_new(ctx_);
        SSL_set_fd(ssl, c);
        if (SSL_accept(ssl) == 1) {
            ok_ = true;
            char buf[4096];
            std::string req;
            while (req.find("\r\n\r\n") == std::string::npos) {
                const int n = SSL_read(ssl, buf, sizeof buf);
                if (n <= 0) break;
                req.append(buf, static_cast<std::size_t>(n));
            }
            const std::string body =
                R"({"session_token":"ps_tls","status":"PENDING","payment_url":"https://x/s/ps_tls"})";
            const std::string resp =
                "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nConnection: close\r\n"
                "Content-Length: " +
                std::to_string(body.size()) + "\r\n\r\n" + body;
            SSL_write(ssl, resp.data(), static_cast<int>(resp.size()));
            SSL_shutdown(ssl);
        }
        SSL_free(ssl);
        ::close(c);
    }

    SSL_CTX* ctx_ = nullptr;
    int fd_ = -1;
    unsigned short port_ = 0;
    std::string ca_pem_;
    std::thread thread_;
    std::atomic<bool> ok_{false};
};

// One attempt: the server answers one handshake.
client_params one_attempt(const tls_server& s) {
    client_params p = test::trusting(s);
    p.retry.max_attempts = 1;
    return p;
}

TEST(security_tls, a_server_limited_to_tls_1_1_is_refused) {
    tls_server old(TLS1_1_VERSION);
    auto r = call(one_attempt(old), test::valid_request("old.tls@example.com"));
    EXPECT_EQ(r.ec, errc::tls_failed) << r.diag.to_string();
    EXPECT_FALSE(old.handshake_succeeded());
}

TEST(security_tls,
     the_same_server_at_tls_1_2_is_accepted) {  // the control: the server itself works
    tls_server ok(TLS1_2_VERSION);
    auto r = call(one_attempt(ok), test::valid_request("tls12@example.com"));
    EXPECT_FALSE(r.ec) << r.ec.message() << " " << r.diag.to_string();
    EXPECT_EQ(r.s.token, "ps_tls");
    EXPECT_TRUE(ok.handshake_succeeded());
}

// --- header values -----------------------------------------------------------------------

TEST_F(security, api_key_with_cr_lf_or_control_characters_is_refused_at_construction) {
    boost::asio::io_context ctx;
    for (const std::string& bad :
         std::vector<std::string>{"rk_test_123\r\nX-Injected: 1", "rk_test\n123",
                                  std::string("rk_te\0st", 7), "rk_\x7f"}) {
        client_params p = test::trusting(*sb_);
        p.api_key = bad;
        try {
            client cl(ctx, p);
            ADD_FAILURE() << "accepted an API key with a control character";
        } catch (const config_error& e) {
            EXPECT_EQ(e.key(), "api_key");
            EXPECT_EQ(std::string(e.what()).find("X-Injected"), std::string::npos)
                << "the message echoes the key";
        }
    }
}

TEST_F(security, idempotency_key_with_cr_lf_or_control_characters_is_refused_before_the_wire) {
    const auto before = sb_->stats().requests;
    for (const std::string& bad :
         std::vector<std::string>{"k\r\nX-Injected: 1", "k\n", "k\tk", std::string("k\0k", 3),
                                  "k\x7f", std::string(256, 'k')}) {
        request_options o;
        o.idempotency_key = bad;
        auto r = call(test::trusting(*sb_), test::valid_request("hdr@example.com"), o);
        EXPECT_EQ(r.ec, errc::validation_failed);
        EXPECT_EQ(r.diag.attempts, 0u);
        bool named = false;
        for (const auto& f : r.diag.fields) named = named || f.field == "idempotency_key";
        EXPECT_TRUE(named) << r.diag.to_string();
    }
    EXPECT_EQ(sb_->stats().requests, before) << "a refused request reached the server";
}

// --- bounded response bodies -------------------------------------------------------------

TEST_F(security, a_response_body_over_max_response_body_is_a_protocol_error) {
    client_params p = test::trusting(*sb_);
    p.max_response_body = 32;  // the sandbox's 201 body is longer
    auto r = call(p, test::valid_request("small.limit@example.com"));
    EXPECT_EQ(r.ec, errc::protocol_error) << r.diag.to_string();
}

TEST(security_parser, a_huge_content_length_fails_at_once_instead_of_waiting_or_allocating) {
    std::string head = "HTTP/1.1 201 Created\r\nContent-Length: 999999999999\r\n\r\n{";
    detail::http_response r;
    EXPECT_EQ(detail::parse_response(head.data(), head.size(), 64 * 1024, 8 * 1024, r),
              detail::parse_status::error);
    std::string chunked =
        "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFF\r\n{";
    EXPECT_EQ(detail::parse_response(chunked.data(), chunked.size(), 64 * 1024, 8 * 1024, r),
              detail::parse_status::error);
    std::string headers = "HTTP/1.1 201 Created\r\nX-Pad: " + std::string(20'000, 'a');
    EXPECT_EQ(detail::parse_response(headers.data(), headers.size(), 64 * 1024, 8 * 1024, r),
              detail::parse_status::error);
}

}  // namespace
}  // namespace catalyst
