#ifndef CATALYST_SRC_CORE_CONTRACT_EXAMPLE_HPP
#define CATALYST_SRC_CORE_CONTRACT_EXAMPLE_HPP

// The documentation's example create-session request (the body that
// bench/reference/wrk-post.lua sends too), shared by the tests, the micro-benchmarks and the
// bench harness so that all of them measure and check the same request. The documentation's
// own email is a scraped "[email protected]" placeholder; ours is max@example.com.

#include <catalyst/session_request.hpp>

namespace catalyst::detail {

inline session_request contract_example_request() {
    session_request r;
    r.campaign_id = "a1b2c3d4-e5f6-7890-abcd-ef1234567890";
    r.customer_ip = "203.0.113.50";
    r.lead.first_name = "Max";
    r.lead.last_name = "Mustermann";
    r.lead.email = "max@example.com";
    r.lead.country = "DE";
    return r;
}

}  // namespace catalyst::detail

#endif
