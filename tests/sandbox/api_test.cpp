// The API rules: the tables of rules handed to the service directly (SandboxRules: no
// sockets, a fake clock), and through real HTTPS requests to an in-process sandbox
// (SandboxApi: the integration layer).

#include "sandbox/sandbox_fixture.hpp"

#include <openssl/ssl.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

using namespace catalyst;
using namespace catalyst::test;

namespace {

bool is_token(std::string_view t) {
    if (!t.starts_with("ps_") || t.size() < 3 + 24) return false;
    for (char c : t.substr(3))
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

class SandboxApi : public sandbox_test {};
class SandboxRules : public service_test {};

TEST_F(SandboxApi, ExampleRequestCreatesSession) {
    start();
    const auto r = post(example_create_body());
    ASSERT_EQ(r.status, 201u) << r.body;
    EXPECT_EQ(r.header("Content-Type"), "application/json");
    const auto v = json(r);
    const std::string token(v.at("session_token").as_string());
    EXPECT_TRUE(is_token(token)) << token;
    EXPECT_EQ(v.at("status").as_string(), "PENDING");
    EXPECT_EQ(v.at("payment_url").as_string(), "https://pay.sandbox.catalystpay.test/s/" + token);
    EXPECT_FALSE(r.has_header("Idempotent-Replayed"));

    const auto s = sb_->stats();
    EXPECT_EQ(s.created, 1u);
    EXPECT_EQ(s.responses_by_status.at(201), 1u);
    const auto ledger = sb_->ledger();
    ASSERT_EQ(ledger.size(), 1u);
    EXPECT_EQ(ledger[0].token, token);
    EXPECT_EQ(ledger[0].campaign_id, allow_campaign);
    EXPECT_EQ(ledger[0].email, "max@example.com");
    EXPECT_EQ(ledger[0].api_key_redacted, "rk_****_key");
    EXPECT_TRUE(ledger[0].idempotency_key.empty());
}

TEST_F(SandboxApi, KeepAliveServesManyRequestsOnOneConnection) {
    start();
    auto c = client();
    std::set<std::string> tokens;
    for (int i = 0; i < 25; ++i) {
        http_reply r;
        ASSERT_FALSE(c->request("POST", create_path, create_headers(), example_create_body(), r));
        ASSERT_EQ(r.status, 201u);
        EXPECT_TRUE(r.keep_alive);
        tokens.insert(token_of(r));
    }
    EXPECT_EQ(tokens.size(), 25u);
    EXPECT_EQ(sb_->stats().connections, 1u);
}

TEST_F(SandboxRules, AuthenticationFailures) {
    start();
    auto missing = post(example_create_body(), {{"Content-Type", "application/json"}});
    EXPECT_EQ(missing.status, 401u);
    EXPECT_EQ(json(missing).at("detail").as_string(), "Authentication credentials were not provided.");
    EXPECT_TRUE(missing.has_header("WWW-Authenticate"));

    auto wrong = post(example_create_body(), create_headers("rk_wrong_key"));
    EXPECT_EQ(wrong.status, 401u);
    EXPECT_EQ(json(wrong).at("detail").as_string(), "Invalid token.");

    auto prefix = post(example_create_body(), create_headers("rk_your_api_ke"));
    EXPECT_EQ(prefix.status, 401u);

    auto basic = post(example_create_body(), {{"Authorization", "Basic cms6eA=="}, {"Content-Type", "application/json"}});
    EXPECT_EQ(basic.status, 401u);
    EXPECT_EQ(json(basic).at("detail").as_string(), "Invalid token.");

    auto lower = post(example_create_body(), {{"Authorization", "bearer rk_test_123"}, {"Content-Type", "application/json"}});
    EXPECT_EQ(lower.status, 201u);
    EXPECT_EQ(stats().created, 1u);
}

TEST_F(SandboxRules, MediaTypeMethodAndPath) {
    start();
    auto no_ct = post(example_create_body(), {{"Authorization", "Bearer rk_your_api_key"}});
    EXPECT_EQ(no_ct.status, 415u);
    auto text = post(example_create_body(), {{"Authorization", "Bearer rk_your_api_key"}, {"Content-Type", "text/plain"}});
    EXPECT_EQ(text.status, 415u);
    EXPECT_TRUE(json(text).as_object().contains("detail"));
    auto charset = post(example_create_body(),
                        {{"Authorization", "Bearer rk_your_api_key"}, {"Content-Type", "Application/JSON; charset=utf-8"}});
    EXPECT_EQ(charset.status, 201u);

    http_reply r;
    r = request("GET", create_path, create_headers(), "");
    EXPECT_EQ(r.status, 405u);
    EXPECT_EQ(r.header("Allow"), "POST");
    r = request("DELETE", create_path, create_headers(), "");
    EXPECT_EQ(r.status, 405u);
    r = request("POST", "/api/v1/nothing/", create_headers(), example_create_body());
    EXPECT_EQ(r.status, 404u);
    EXPECT_EQ(json(r).at("detail").as_string(), "Not found.");
    r = request("POST", "/api/v1/payment-sessions", create_headers(), example_create_body());
    EXPECT_EQ(r.status, 404u);
    r = request("GET", "/", {}, "");
    EXPECT_EQ(r.status, 404u);
    EXPECT_EQ(stats().created, 1u);
}

TEST_F(SandboxRules, UnknownCampaignOrGatewayIs404) {
    start();
    auto r = post(example_create_body("max@example.com", "99999999-9999-4999-8999-999999999999"));
    EXPECT_EQ(r.status, 404u);
    EXPECT_EQ(json(r).at("detail").as_string(), "Not found.");
    auto g = post(R"({"gateway_id":"99999999-9999-4999-8999-999999999999","amount":"29.99","currency":"EUR",
        "billing_type":"ONE_OFF","lead":{"first_name":"Max","last_name":"Mustermann","email":"max@example.com","country":"DE"}})");
    EXPECT_EQ(g.status, 404u);
    auto override_gw = post(R"({"campaign_id":"a1b2c3d4-e5f6-7890-abcd-ef1234567890","gateway_id":"99999999-9999-4999-8999-999999999999",
        "lead":{"first_name":"Max","last_name":"Mustermann","email":"max@example.com","country":"DE"}})");
    EXPECT_EQ(override_gw.status, 404u);
    EXPECT_EQ(stats().created, 0u);
}

