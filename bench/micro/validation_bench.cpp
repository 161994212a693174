// Google Benchmark: validate() on the request shapes the client sees, valid and not.
// The client validates every request before it reaches the wire, so this is per-session CPU.

#include "core/contract_example.hpp"
#include <catalyst/validation.hpp>

#include <benchmark/benchmark.h>

namespace {

catalyst::session_request campaign_request() { return catalyst::detail::contract_example_request(); }

catalyst::session_request direct_request() {
    catalyst::session_request r;
    r.lead.first_name = "Zoë";
    r.lead.last_name = "Ångström-Núñez";
    r.lead.email = "zoe.angstrom+billing@mail.example.org";
    r.lead.country = "SE";
    r.lead.address = "Drottninggatan 12";
    r.lead.city = "Stockholm";
    r.lead.postal_code = "111 51";
    r.lead.phone = "+46 8 123 456 78";
    r.customer_ip = "2001:db8::8a2e:370:7334";
    r.amount = "12345678.99";
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

catalyst::session_request invalid_request() {
    catalyst::session_request r;
    r.lead.first_name = std::string(300, 'x');
    r.lead.email = "not an email";
    r.lead.country = "XX";
    r.customer_ip = "999.1.1.1";
    r.amount = "12.345";
    r.currency = "eur";
    r.gateway_id = "A1B2C3D4-E5F6-7890-ABCD-EF1234567890";
    r.max_payment_attempts = 11;
    return r;
}

void run(benchmark::State& state, const catalyst::session_request& r) {
    std::size_t errors = 0;
    for (auto _ : state) {
        auto e = catalyst::validate(r);
        errors = e.size();
        benchmark::DoNotOptimize(e);
    }
    state.counters["errors"] = static_cast<double>(errors);
}

void validate_campaign_mode(benchmark::State& state) { run(state, campaign_request()); }
void validate_direct_mode_every_field(benchmark::State& state) { run(state, direct_request()); }
void validate_invalid_many_errors(benchmark::State& state) { run(state, invalid_request()); }

void rule_is_uuid(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(catalyst::rules::is_uuid("a1b2c3d4-e5f6-7890-abcd-ef1234567890"));
}
void rule_is_plausible_email(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(catalyst::rules::is_plausible_email("zoe.angstrom+billing@mail.example.org"));
}
void rule_is_ip_literal_v6(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(catalyst::rules::is_ip_literal("2001:db8::8a2e:370:7334"));
}
void rule_is_country_code(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(catalyst::rules::is_country_code("SE"));
}

}  // namespace

BENCHMARK(validate_campaign_mode);
BENCHMARK(validate_direct_mode_every_field);
BENCHMARK(validate_invalid_many_errors);
BENCHMARK(rule_is_uuid);
BENCHMARK(rule_is_plausible_email);
BENCHMARK(rule_is_ip_literal_v6);
BENCHMARK(rule_is_country_code);
