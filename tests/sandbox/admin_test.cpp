// The admin endpoints (/sandbox/*): the stats, the ledger (without personal data) and the
// faults, read and changed at run time; and who may use them: anyone on loopback unless a
// token is set, only the token's holder off loopback (the health check excepted).

#include "sandbox/sandbox_fixture.hpp"

#include <string>
#include <utility>
#include <vector>

using namespace catalyst;
using namespace catalyst::test;

namespace {

using admin_endpoints = sandbox_test;

TEST_F(admin_endpoints, stats_ledger_and_faults) {
    start();
    post(example_create_body());
    auto c = client();
    http_reply r;
    ASSERT_FALSE(c->request("GET", "/sandbox/stats", {}, "", r));
    ASSERT_EQ(r.status, 200u);
    auto v = json(r);
    EXPECT_EQ(v.at("created").as_int64(), 1);
    EXPECT_EQ(v.at("responses_by_status").at("201").as_int64(), 1);

    ASSERT_FALSE(c->request("GET", "/sandbox/ledger", {}, "", r));
    ASSERT_EQ(r.status, 200u);
    v = json(r);
    ASSERT_EQ(v.at("sessions").as_array().size(), 1u);
    EXPECT_EQ(r.body.find("max@example.com"), std::string::npos)
        << "the ledger endpoint must not show emails";
    EXPECT_EQ(r.body.find("rk_your_api_key"), std::string::npos);

    ASSERT_FALSE(c->request("PUT", "/sandbox/faults", {{"Content-Type", "application/json"}},
                            R"({"server_error":{"every_nth":2,"status":504}})", r));
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_EQ(json(r).at("server_error").at("status").as_int64(), 504);
    EXPECT_EQ(sb_->faults().server_error.every_nth, 2u);
    ASSERT_FALSE(c->request("GET", "/sandbox/faults", {}, "", r));
    EXPECT_EQ(json(r).at("server_error").at("every_nth").as_int64(), 2);

    ASSERT_FALSE(c->request("PUT", "/sandbox/faults", {}, R"({"server_error":{"status":404}})", r));
    EXPECT_EQ(r.status, 400u);
    EXPECT_NE(std::string(json(r).at("detail").as_string()).find("server_error.status"),
              std::string::npos);
    ASSERT_FALSE(c->request("POST", "/sandbox/stats", {}, "", r));
    EXPECT_EQ(r.status, 405u);
    ASSERT_FALSE(c->request("GET", "/sandbox/other", {}, "", r));
    EXPECT_EQ(r.status, 404u);
}

TEST_F(admin_endpoints, off_loopback_the_admin_endpoints_need_a_token) {
    sandbox_params p;
    p.listen_address = "0.0.0.0";  // the test connects to 127.0.0.1 only
    start(p);
    EXPECT_EQ(sb_->bound_address(), "0.0.0.0:" + std::to_string(sb_->port()));
    EXPECT_EQ(admin("GET", "/sandbox/health").status, 200u);  // for container health checks
    for (const auto& [method, target] :
         std::vector<std::pair<std::string, std::string>>{{"GET", "/sandbox/stats"},
                                                          {"GET", "/sandbox/ledger"},
                                                          {"POST", "/sandbox/reset"},
                                                          {"GET", "/sandbox/faults"}}) {
        const auto r = admin(method, target, "anything");
        EXPECT_EQ(r.status, 403u) << target;
        EXPECT_NE(r.body.find("admin_token"), std::string::npos);
    }
    ASSERT_EQ(post(example_create_body()).status, 201u);  // the API itself still works
    EXPECT_EQ(sb_->ledger().size(), 1u);
}

TEST_F(admin_endpoints, with_a_token_only_the_token_opens_them) {
    sandbox_params p;
    p.listen_address = "0.0.0.0";
    p.admin_token = "adm-7f3a9c-secret";
    start(p);
    ASSERT_EQ(post(example_create_body()).status, 201u);
    EXPECT_EQ(admin("GET", "/sandbox/ledger").status, 401u);
    EXPECT_EQ(admin("GET", "/sandbox/ledger", "adm-7f3a9c-secreT").status, 401u);
    EXPECT_EQ(admin("GET", "/sandbox/ledger", "adm-7f3a9c-secret-and-more").status, 401u);
    EXPECT_EQ(admin("POST", "/sandbox/reset", "rk_your_api_key").status,
              401u);  // an API key is not it
    EXPECT_EQ(sb_->ledger().size(), 1u);
    const auto r = admin("GET", "/sandbox/ledger", "adm-7f3a9c-secret");
    ASSERT_EQ(r.status, 200u);
    EXPECT_EQ(r.body.find("adm-7f3a9c"), std::string::npos);
    EXPECT_EQ(admin("POST", "/sandbox/reset", "adm-7f3a9c-secret").status, 200u);
    EXPECT_TRUE(sb_->ledger().empty());
}

TEST_F(admin_endpoints, on_loopback_a_token_is_required_only_when_set) {
    sandbox_params p;
    p.listen_address = "127.0.0.2";  // any 127.x is loopback
    sandbox open(p);
    open.start();
    test_client_options o;
    o.host = "127.0.0.2";
    o.port = open.port();
    o.ca_pem = open.ca_pem();
    https_test_client c(o);
    http_reply r;
    ASSERT_FALSE(c.request("GET", "/sandbox/stats", {}, "", r));
    EXPECT_EQ(r.status, 200u);
    open.stop();

    sandbox_params q;
    q.admin_token = "tok-123456";
    start(q);
    EXPECT_EQ(admin("GET", "/sandbox/stats").status, 401u);
    EXPECT_EQ(admin("GET", "/sandbox/stats", "tok-123456").status, 200u);
}

TEST(loopback_address, addresses) {
    for (const char* a :
         {"127.0.0.1", "127.0.0.2", "127.255.255.254", "::1", "[::1]", "::ffff:127.0.0.1"})
        EXPECT_TRUE(is_loopback_address(a)) << a;
    for (const char* a : {"0.0.0.0", "::", "10.0.0.1", "192.168.1.1", "128.0.0.1",
                          "::ffff:10.0.0.1", "localhost", ""})
        EXPECT_FALSE(is_loopback_address(a)) << a;
}

}  // namespace