TEST_F(SandboxRules, DirectModeCreatesWithKnownGateway) {
    start();
    const std::string body = std::string(R"({"gateway_id":")") + std::string(default_sandbox_gateway) +
                             R"(","amount":"29.99","currency":"EUR","billing_type":"RECURRING","billing_frequency":"MONTHLY",
        "max_payment_attempts":3,"lead":{"first_name":"Max","last_name":"Mustermann","email":"max@example.com","country":"DE",
        "postal_code":"10115","city":"Berlin"},"some_future_field":{"x":1}})";
    auto r = post(body);
    ASSERT_EQ(r.status, 201u) << r.body;
    const auto entries = ledger();
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].campaign_id, "");
    EXPECT_EQ(entries[0].gateway_id, default_sandbox_gateway);
}

struct validation_case {
    const char* name;
    std::string body;
    std::string field;  // dotted: "lead.email"
};

class SandboxValidation : public service_test, public ::testing::WithParamInterface<validation_case> {};

std::string lead_with(std::string_view lead_json) {
    return std::string(R"({"campaign_id":"a1b2c3d4-e5f6-7890-abcd-ef1234567890","lead":)") + std::string(lead_json) + "}";
}

TEST_P(SandboxValidation, Answers400WithTheFieldPath) {
    start();
    const auto& c = GetParam();
    auto r = post(c.body);
    ASSERT_EQ(r.status, 400u) << c.body;
    const auto v = json(r);
    ASSERT_TRUE(v.is_object()) << r.body;
    const auto dot = c.field.find('.');
    const boost::json::value* node = v.as_object().if_contains(c.field.substr(0, dot));
    ASSERT_NE(node, nullptr) << r.body;
    if (dot != std::string::npos) {
        ASSERT_TRUE(node->is_object()) << r.body;
        node = node->as_object().if_contains(c.field.substr(dot + 1));
        ASSERT_NE(node, nullptr) << r.body;
    }
    ASSERT_TRUE(node->is_array()) << r.body;
    ASSERT_FALSE(node->as_array().empty());
    EXPECT_TRUE(node->as_array()[0].is_string());
    EXPECT_EQ(stats().created, 0u);
}

