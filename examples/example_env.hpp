#ifndef CATALYST_EXAMPLES_EXAMPLE_ENV_HPP
#define CATALYST_EXAMPLES_EXAMPLE_ENV_HPP

// Shared by the examples: where to send requests. With CATALYST_BASE_URL set, the examples
// talk to that API (CATALYST_API_KEY, CATALYST_CA_FILE honoured); otherwise they start an
// embedded sandbox on a free port and trust its development CA.

#include <catalyst/client_params.hpp>
#include <catalyst/sandbox.hpp>
#include <catalyst/session_request.hpp>

#include <cstdlib>
#include <memory>
#include <string>

namespace example {

struct target {
    std::unique_ptr<catalyst::sandbox> sandbox;  // empty when CATALYST_BASE_URL is set
    catalyst::client_params params;
};

inline target make_target() {
    target t;
    auto env = [](const char* n) -> std::string {
        const char* v = std::getenv(n);
        return v ? v : "";
    };
    if (auto url = env("CATALYST_BASE_URL"); !url.empty()) {
        t.params.base_url = url;
        t.params.api_key = env("CATALYST_API_KEY");
        t.params.tls.ca_file = env("CATALYST_CA_FILE");
    } else {
        t.sandbox = std::make_unique<catalyst::sandbox>();
        t.sandbox->start();
        t.params.base_url = t.sandbox->base_url();
        t.params.api_key = "rk_your_api_key";
        t.params.tls.ca_pem = t.sandbox->ca_pem();
    }
    return t;
}

/// Against the embedded sandbox: a 503 on requests 3, 6, 9, ... so that retries show.
inline void every_third_request_fails(target& t) {
    if (!t.sandbox) return;
    catalyst::fault_params faults;
    faults.server_error.every_nth = 3;
    t.sandbox->set_faults(faults);
}

/// The documentation's example request (campaign mode).
inline catalyst::session_request example_request(std::string email = "max@example.com") {
    catalyst::session_request r;
    r.campaign_id = "a1b2c3d4-e5f6-7890-abcd-ef1234567890";
    r.customer_ip = "203.0.113.50";
    r.lead.first_name = "Max";
    r.lead.last_name = "Mustermann";
    r.lead.email = std::move(email);
    r.lead.country = "DE";
    return r;
}

}  // namespace example

#endif
