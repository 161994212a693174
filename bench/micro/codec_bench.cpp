// Google Benchmark: the JSON codec on the client's hot path (one encode and one session
// decode per request) and the request decode the batch tool and the sandbox run per line.
// BM_decode_session_dom is the alternative the SAX decoder was measured against: a
// boost::json DOM in a monotonic resource on a stack buffer.

#include "core/contract_example.hpp"
#include <catalyst/json.hpp>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <benchmark/benchmark.h>

#include <string>

namespace {

// The contract's example request (create-campaign-session.txt).
catalyst::session_request contract_example() { return catalyst::detail::contract_example_request(); }

catalyst::session_request every_field() {
    catalyst::session_request r = contract_example();
    r.lead.first_name = "Zoë \"Z\" Ångström";
    r.lead.address = "Drottninggatan 12";
    r.lead.city = "Stockholm";
    r.lead.postal_code = "111 51";
    r.lead.phone = "+46 8 123 456 78";
    r.amount = "29.99";
    r.currency = "SEK";
    r.billing_type = catalyst::billing_type::trial_recurring;
    r.billing_frequency = catalyst::billing_frequency::monthly;
    r.trial_interval_unit = catalyst::trial_interval_unit::week;
    r.trial_period = 2;
    r.trial_price = "0.99";
    r.gateway_id = "9f8e7d6c-5b4a-4321-8fed-cba987654321";
    r.max_payment_attempts = 5;
    r.webhook_profile_id = "0f0e0d0c-0b0a-4908-8706-050403020100";
    r.hosted_page_id = "11111111-2222-4333-8444-555555555555";
    return r;
}

// The documented 201 body, with a realistic token length.
constexpr std::string_view created_body =
    R"({"session_token":"ps_7f3c9a1e5b2d4c6a8e0f1a2b3c4d5e6f","status":"PENDING",)"
    R"("payment_url":"https://pay.catalystpay.com/s/ps_7f3c9a1e5b2d4c6a8e0f1a2b3c4d5e6f"})";

// A future API answer with extra fields to skip.
constexpr std::string_view extended_body =
    R"({"id":"0f0e0d0c-0b0a-4908-8706-050403020100","session_token":"ps_7f3c9a1e5b2d4c6a8e0f1a2b3c4d5e6f",)"
    R"("status":"PENDING","created_at":"2026-01-01T12:00:00Z","amount":"29.99","currency":"EUR",)"
    R"("lead":{"first_name":"Max","last_name":"Mustermann","email":"max@example.com","country":"DE"},)"
    R"("payment_url":"https://pay.catalystpay.com/s/ps_7f3c9a1e5b2d4c6a8e0f1a2b3c4d5e6f","tags":[1,2,3]})";

void BM_encode_contract_example(benchmark::State& state) {
    const auto req = contract_example();
    std::string buf;
    for (auto _ : state) {
        buf.clear();  // the client reuses one buffer per connection
        catalyst::encode(req, buf);
        benchmark::DoNotOptimize(buf.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * buf.size()));
}
BENCHMARK(BM_encode_contract_example);

void BM_encode_every_field(benchmark::State& state) {
    const auto req = every_field();
    std::string buf;
    for (auto _ : state) {
        buf.clear();
        catalyst::encode(req, buf);
        benchmark::DoNotOptimize(buf.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * buf.size()));
}
BENCHMARK(BM_encode_every_field);

void BM_to_json_fresh_string(benchmark::State& state) {
    const auto req = contract_example();
    for (auto _ : state) benchmark::DoNotOptimize(catalyst::to_json(req));
}
BENCHMARK(BM_to_json_fresh_string);

void decode_session(benchmark::State& state, std::string_view body) {
    catalyst::session s;  // reused, as the client reuses its per-request slot
    for (auto _ : state) {
        auto ec = catalyst::decode(body, s);
        benchmark::DoNotOptimize(ec);
        benchmark::DoNotOptimize(s.token.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
void BM_decode_session_201(benchmark::State& state) { decode_session(state, created_body); }
void BM_decode_session_extra_fields(benchmark::State& state) { decode_session(state, extended_body); }
BENCHMARK(BM_decode_session_201);
BENCHMARK(BM_decode_session_extra_fields);

void BM_decode_session_dom(benchmark::State& state) {
    catalyst::session s;
    for (auto _ : state) {
        alignas(16) unsigned char buffer[2048];
        boost::json::monotonic_resource mr(buffer, sizeof buffer);
        boost::system::error_code ec;
        auto v = boost::json::parse(boost::json::string_view(created_body.data(), created_body.size()), ec, &mr);
        if (auto* o = v.if_object()) {
            if (auto* t = o->if_contains("session_token"); t && t->is_string()) s.token.assign(t->get_string().c_str());
            if (auto* t = o->if_contains("status"); t && t->is_string()) s.status_text.assign(t->get_string().c_str());
            if (auto* t = o->if_contains("payment_url"); t && t->is_string()) s.payment_url.assign(t->get_string().c_str());
        }
        benchmark::DoNotOptimize(s.token.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * created_body.size()));
}
BENCHMARK(BM_decode_session_dom);

void decode_request(benchmark::State& state, const catalyst::session_request& req) {
    const std::string body = catalyst::to_json(req);
    for (auto _ : state) {
        catalyst::session_request out;
        catalyst::field_errors errors;
        benchmark::DoNotOptimize(catalyst::decode(body, out, errors));
        benchmark::DoNotOptimize(out.lead.email.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
void BM_decode_request_contract_example(benchmark::State& state) { decode_request(state, contract_example()); }
void BM_decode_request_every_field(benchmark::State& state) { decode_request(state, every_field()); }
BENCHMARK(BM_decode_request_contract_example);
BENCHMARK(BM_decode_request_every_field);

void BM_decode_request_malformed(benchmark::State& state) {
    const std::string body = R"({"campaign_id":"a1b2c3d4-e5f6-7890-abcd-ef1234567890","lead":{"first_name":)";
    for (auto _ : state) {
        catalyst::session_request out;
        catalyst::field_errors errors;
        benchmark::DoNotOptimize(catalyst::decode(body, out, errors));
    }
}
BENCHMARK(BM_decode_request_malformed);

}  // namespace
