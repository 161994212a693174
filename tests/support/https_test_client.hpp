#ifndef CATALYST_TESTS_SUPPORT_HTTPS_TEST_CLIENT_HPP
#define CATALYST_TESTS_SUPPORT_HTTPS_TEST_CLIENT_HPP

// A small blocking HTTP/1.1 client for tests: one connection, TLS verified against a given CA
// (or plain TCP), every step bounded by a timeout. It sends whatever bytes it is given
// (malformed requests included) and reports exactly what came back: a parsed answer, an EOF,
// a reset, a truncated TLS stream, or a timeout. Not thread-safe; one per test thread.

#include <boost/system/error_code.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace catalyst::test {

using header_list = std::vector<std::pair<std::string, std::string>>;

struct http_reply {
    unsigned status = 0;
    std::string body;
    header_list headers;
    bool keep_alive = true;

    /// The first header of that name (case-insensitive), "" when absent.
    std::string header(std::string_view name) const;
    bool has_header(std::string_view name) const;
};

struct test_client_options {
    std::string host = "127.0.0.1";
    unsigned short port = 0;
    bool tls = true;
    std::string ca_pem;                   ///< trusted CA (PEM); required when tls
    std::string verify_name = "127.0.0.1";  ///< verified against the certificate (IP or DNS); SNI when a DNS name
    std::chrono::milliseconds timeout{10'000};  ///< per step (connect, handshake, each read/write)
    int max_tls_version = 0;  ///< OpenSSL's TLS1_2_VERSION etc. to cap the handshake; 0 = no cap
    int min_tls_version = 0;  ///< likewise the floor; 0 = OpenSSL's default
};

class https_test_client {
public:
    explicit https_test_client(test_client_options o);
    ~https_test_client();
    https_test_client(const https_test_client&) = delete;
    https_test_client& operator=(const https_test_client&) = delete;

    /// TCP connect + TLS handshake (with verification). Closes a previous connection first.
    boost::system::error_code connect();
    bool is_open() const;
    void close();

    /// Writes raw bytes (connects first when needed).
    boost::system::error_code write(std::string_view bytes);
    /// Writes bytes straight to the TCP socket, under TLS (a forged or broken TLS record).
    boost::system::error_code write_below_tls(std::string_view bytes);
    /// Reads one response. Errors: eof / ssl stream_truncated / connection_reset when the
    /// server closed or reset, beast http errors (partial_message) for a cut message,
    /// `timed_out` when the step timeout passed.
    boost::system::error_code read_reply(http_reply& out);
    /// Sends `method target` with the headers (Host and Content-Length added) and reads the answer.
    boost::system::error_code request(std::string_view method, std::string_view target, const header_list& headers,
                                      std::string_view body, http_reply& out);
    /// Reads everything until the peer closes (or the timeout); `raw` gets the bytes.
    boost::system::error_code read_until_close(std::string& raw);

    void set_timeout(std::chrono::milliseconds t);
    /// The negotiated protocol ("TLSv1.3"), "" when not connected over TLS.
    std::string tls_version() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// The contract's example create body for `campaign_id` and `email`.
std::string example_create_body(std::string_view email = "max@example.com",
                                std::string_view campaign_id = "a1b2c3d4-e5f6-7890-abcd-ef1234567890");

/// Headers of a create request: Bearer key and JSON content type (+ Idempotency-Key when given).
header_list create_headers(std::string_view api_key = "rk_your_api_key", std::string_view idempotency_key = {});

/// True for the errors that mean "the server closed or reset the connection".
bool is_closed_by_peer(const boost::system::error_code& ec);

}  // namespace catalyst::test

#endif