const std::string good_lead = R"({"first_name":"Max","last_name":"Mustermann","email":"max@example.com","country":"DE"})";

INSTANTIATE_TEST_SUITE_P(
    EveryRule, SandboxValidation,
    ::testing::Values(
        validation_case{"malformed_json", R"({"campaign_id": "a1b2)", "non_field_errors"},
        validation_case{"not_an_object", "[1,2,3]", "non_field_errors"},
        validation_case{"empty_body", "", "non_field_errors"},
        validation_case{"missing_lead", R"({"campaign_id":"a1b2c3d4-e5f6-7890-abcd-ef1234567890"})", "lead.first_name"},
        validation_case{"missing_first_name", lead_with(R"({"last_name":"M","email":"max@example.com","country":"DE"})"),
                        "lead.first_name"},
        validation_case{"missing_last_name", lead_with(R"({"first_name":"M","email":"max@example.com","country":"DE"})"),
                        "lead.last_name"},
        validation_case{"bad_email", lead_with(R"({"first_name":"M","last_name":"M","email":"no-at-sign","country":"DE"})"),
                        "lead.email"},
        validation_case{"bad_country", lead_with(R"({"first_name":"M","last_name":"M","email":"a@b.de","country":"de"})"),
                        "lead.country"},
        validation_case{"first_name_too_long",
                        lead_with(R"({"first_name":")" + std::string(256, 'x') +
                                  R"(","last_name":"M","email":"a@b.de","country":"DE"})"),
                        "lead.first_name"},
        validation_case{"postal_code_number",
                        lead_with(R"({"first_name":"M","last_name":"M","email":"a@b.de","country":"DE","postal_code":10115})"),
                        "lead.postal_code"},
        validation_case{"bad_campaign_uuid", R"({"campaign_id":"A1B2C3D4-E5F6-7890-ABCD-EF1234567890","lead":)" + good_lead + "}",
                        "campaign_id"},
        validation_case{"bad_customer_ip",
                        R"({"campaign_id":"a1b2c3d4-e5f6-7890-abcd-ef1234567890","customer_ip":"999.1.1.1","lead":)" + good_lead + "}",
                        "customer_ip"},
        validation_case{"amount_as_number", R"({"campaign_id":"a1b2c3d4-e5f6-7890-abcd-ef1234567890","amount":29.99,"lead":)" + good_lead + "}",
                        "amount"},
        validation_case{"amount_three_decimals",
                        R"({"campaign_id":"a1b2c3d4-e5f6-7890-abcd-ef1234567890","amount":"1.999","lead":)" + good_lead + "}",
                        "amount"},
        validation_case{"lower_case_currency",
                        R"({"campaign_id":"a1b2c3d4-e5f6-7890-abcd-ef1234567890","currency":"eur","lead":)" + good_lead + "}",
                        "currency"},
        validation_case{"bad_billing_type",
                        R"({"campaign_id":"a1b2c3d4-e5f6-7890-abcd-ef1234567890","billing_type":"SOMETIMES","lead":)" + good_lead + "}",
                        "billing_type"},
        validation_case{"too_many_attempts",
                        R"({"campaign_id":"a1b2c3d4-e5f6-7890-abcd-ef1234567890","max_payment_attempts":11,"lead":)" + good_lead + "}",
                        "max_payment_attempts"},
        validation_case{"trial_period_zero",
                        R"({"campaign_id":"a1b2c3d4-e5f6-7890-abcd-ef1234567890","trial_period":0,"lead":)" + good_lead + "}",
                        "trial_period"},
        validation_case{"direct_mode_without_gateway", R"({"amount":"1.00","currency":"EUR","billing_type":"ONE_OFF","lead":)" + good_lead + "}",
                        "gateway_id"},
        validation_case{"direct_mode_without_amount",
                        R"({"gateway_id":"9f8e7d6c-5b4a-4321-8fed-cba987654321","currency":"EUR","billing_type":"ONE_OFF","lead":)" + good_lead + "}",
                        "amount"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(SandboxRules, DuplicatePolicyAllow) {
    start();
    const auto a = post(example_create_body("max@example.com", allow_campaign));
    const auto b = post(example_create_body("max@example.com", allow_campaign));
    ASSERT_EQ(a.status, 201u);
    ASSERT_EQ(b.status, 201u);
    EXPECT_NE(token_of(a), token_of(b));
    EXPECT_EQ(stats().created, 2u);
}

TEST_F(SandboxRules, DuplicatePolicyRejectIsCaseInsensitive) {
    start();
    const auto a = post(example_create_body("max@example.com", reject_campaign));
    ASSERT_EQ(a.status, 201u);
    const auto b = post(example_create_body("MAX@Example.COM", reject_campaign));
    ASSERT_EQ(b.status, 409u);
    EXPECT_EQ(json(b).at("code").as_string(), "duplicate_lead");
    EXPECT_TRUE(json(b).as_object().contains("detail"));
    // Another campaign does not know the lead.
    EXPECT_EQ(post(example_create_body("max@example.com", reuse_campaign)).status, 201u);
    const auto s = stats();
    EXPECT_EQ(s.created, 2u);
    EXPECT_EQ(s.duplicates_rejected, 1u);
}

TEST_F(SandboxRules, DuplicatePolicyReuseAnswersTheExistingSession) {
    start();
    const auto a = post(example_create_body("erika@example.com", reuse_campaign));
    ASSERT_EQ(a.status, 201u);
    const auto b = post(example_create_body("Erika@example.com", reuse_campaign));
    ASSERT_EQ(b.status, 200u);
    EXPECT_EQ(token_of(a), token_of(b));
    EXPECT_EQ(a.body, b.body);
    const auto s = stats();
    EXPECT_EQ(s.created, 1u);
    EXPECT_EQ(s.duplicates_reused, 1u);
}

TEST_F(SandboxRules, IdempotentReplayAndMismatch) {
    start();
    const auto first = post(example_create_body(), create_headers("rk_your_api_key", "key-1"));
    ASSERT_EQ(first.status, 201u);
    const auto again = post(example_create_body(), create_headers("rk_your_api_key", "key-1"));
    ASSERT_EQ(again.status, 201u);
    EXPECT_EQ(again.header("Idempotent-Replayed"), "true");
    EXPECT_EQ(again.body, first.body);

    const auto other = post(example_create_body("erika@example.com"), create_headers("rk_your_api_key", "key-1"));
    ASSERT_EQ(other.status, 422u);
    EXPECT_EQ(json(other).at("code").as_string(), "idempotency_key_reused");

    // Keys are scoped per API key.
    const auto other_key = post(example_create_body(), create_headers("rk_test_123", "key-1"));
    EXPECT_EQ(other_key.status, 201u);
    EXPECT_FALSE(other_key.has_header("Idempotent-Replayed"));

    // A deterministic error is replayed too.
    const auto bad1 = post("{", create_headers("rk_your_api_key", "key-2"));
    const auto bad2 = post("{", create_headers("rk_your_api_key", "key-2"));
    EXPECT_EQ(bad1.status, 400u);
    EXPECT_EQ(bad2.status, 400u);
    EXPECT_EQ(bad2.header("Idempotent-Replayed"), "true");

    const auto s = stats();
    EXPECT_EQ(s.created, 2u);
    EXPECT_EQ(s.replayed, 2u);
    EXPECT_EQ(s.idempotency_conflicts, 1u);
    int with_key = 0;
    for (const auto& e : ledger()) with_key += e.idempotency_key == "key-1";
    EXPECT_EQ(with_key, 2);
}

TEST_F(SandboxRules, IdempotencyCanBeIgnored) {
    sandbox_params p;
    p.honour_idempotency = false;
    start(p);
    const auto a = post(example_create_body(), create_headers("rk_your_api_key", "key-1"));
    const auto b = post(example_create_body(), create_headers("rk_your_api_key", "key-1"));
    ASSERT_EQ(a.status, 201u);
    ASSERT_EQ(b.status, 201u);
    EXPECT_NE(token_of(a), token_of(b));
    EXPECT_FALSE(b.has_header("Idempotent-Replayed"));
    EXPECT_EQ(stats().created, 2u);
}

TEST_F(SandboxApi, ConcurrentTwinsCreateOneSession) {
    sandbox_params p;
    p.threads = 2;
    start(p);
    constexpr int twins = 12;
    std::vector<std::thread> threads;
    std::mutex m;
    std::vector<http_reply> replies;
    std::atomic<int> ready{0};
    for (int i = 0; i < twins; ++i) {
        threads.emplace_back([&] {
            auto c = client();
            ASSERT_FALSE(c->connect());
            ++ready;
            while (ready.load() < twins) std::this_thread::yield();
            http_reply r;
            const auto ec = c->request("POST", create_path, create_headers("rk_your_api_key", "twin-key"),
                                       example_create_body(), r);
            EXPECT_FALSE(ec) << ec.message();
            std::lock_guard lock(m);
            replies.push_back(r);
        });
    }
    for (auto& t : threads) t.join();
    ASSERT_EQ(replies.size(), static_cast<std::size_t>(twins));
    std::set<std::string> tokens;
    int created = 0, in_progress = 0;
    for (const auto& r : replies) {
        if (r.status == 201) {
            tokens.insert(token_of(r));
            created += r.has_header("Idempotent-Replayed") ? 0 : 1;
        } else {
            ASSERT_EQ(r.status, 409u) << r.body;
            EXPECT_EQ(json(r).at("code").as_string(), "idempotency_request_in_progress");
            EXPECT_EQ(r.header("Retry-After"), "1");
            ++in_progress;
        }
    }
    EXPECT_EQ(created, 1);
    EXPECT_EQ(tokens.size(), 1u);
    EXPECT_EQ(sb_->stats().created, 1u);
    EXPECT_EQ(sb_->stats().idempotency_in_progress, static_cast<std::uint64_t>(in_progress));
}

TEST_F(SandboxRules, RateLimitPerApiKey) {
    sandbox_params p;
    p.rate_limit_per_second = 0.5;  // one token per 2 s
    p.rate_limit_burst = 2;
    start(p);
    EXPECT_EQ(post(example_create_body()).status, 201u);
    EXPECT_EQ(post(example_create_body()).status, 201u);
    const auto r = post(example_create_body());
    ASSERT_EQ(r.status, 429u);
    EXPECT_EQ(r.header("Retry-After"), "2");
    EXPECT_EQ(json(r).at("detail").as_string(), "Request was throttled. Expected available in 2 seconds.");
    // The other key has its own bucket.
    EXPECT_EQ(post(example_create_body(), create_headers("rk_test_123")).status, 201u);
    clock_.advance(std::chrono::milliseconds(1999));
    EXPECT_EQ(post(example_create_body()).header("Retry-After"), "1");
    clock_.advance(std::chrono::milliseconds(1));
    EXPECT_EQ(post(example_create_body()).status, 201u);  // refilled at the rate
    const auto s = stats();
    EXPECT_EQ(s.rate_limited, 2u);
    EXPECT_EQ(s.created, 4u);
    EXPECT_FALSE(s.global_rate_limit.enabled);
}

TEST_F(SandboxRules, GetOneSessionIsScopedToItsKey) {
    start();
    const auto created = post(example_create_body());
    const auto token = token_of(created);
    http_reply r;
    r = request("GET", std::string(create_path) + token + "/", create_headers(), "");
    ASSERT_EQ(r.status, 200u);
    const auto v = json(r);
    EXPECT_EQ(v.at("session_token").as_string(), token);
    EXPECT_EQ(v.at("campaign_id").as_string(), allow_campaign);
    EXPECT_TRUE(v.as_object().contains("created"));
    r = request("GET", std::string(create_path) + token + "/", create_headers("rk_test_123"), "");
    EXPECT_EQ(r.status, 404u);
    r = request("GET", std::string(create_path) + "ps_unknown/", create_headers(), "");
    EXPECT_EQ(r.status, 404u);
    r = request("POST", std::string(create_path) + token + "/", create_headers(), "{}");
    EXPECT_EQ(r.status, 405u);
    EXPECT_EQ(r.header("Allow"), "GET");
    r = request("GET", std::string(create_path) + token + "/", {}, "");
    EXPECT_EQ(r.status, 401u);
}

TEST_F(SandboxApi, AdminEndpoints) {
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
    EXPECT_EQ(r.body.find("max@example.com"), std::string::npos) << "the ledger endpoint must not show emails";
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
    EXPECT_NE(std::string(json(r).at("detail").as_string()).find("server_error.status"), std::string::npos);
    ASSERT_FALSE(c->request("POST", "/sandbox/stats", {}, "", r));
    EXPECT_EQ(r.status, 405u);
    ASSERT_FALSE(c->request("GET", "/sandbox/other", {}, "", r));
    EXPECT_EQ(r.status, 404u);
}

TEST_F(SandboxApi, JournalHoldsNoSecretsAndNoLeadData) {
    const auto dir = std::filesystem::temp_directory_path() / ("catalyst-sb-journal-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto file = dir / "journal.jsonl";
    std::filesystem::remove(file);
    sandbox_params p;
    p.journal_file = file.string();
    start(p);
    const auto a = post(example_create_body(), create_headers("rk_your_api_key", "secret-idem-key"));
    const auto b = post(example_create_body("erika@example.com"));
    sb_->stop();
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    EXPECT_NE(text.find(token_of(a)), std::string::npos);
    EXPECT_NE(text.find(token_of(b)), std::string::npos);
    EXPECT_EQ(text.find("rk_your_api_key"), std::string::npos);
    EXPECT_EQ(text.find("secret-idem-key"), std::string::npos);
    EXPECT_EQ(text.find("example.com"), std::string::npos);
    EXPECT_EQ(text.find("Mustermann"), std::string::npos);
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
    std::filesystem::remove_all(dir);
}

TEST_F(SandboxApi, PlainHttpOnlyWhenAsked) {
    sandbox_params p;
    p.plain_http = true;
    start(p);
    EXPECT_EQ(sb_->base_url(), "http://127.0.0.1:" + std::to_string(sb_->port()) + "/api/v1");
    EXPECT_EQ(sb_->ca_pem(), "");
    EXPECT_EQ(post(example_create_body()).status, 201u);
}

TEST_F(SandboxApi, DefaultIsTlsWithAVerifiableCertificate) {
    start();
    EXPECT_EQ(sb_->base_url(), "https://127.0.0.1:" + std::to_string(sb_->port()) + "/api/v1");
    EXPECT_NE(sb_->ca_pem().find("BEGIN CERTIFICATE"), std::string::npos);
    // "localhost" is in the SAN too.
    test_client_options o;
    o.port = sb_->port();
    o.ca_pem = sb_->ca_pem();
    o.verify_name = "localhost";
    https_test_client by_name(o);
    EXPECT_FALSE(by_name.connect());
    // A name the certificate does not carry fails verification.
    o.verify_name = "example.com";
    https_test_client wrong(o);
    EXPECT_TRUE(wrong.connect());
    // And so does a client that does not trust the CA.
    o.verify_name = "127.0.0.1";
    o.ca_pem.clear();
    https_test_client untrusting(o);
    EXPECT_TRUE(untrusting.connect());
}

TEST_F(SandboxApi, Tls12AndTls13OnlyTls12AndUp) {
    start();
    for (const auto& [version, name] : {std::pair{TLS1_2_VERSION, "TLSv1.2"}, std::pair{TLS1_3_VERSION, "TLSv1.3"}}) {
        test_client_options o;
        o.port = sb_->port();
        o.ca_pem = sb_->ca_pem();
        o.min_tls_version = version;
        o.max_tls_version = version;
        https_test_client c(o);
        http_reply r;
        ASSERT_FALSE(c.request("POST", create_path, create_headers(), example_create_body(), r)) << name;
        EXPECT_EQ(r.status, 201u);
        EXPECT_EQ(c.tls_version(), name);
    }
    test_client_options old;
    old.port = sb_->port();
    old.ca_pem = sb_->ca_pem();
    old.max_tls_version = TLS1_1_VERSION;
    https_test_client c(old);
    EXPECT_TRUE(c.connect()) << "a TLS 1.1 handshake succeeded";
}

TEST_F(SandboxApi, ServesIpv6Loopback) {
    sandbox_params p;
    p.listen_address = "::1";
    sb_ = std::make_unique<sandbox>(p);
    try {
        sb_->start();
    } catch (const std::runtime_error& e) {
        GTEST_SKIP() << "no IPv6 loopback here: " << e.what();
    }
    EXPECT_EQ(sb_->base_url(), "https://[::1]:" + std::to_string(sb_->port()) + "/api/v1");
    test_client_options o;
    o.host = "::1";
    o.verify_name = "::1";  // IP:::1 is in the certificate's SAN
    o.port = sb_->port();
    o.ca_pem = sb_->ca_pem();
    https_test_client c(o);
    http_reply r;
    ASSERT_FALSE(c.request("POST", create_path, create_headers(), example_create_body(), r));
    EXPECT_EQ(r.status, 201u);
}

TEST_F(SandboxApi, CertDirIsReusedAndUserCertsWork) {
    const auto dir = std::filesystem::temp_directory_path() / ("catalyst-sb-certs-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    sandbox_params p;
    p.cert_dir = dir.string();
    std::string first_ca;
    {
        sandbox a(p);
        a.start();
        first_ca = a.ca_pem();
        EXPECT_EQ(a.ca_file(), (dir / "ca.crt").string());
        EXPECT_TRUE(std::filesystem::exists(dir / "server.key"));
        EXPECT_EQ(std::filesystem::status(dir / "server.key").permissions() & std::filesystem::perms::others_read,
                  std::filesystem::perms::none);
    }
    {
        sandbox b(p);
        b.start();
        EXPECT_EQ(b.ca_pem(), first_ca);  // reused, not regenerated
    }
    sandbox_params u;
    u.cert_file = (dir / "server.crt").string();
    u.key_file = (dir / "server.key").string();
    start(u);
    EXPECT_EQ(sb_->ca_pem(), "");
    test_client_options o;
    o.port = sb_->port();
    o.ca_pem = first_ca;
    https_test_client c(o);
    http_reply r;
    ASSERT_FALSE(c.request("POST", create_path, create_headers(), example_create_body(), r));
    EXPECT_EQ(r.status, 201u);
    sb_->stop();
    std::filesystem::remove_all(dir);
}

TEST_F(SandboxApi, StartErrorsSayWhat) {
    start();
    sandbox_params p;
    p.port = sb_->port();
    sandbox clash(p);
    try {
        clash.start();
        FAIL() << "bound a port in use";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("bind"), std::string::npos) << e.what();
    }
    sandbox_params missing;
    missing.cert_file = "/nonexistent/cert.pem";
    missing.key_file = "/nonexistent/key.pem";
    sandbox m(missing);
    try {
        m.start();
        FAIL();
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/cert.pem"), std::string::npos) << e.what();
    }
    sandbox_params bad;
    bad.api_keys = {};
    EXPECT_THROW(sandbox{bad}, sandbox_config_error);
    sandbox_params journal;
    journal.journal_file = "/nonexistent/dir/journal.jsonl";
    try {
        sandbox j(journal);
        j.start();
        FAIL() << "an unwritable journal was accepted";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/journal.jsonl"), std::string::npos) << e.what();
    }
}

TEST_F(SandboxApi, ConcurrentConnectionsGetUniqueTokens) {
    sandbox_params p;
    p.threads = 2;
    start(p);
    constexpr int connections = 16, per_connection = 25;
    std::vector<std::thread> threads;
    std::mutex m;
    std::set<std::string> tokens;
    std::atomic<int> failures{0};
    for (int i = 0; i < connections; ++i) {
        threads.emplace_back([&, i] {
            auto c = client();
            for (int j = 0; j < per_connection; ++j) {
                http_reply r;
                const auto email = "lead" + std::to_string(i) + "-" + std::to_string(j) + "@example.com";
                if (c->request("POST", create_path, create_headers(), example_create_body(email, reject_campaign), r) ||
                    r.status != 201) {
                    ++failures;
                    continue;
                }
                const auto t = token_of(r);
                std::lock_guard lock(m);
                tokens.insert(t);
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(tokens.size(), static_cast<std::size_t>(connections * per_connection));
    EXPECT_EQ(sb_->stats().created, static_cast<std::uint64_t>(connections * per_connection));
    EXPECT_EQ(sb_->ledger().size(), static_cast<std::size_t>(connections * per_connection));
    EXPECT_EQ(sb_->stats().connections, static_cast<std::uint64_t>(connections));
}

}  // namespace
