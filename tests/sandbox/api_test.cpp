// The API: its rules handed to the service directly (api_rules, api_validation: no sockets, a
// fake clock), and real HTTPS requests to an in-process sandbox (api_over_https: keep-alive,
// chunked bodies and 100-continue, concurrent twins and connections, the journal).

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

using api_over_https = sandbox_test;
using api_rules = service_test;

TEST_F(api_over_https, example_request_creates_session) {
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

TEST_F(api_over_https, keep_alive_serves_many_requests_on_one_connection) {
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

TEST_F(api_rules, authentication_failures) {
    start();
    auto missing = post(example_create_body(), {{"Content-Type", "application/json"}});
    EXPECT_EQ(missing.status, 401u);
    EXPECT_EQ(json(missing).at("detail").as_string(),
              "Authentication credentials were not provided.");
    EXPECT_TRUE(missing.has_header("WWW-Authenticate"));

    auto wrong = post(example_create_body(), create_headers("rk_wrong_key"));
    EXPECT_EQ(wrong.status, 401u);
    EXPECT_EQ(json(wrong).at("detail").as_string(), "Invalid token.");

    auto prefix = post(example_create_body(), create_headers("rk_your_api_ke"));
    EXPECT_EQ(prefix.status, 401u);

    auto basic = post(example_create_body(),
                      {{"Authorization", "Basic cms6eA=="}, {"Content-Type", "application/json"}});
    EXPECT_EQ(basic.status, 401u);
    EXPECT_EQ(json(basic).at("detail").as_string(), "Invalid token.");

    auto lower = post(example_create_body(), {{"Authorization", "bearer rk_test_123"},
                                              {"Content-Type", "application/json"}});
    EXPECT_EQ(lower.status, 201u);
    EXPECT_EQ(stats().created, 1u);
}

TEST_F(api_rules, media_type_method_and_path) {
    start();
    auto no_ct = post(example_create_body(), {{"Authorization", "Bearer rk_your_api_key"}});
    EXPECT_EQ(no_ct.status, 415u);
    auto text = post(example_create_body(),
                     {{"Authorization", "Bearer rk_your_api_key"}, {"Content-Type", "text/plain"}});
    EXPECT_EQ(text.status, 415u);
    EXPECT_TRUE(json(text).as_object().contains("detail"));
    auto charset =
        post(example_create_body(), {{"Authorization", "Bearer rk_your_api_key"},
                                     {"Content-Type", "Application/JSON; charset=utf-8"}});
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

TEST_F(api_rules, unknown_campaign_or_gateway_is_404) {
    start();
    auto r = post(example_create_body("max@example.com", "99999999-9999-4999-8999-999999999999"));
    EXPECT_EQ(r.status, 404u);
    EXPECT_EQ(json(r).at("detail").as_string(), "Not found.");
    auto g = post(
        R"({"gateway_id":"99999999-9999-4999-8999-999999999999","amount":"29.99","currency":"EUR",
        "billing_type":"ONE_OFF","lead":{"first_name":"Max","last_name":"Mustermann","email":"max@example.com","country":"DE"}})");
    EXPECT_EQ(g.status, 404u);
    auto override_gw = post(
        R"({"campaign_id":"a1b2c3d4-e5f6-7890-abcd-ef1234567890","gateway_id":"99999999-9999-4999-8999-999999999999",
        "lead":{"first_name":"Max","last_name":"Mustermann","email":"max@example.com","country":"DE"}})");
    EXPECT_EQ(override_gw.status, 404u);
    EXPECT_EQ(stats().created, 0u);
}

TEST_F(api_rules, direct_mode_creates_with_known_gateway) {
    start();
    const std::string body =
        std::string(R"({"gateway_id":")") + std::string(default_sandbox_gateway) +
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

// The 415 answer names the request's Content-Type; whatever bytes that header carries (>= 0x80,
// quotes, control characters: found by fuzz/fuzz_sandbox_request), the body stays valid JSON,
// parsable by any client.
TEST_F(api_rules, an_unsupported_media_type_answer_stays_valid_json_for_any_content_type) {
    sandbox_params p;
    p.api_keys = {"rk_test_123"};
    sandbox_detail::service svc(sandbox_detail::normalize(p));
    sandbox_detail::api_request r;
    r.method = sandbox_detail::http_method::post;
    r.target = "/api/v1/payment-sessions/";
    r.has_authorization = true;
    r.authorization = "Bearer rk_test_123";
    r.has_content_type = true;
    r.content_type = "text/p\xec\x61\x14\x03\xff\"x";
    r.body = "{}";
    sandbox_detail::api_response out;
    svc.handle_api(r, out);
    EXPECT_EQ(out.status, 415u);
    boost::system::error_code ec;
    (void)boost::json::parse(out.body, ec);
    EXPECT_FALSE(ec) << out.body;
}

struct validation_case {
    const char* name;
    std::string body;
    std::string field;  // dotted: "lead.email"
};

class api_validation : public service_test,
                       public ::testing::WithParamInterface<validation_case> {};

std::string lead_with(std::string_view lead_json) {
    return std::string(R"({"campaign_id":"a1b2c3d4-e5f6-7890-abcd-ef1234567890","lead":)") +
           std::string(lead_json) + "}";
}

TEST_P(api_validation, answers_400_with_the_field_path) {
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

const std::string good_lead =
    R"({"first_name":"Max","last_name":"Mustermann","email":"max@example.com","country":"DE"})";

INSTANTIATE_TEST_SUITE_P(
    every_rule, api_validation,
    ::testing::Values(
        validation_case{"malformed_json", R"({"campaign_id": "a1b2)", "non_field_errors"},
        validation_case{"not_an_object", "[1,2,3]", "non_field_errors"},
        validation_case{"empty_body", "", "non_field_errors"},
        validation_case{"missing_lead", R"({"campaign_id":"a1b2c3d4-e5f6-7890-abcd-ef1234567890"})",
                        "lead.first_name"},
        validation_case{"missing_first_name",
                        lead_with(R"({"last_name":"M","email":"max@example.com","country":"DE"})"),
                        "lead.first_name"},
        validation_case{"missing_last_name",
                        lead_with(R"({"first_name":"M","email":"max@example.com","country":"DE"})"),
                        "lead.last_name"},
        validation_case{
            "bad_email",
            lead_with(R"({"first_name":"M","last_name":"M","email":"no-at-sign","country":"DE"})"),
            "lead.email"},
        validation_case{
            "bad_country",
            lead_with(R"({"first_name":"M","last_name":"M","email":"a@b.de","country":"de"})"),
            "lead.country"},
        validation_case{"first_name_too_long",
                        lead_with(R"({"first_name":")" + std::string(256, 'x') +
                                  R"(","last_name":"M","email":"a@b.de","country":"DE"})"),
                        "lead.first_name"},
        validation_case{
            "postal_code_number",
            lead_with(
                R"({"first_name":"M","last_name":"M","email":"a@b.de","country":"DE","postal_code":10115})"),
            "lead.postal_code"},
        validation_case{
            "bad_campaign_uuid",
            R"({"campaign_id":"A1B2C3D4-E5F6-7890-ABCD-EF1234567890","lead":)" + good_lead + "}",
            "campaign_id"},
        validation_case{
            "bad_customer_ip",
            R"({"campaign_id":"a1b2c3d4-e5f6-7890-abcd-ef1234567890","customer_ip":"999.1.1.1","lead":)" +
                good_lead + "}",
            "customer_ip"},
        validation_case{
            "amount_as_number",
            R"({"campaign_id":"a1b2c3d4-e5f6-7890-abcd-ef1234567890","amount":29.99,"lead":)" +
                good_lead + "}",
            "amount"},
        validation_case{
            "amount_three_decimals",
            R"({"campaign_id":"a1b2c3d4-e5f6-7890-abcd-ef1234567890","amount":"1.999","lead":)" +
                good_lead + "}",
            "amount"},
        validation_case{
            "lower_case_currency",
            R"({"campaign_id":"a1b2c3d4-e5f6-7890-abcd-ef1234567890","currency":"eur","lead":)" +
                good_lead + "}",
            "currency"},
        validation_case{
            "bad_billing_type",
            R"({"campaign_id":"a1b2c3d4-e5f6-7890-abcd-ef1234567890","billing_type":"SOMETIMES","lead":)" +
                good_lead + "}",
            "billing_type"},
        validation_case{
            "too_many_attempts",
            R"({"campaign_id":"a1b2c3d4-e5f6-7890-abcd-ef1234567890","max_payment_attempts":11,"lead":)" +
                good_lead + "}",
            "max_payment_attempts"},
        validation_case{
            "trial_period_zero",
            R"({"campaign_id":"a1b2c3d4-e5f6-7890-abcd-ef1234567890","trial_period":0,"lead":)" +
                good_lead + "}",
            "trial_period"},
        validation_case{"direct_mode_without_gateway",
                        R"({"amount":"1.00","currency":"EUR","billing_type":"ONE_OFF","lead":)" +
                            good_lead + "}",
                        "gateway_id"},
        validation_case{
            "direct_mode_without_amount",
            R"({"gateway_id":"9f8e7d6c-5b4a-4321-8fed-cba987654321","currency":"EUR","billing_type":"ONE_OFF","lead":)" +
                good_lead + "}",
            "amount"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(api_rules, duplicate_policy_allow) {
    start();
    const auto a = post(example_create_body("max@example.com", allow_campaign));
    const auto b = post(example_create_body("max@example.com", allow_campaign));
    ASSERT_EQ(a.status, 201u);
    ASSERT_EQ(b.status, 201u);
    EXPECT_NE(token_of(a), token_of(b));
    EXPECT_EQ(stats().created, 2u);
}

TEST_F(api_rules, duplicate_policy_reject_is_case_insensitive) {
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

TEST_F(api_rules, duplicate_policy_reuse_answers_the_existing_session) {
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

TEST_F(api_rules, idempotent_replay_and_mismatch) {
    start();
    const auto first = post(example_create_body(), create_headers("rk_your_api_key", "key-1"));
    ASSERT_EQ(first.status, 201u);
    const auto again = post(example_create_body(), create_headers("rk_your_api_key", "key-1"));
    ASSERT_EQ(again.status, 201u);
    EXPECT_EQ(again.header("Idempotent-Replayed"), "true");
    EXPECT_EQ(again.body, first.body);

    const auto other =
        post(example_create_body("erika@example.com"), create_headers("rk_your_api_key", "key-1"));
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

TEST_F(api_rules, idempotency_can_be_ignored) {
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

TEST_F(api_over_https, concurrent_twins_create_one_session) {
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
            const auto ec =
                c->request("POST", create_path, create_headers("rk_your_api_key", "twin-key"),
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

TEST_F(api_rules, get_one_session_is_scoped_to_its_key) {
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

TEST_F(api_over_https, journal_holds_no_secrets_and_no_lead_data) {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("catalyst-sb-journal-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto file = dir / "journal.jsonl";
    std::filesystem::remove(file);
    sandbox_params p;
    p.journal_file = file.string();
    start(p);
    const auto a =
        post(example_create_body(), create_headers("rk_your_api_key", "secret-idem-key"));
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

TEST_F(api_over_https, concurrent_connections_get_unique_tokens) {
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
                const auto email =
                    "lead" + std::to_string(i) + "-" + std::to_string(j) + "@example.com";
                if (c->request("POST", create_path, create_headers(),
                               example_create_body(email, reject_campaign), r) ||
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

TEST_F(api_over_https, chunked_body_and_expect_continue_are_served) {
    start();
    const auto body = example_create_body();
    char size[16];
    std::snprintf(size, sizeof size, "%zx", body.size());
    boost::system::error_code ec;
    auto r = raw_exchange(
        "POST /api/v1/payment-sessions/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        "rk_your_api_key\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
            std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n",
        ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(r.status, 201u);

    auto c = client();
    ASSERT_FALSE(
        c->write("POST /api/v1/payment-sessions/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                 "rk_your_api_key\r\n"
                 "Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\n\r\n"));
    ASSERT_FALSE(c->read_reply(r));
    EXPECT_EQ(r.status, 100u);
    ASSERT_FALSE(c->write(body));
    ASSERT_FALSE(c->read_reply(r));
    EXPECT_EQ(r.status, 201u);
}

}  // namespace
