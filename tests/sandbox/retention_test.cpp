// The sandbox forgets like the real API, within bounds: idempotency keys expire, the ledger
// and the idempotency records are capped, the ledger is paged, everything can be reset; and
// what a client sees when a key it resends has expired.

#include "client/client_fixture.hpp"
#include "sandbox/sandbox_fixture.hpp"

#include <boost/asio/use_future.hpp>

#include <set>

using namespace catalyst;
using namespace catalyst::test;
using namespace std::chrono_literals;

namespace {

using retention = sandbox_test;
using retention_rules = service_test;

TEST_F(retention_rules, an_expired_key_creates_a_second_session) {
    sandbox_params p;
    p.idempotency_ttl = 300ms;
    start(p);
    const auto first = post(example_create_body(), create_headers("rk_your_api_key", "lead-1"));
    ASSERT_EQ(first.status, 201u);
    clock_.advance(299ms);
    const auto replay = post(example_create_body(), create_headers("rk_your_api_key", "lead-1"));
    ASSERT_EQ(replay.status, 201u);
    EXPECT_EQ(replay.header("Idempotent-Replayed"), "true");
    EXPECT_EQ(token_of(replay), token_of(first));

    clock_.advance(1ms);
    // As a real API past its retention window: the key is new again, the resend is a new session.
    const auto late = post(example_create_body(), create_headers("rk_your_api_key", "lead-1"));
    ASSERT_EQ(late.status, 201u);
    EXPECT_FALSE(late.has_header("Idempotent-Replayed"));
    EXPECT_NE(token_of(late), token_of(first));

    EXPECT_EQ(ledger().size(), 2u);
    const auto page = json(request("GET", "/sandbox/ledger", {}, ""));
    EXPECT_EQ(page.at("sessions").as_array().size(), 2u);
    const auto s = stats();
    EXPECT_EQ(s.created, 2u);
    EXPECT_EQ(s.replayed, 1u);
    EXPECT_EQ(s.idempotency_expired, 1u);
}

TEST_F(retention_rules, without_a_ttl_keys_are_kept) {
    start();
    EXPECT_EQ(svc_->params().idempotency_ttl.count(), 0);
    ASSERT_EQ(post(example_create_body(), create_headers("rk_your_api_key", "lead-1")).status,
              201u);
    clock_.advance(std::chrono::hours(24 * 400));
    EXPECT_EQ(post(example_create_body(), create_headers("rk_your_api_key", "lead-1"))
                  .header("Idempotent-Replayed"),
              "true");
    EXPECT_EQ(ledger().size(), 1u);
    EXPECT_EQ(stats().idempotency_expired, 0u);
}

TEST_F(retention, caps_hold_and_the_oldest_goes) {
    sandbox_params p;
    p.max_sessions = 5;
    p.max_idempotency_records = 4;
    start(p);
    std::vector<std::string> tokens;
    for (int i = 0; i < 20; ++i) {
        const auto r = post(example_create_body("lead" + std::to_string(i) + "@example.com"),
                            create_headers("rk_your_api_key", "key-" + std::to_string(i)));
        ASSERT_EQ(r.status, 201u) << r.body;
        tokens.push_back(token_of(r));
        const auto s = sb_->stats();
        EXPECT_LE(s.sessions_held, 5u);
        EXPECT_LE(s.idempotency_records_held, 4u);
    }
    const auto s = sb_->stats();
    EXPECT_EQ(s.created, 20u);
    EXPECT_EQ(s.sessions_held, 5u);
    EXPECT_EQ(s.sessions_evicted, 15u);
    EXPECT_EQ(s.idempotency_records_held, 4u);
    EXPECT_EQ(s.idempotency_evicted, 16u);
    const auto ledger = sb_->ledger();
    ASSERT_EQ(ledger.size(), 5u);
    EXPECT_EQ(ledger.front().token, tokens[15]);  // the newest five, oldest first
    EXPECT_EQ(ledger.back().token, tokens[19]);

    // An evicted session is gone for GET; a kept one is there.
    const header_list auth = {{"Authorization", "Bearer rk_your_api_key"}};
    auto c = client();
    http_reply r;
    ASSERT_FALSE(c->request("GET", std::string(create_path) + tokens[0] + "/", auth, "", r));
    EXPECT_EQ(r.status, 404u);
    ASSERT_FALSE(c->request("GET", std::string(create_path) + tokens[19] + "/", auth, "", r));
    EXPECT_EQ(r.status, 200u);

    // A kept key replays; an evicted one is new again.
    const auto kept = post(example_create_body("lead19@example.com"),
                           create_headers("rk_your_api_key", "key-19"));
    EXPECT_EQ(kept.header("Idempotent-Replayed"), "true");
    EXPECT_EQ(token_of(kept), tokens[19]);
    const auto evicted =
        post(example_create_body("lead0@example.com"), create_headers("rk_your_api_key", "key-0"));
    EXPECT_EQ(evicted.status, 201u);
    EXPECT_FALSE(evicted.has_header("Idempotent-Replayed"));
    EXPECT_NE(token_of(evicted), tokens[0]);
}

TEST_F(retention, an_evicted_lead_is_forgotten_by_a_reject_campaign) {
    sandbox_params p;
    p.max_sessions = 1;
    start(p);
    ASSERT_EQ(post(example_create_body("a@example.com", reject_campaign)).status, 201u);
    EXPECT_EQ(post(example_create_body("a@example.com", reject_campaign)).status, 409u);
    ASSERT_EQ(post(example_create_body("b@example.com", reject_campaign)).status,
              201u);  // evicts a
    EXPECT_EQ(post(example_create_body("a@example.com", reject_campaign)).status, 201u);
}

TEST_F(retention, the_ledger_is_paged) {
    start();
    std::set<std::string> created;
    for (int i = 0; i < 25; ++i) {
        const auto r = post(example_create_body());
        ASSERT_EQ(r.status, 201u);
        created.insert(token_of(r));
    }
    std::set<std::string> seen;
    std::string target = "/sandbox/ledger?limit=10";
    std::vector<std::size_t> sizes;
    for (int page = 0; page < 10 && !target.empty(); ++page) {
        const auto r = admin("GET", target);
        ASSERT_EQ(r.status, 200u) << r.body;
        const auto v = json(r);
        const auto& sessions = v.at("sessions").as_array();
        sizes.push_back(sessions.size());
        for (const auto& e : sessions)
            EXPECT_TRUE(seen.insert(std::string(e.at("token").as_string())).second);
        EXPECT_EQ(v.at("held").as_int64(), 25);
        target = v.at("next_offset").is_null() ? std::string()
                                               : "/sandbox/ledger?limit=10&offset=" +
                                                     std::to_string(v.at("next_offset").as_int64());
    }
    EXPECT_EQ(sizes, (std::vector<std::size_t>{10, 10, 5}));
    EXPECT_EQ(seen, created);

    // The default page is bounded too.
    for (int i = 0; i < 80; ++i) ASSERT_EQ(post(example_create_body()).status, 201u);
    const auto v = json(admin("GET", "/sandbox/ledger"));
    EXPECT_EQ(v.at("sessions").as_array().size(), 100u);
    EXPECT_EQ(v.at("next_offset").as_int64(), 100);

    for (const char* bad : {"limit=0", "limit=1001", "limit=x", "offset=-1"}) {
        const auto r = admin("GET", std::string("/sandbox/ledger?") + bad);
        EXPECT_EQ(r.status, 400u) << bad;
        EXPECT_NE(r.body.find(std::string(bad).substr(0, std::string(bad).find('='))),
                  std::string::npos)
            << r.body;
    }
}

TEST_F(retention, reset_forgets_sessions_keys_and_counters) {
    start();
    const auto first = post(example_create_body(), create_headers("rk_your_api_key", "lead-1"));
    ASSERT_EQ(first.status, 201u);
    ASSERT_EQ(post(example_create_body("a@example.com", reject_campaign)).status, 201u);
    EXPECT_EQ(admin("GET", "/sandbox/reset").status, 405u);
    const auto r = admin("POST", "/sandbox/reset");
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_EQ(json(r).at("sessions_forgotten").as_int64(), 2);
    EXPECT_EQ(json(r).at("idempotency_records_forgotten").as_int64(), 1);
    EXPECT_TRUE(sb_->ledger().empty());
    EXPECT_EQ(sb_->stats().created, 0u);

    const auto again = post(example_create_body(), create_headers("rk_your_api_key", "lead-1"));
    EXPECT_EQ(again.status, 201u);
    EXPECT_FALSE(again.has_header("Idempotent-Replayed"));
    EXPECT_NE(token_of(again), token_of(first));
    EXPECT_EQ(post(example_create_body("a@example.com", reject_campaign)).status, 201u);

    sb_->reset();  // the library call does the same
    EXPECT_TRUE(sb_->ledger().empty());
}

TEST(retention_config, keys_and_checks) {
    sandbox_params p;
    apply_sandbox_json(
        p, R"({"idempotency_ttl_ms": 86400000, "max_sessions": 10, "max_idempotency_records": 20,
                              "admin_token": "t0ken"})");
    EXPECT_EQ(p.idempotency_ttl, std::chrono::hours(24));
    EXPECT_EQ(p.max_sessions, 10u);
    EXPECT_EQ(p.max_idempotency_records, 20u);
    EXPECT_EQ(p.admin_token, "t0ken");
    auto key_of = [](const std::string& json) {
        try {
            sandbox_params q;
            apply_sandbox_json(q, json);
            sandbox s(q);
        } catch (const sandbox_config_error& e) {
            return e.key();
        }
        return std::string("(accepted)");
    };
    EXPECT_EQ(key_of(R"({"max_sessions": 0})"), "max_sessions");
    EXPECT_EQ(key_of(R"({"max_idempotency_records": 0})"), "max_idempotency_records");
    EXPECT_EQ(key_of(R"({"idempotency_ttl_ms": -1})"), "idempotency_ttl_ms");
    EXPECT_EQ(key_of(R"({"admin_token": "has space"})"), "admin_token");
}

