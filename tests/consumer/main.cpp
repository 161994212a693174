// Proves that a user's project compiles, links and runs against catalyst.
#include <catalyst/config.hpp>
#include <catalyst/diagnostics.hpp>
#include <catalyst/error.hpp>
#include <catalyst/json.hpp>
#include <catalyst/validation.hpp>

#include <boost/asio/io_context.hpp>

#include <iostream>

int main() {
    catalyst::session_request req;
    req.campaign_id = "a1b2c3d4-e5f6-7890-abcd-ef1234567890";
    req.customer_ip = "203.0.113.50";
    req.lead = {"Max", "Mustermann", "max@example.com", "DE", {}, {}, {}, {}};
    if (!catalyst::validate(req).empty()) {
        std::cerr << "consumer: the example request did not validate\n";
        return 1;
    }
    catalyst::session s;
    if (catalyst::decode(R"({"session_token":"ps_1","status":"PENDING","payment_url":"https://p/s/ps_1"})", s) ||
        s.status != catalyst::session_status::pending) {
        std::cerr << "consumer: the example answer did not decode\n";
        return 1;
    }
    const catalyst::client_params params =
        catalyst::load_client_params({}, [](const char*) -> const char* { return nullptr; });
    boost::asio::io_context ctx;  // Asio comes compiled inside catalyst
    ctx.run();
    std::cout << "consumer: " << catalyst::to_json(req) << " -> " << s.token << " via "
              << params.base_url << '\n';
    return 0;
}
