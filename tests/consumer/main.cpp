// Proves that a user's project compiles, links and runs against catalyst: built by
// scripts/check-consumer.sh with add_subdirectory(), with find_package() against a static and
// a shared install, and with a plain compiler command line from `pkg-config`.
//
// It does what an application does: validates and encodes a request, then creates a session
// over TLS against an in-process sandbox with a client on its own io_context, and shuts the
// client down. Across a shared libcatalyst's boundary this checks the exported API, an
// exception thrown inside the library and caught here (config_error's type information), the
// errc category's identity, and Asio compiled inside the library (BOOST_ASIO_SEPARATE_COMPILATION).
#include <catalyst/client.hpp>
#include <catalyst/config.hpp>
#include <catalyst/json.hpp>
#include <catalyst/sandbox.hpp>
#include <catalyst/validation.hpp>
#include <catalyst/version.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <iostream>
#include <string>

namespace {

int fail(const std::string& what) {
    std::cerr << "consumer: " << what << '\n';
    return 1;
}

}  // namespace

int main() {
    using namespace std::chrono_literals;
    catalyst::session_request req;
    req.campaign_id = "a1b2c3d4-e5f6-7890-abcd-ef1234567890";
    req.customer_ip = "203.0.113.50";
    req.lead = {"Max", "Mustermann", "max@example.com", "DE", {}, {}, {}, {}};
    if (!catalyst::validate(req).empty()) return fail("the example request did not validate");
    const std::string body = catalyst::to_json(req);
    if (body.find("\"campaign_id\":\"a1b2c3d4-e5f6-7890-abcd-ef1234567890\"") == std::string::npos)
        return fail("the encoded request lacks its campaign: " + body);

    // A config_error thrown inside the library is caught here by its type.
    try {
        catalyst::client_params bad;
        bad.max_connections = 0;
        catalyst::check(bad);
        return fail("check() accepted max_connections = 0");
    } catch (const catalyst::config_error& e) {
        if (e.key() != "max_connections") return fail("config_error names " + e.key());
    }

    catalyst::sandbox sb;
    sb.start();
    catalyst::client_params params =
        catalyst::load_client_params({}, [](const char*) -> const char* { return nullptr; });
    params.base_url = sb.base_url();
    params.api_key = "rk_test_123";
    params.tls.ca_pem = sb.ca_pem();
    if (params.user_agent != std::string("catalyst/") + CATALYST_VERSION_STRING)
        return fail("unexpected default user agent " + params.user_agent);

    boost::asio::io_context ctx;
    catalyst::client client(ctx, params);
    boost::asio::steady_timer guard(ctx, 20s);  // never hang: a failure ends the run
    guard.async_wait([&](boost::system::error_code ec) {
        if (!ec) ctx.stop();
    });
    catalyst::session created;
    boost::system::error_code result = catalyst::errc::cancelled;
    catalyst::session_request invalid = req;
    invalid.lead.email = "not an email";
    boost::system::error_code refused;
    client.async_create_session(invalid, [&](boost::system::error_code ec, catalyst::session) { refused = ec; });
    client.async_create_session(req, [&](boost::system::error_code ec, catalyst::session s) {
        result = ec;
        created = std::move(s);
        client.async_shutdown(1s, [&](boost::system::error_code) { guard.cancel(); });
    });
    ctx.run();

    if (refused != catalyst::errc::validation_failed) return fail("invalid request: " + refused.message());
    if (result) return fail("create session: " + result.message());
    if (created.token.rfind("ps_", 0) != 0 || created.status != catalyst::session_status::pending)
        return fail("unexpected session " + created.token + " " + created.status_text);
    if (sb.stats().created != 1) return fail("the sandbox did not record one session");
    sb.stop();
    std::cout << "consumer: catalyst " << CATALYST_VERSION_STRING << ", created " << created.token << " at "
              << params.base_url << '\n';
    return 0;
}