// --- through a client --------------------------------------------------------------------------

// The client against keys that expire, as a real API's do (typically after 24 h). The
// documented outcome (docs/sandbox.md, "Retention"): within the window a resend with the same
// key is replayed (`session::replayed`); after it, the server no longer knows the key and
// creates a second session, which the client reports as a new one (`replayed == false`,
// another token). The client cannot detect it: keeping resends inside the window is the
// caller's job (the batch tool's --key-retention).
using retention_through_a_client = client_test;

TEST_F(retention_through_a_client, a_resend_after_the_key_expired_is_a_new_session_not_a_replay) {
    fake_clock clock;  // the sandbox's: the key expires when the test says, no sleep
    sandbox_params sp;
    sp.idempotency_ttl = 300ms;
    sp.clock = clock.source();
    start(sp);
    client c(params());
    request_options o;
    o.idempotency_key = "lead-42-of-campaign-x";
    auto create = [&] {
        return c
            .async_create_session(valid_request(), o,
                                  catalyst::cancel_after(10s, boost::asio::use_future))
            .get();
    };
    const session first = create();
    EXPECT_FALSE(first.replayed);
    const session again = create();
    EXPECT_TRUE(again.replayed);
    EXPECT_EQ(again.token, first.token);

    clock.advance(300ms);
    const session late = create();
    EXPECT_FALSE(late.replayed);
    EXPECT_NE(late.token, first.token);
    // The duplicate is real and visible on the server side.
    ASSERT_EQ(sb_->ledger().size(), 2u);
    EXPECT_EQ(sb_->ledger()[0].idempotency_key, o.idempotency_key);
    EXPECT_EQ(sb_->ledger()[1].idempotency_key, o.idempotency_key);
    EXPECT_EQ(sb_->stats().idempotency_expired, 1u);
}

}  // namespace
