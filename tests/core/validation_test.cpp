#include "core/contract_example.hpp"
#include <catalyst/json.hpp>
#include <catalyst/validation.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

using catalyst::field_errors;
using catalyst::session_request;
namespace rules = catalyst::rules;

session_request campaign_request() { return catalyst::detail::contract_example_request(); }

session_request direct_request() {
    session_request r = campaign_request();
    r.campaign_id.reset();
    r.gateway_id = "0b8e4a52-1c1d-4b5e-9f0a-1234567890ab";
    r.amount = "29.99";
    r.currency = "EUR";
    r.billing_type = catalyst::billing_type::one_off;
    return r;
}

// The one error `r` has, as "field: message"; "" when valid; "many" when more than one.
std::string only_error(const session_request& r) {
    const auto errs = catalyst::validate(r);
    if (errs.empty()) return "";
    if (errs.size() > 1) return "many";
    return errs[0].field + ": " + errs[0].message;
}

TEST(validate, the_contract_examples_are_valid) {
    EXPECT_EQ(only_error(campaign_request()), "");
    EXPECT_EQ(only_error(direct_request()), "");
}

TEST(validate, direct_mode_requires_gateway_amount_currency_billing_type) {
    session_request r = campaign_request();
    r.campaign_id.reset();
    const field_errors expected{
        {"amount", "This field is required."},
        {"currency", "This field is required."},
        {"billing_type", "This field is required."},
        {"gateway_id", "This field is required."},
    };
    EXPECT_EQ(catalyst::validate(r), expected);
    // The same fields are optional overrides in campaign mode.
    EXPECT_EQ(only_error(campaign_request()), "");
}

TEST(validate, campaign_mode_accepts_overrides) {
    session_request r = direct_request();
    r.campaign_id = "a1b2c3d4-e5f6-7890-abcd-ef1234567890";
    r.billing_frequency = catalyst::billing_frequency::monthly;
    r.trial_interval_unit = catalyst::trial_interval_unit::day;
    r.trial_period = 7;
    r.trial_price = "1.00";
    r.max_payment_attempts = 3;
    r.webhook_profile_id = "11111111-2222-3333-4444-555555555555";
    r.hosted_page_id = "66666666-7777-8888-9999-aaaaaaaaaaaa";
    EXPECT_EQ(only_error(r), "");
}

TEST(validate, lead_fields_are_required_and_not_empty) {
    session_request r = campaign_request();
    r.lead = {};
    const field_errors expected{
        {"lead.first_name", "This field is required."},
        {"lead.last_name", "This field is required."},
        {"lead.email", "This field is required."},
        {"lead.country", "This field is required."},
    };
    EXPECT_EQ(catalyst::validate(r), expected);
}

TEST(validate, every_problem_at_once_in_field_order) {
    session_request r = direct_request();
    r.campaign_id = "A1B2C3D4-E5F6-7890-ABCD-EF1234567890";
    r.lead.email = "not an email";
    r.lead.country = "XX";
    r.customer_ip = "999.1.1.1";
    r.amount = "1e3";
    r.currency = "EURO";
    r.trial_period = 0;
    r.trial_price = "1.234";
    r.gateway_id = "nope";
    r.max_payment_attempts = 11;
    r.webhook_profile_id = "";
    r.hosted_page_id = "{66666666-7777-8888-9999-aaaaaaaaaaaa}";
    const field_errors expected{
        {"campaign_id", "Must be a valid UUID."},
        {"lead.email", "Enter a valid email address."},
        {"lead.country", "Enter a valid ISO 3166-1 alpha-2 country code."},
        {"customer_ip", "Enter a valid IPv4 or IPv6 address."},
        {"amount", "A valid number is required."},
        {"currency", "Enter a valid ISO 4217 currency code."},
        {"trial_period", "Ensure this value is greater than or equal to 1."},
        {"trial_price", "Ensure that there are no more than 2 decimal places."},
        {"gateway_id", "Must be a valid UUID."},
        {"max_payment_attempts", "Ensure this value is less than or equal to 10."},
        {"webhook_profile_id", "Must be a valid UUID."},
        {"hosted_page_id", "Must be a valid UUID."},
    };
    EXPECT_EQ(catalyst::validate(r), expected);
}

TEST(validate, messages_never_quote_the_value) {
    session_request r = campaign_request();
    r.lead.email = "secret-person@nowhere";
    r.lead.country = "Germany";
    for (const auto& e : catalyst::validate(r)) {
        EXPECT_EQ(e.message.find("secret"), std::string::npos);
        EXPECT_EQ(e.message.find("Germany"), std::string::npos);
    }
    EXPECT_EQ(catalyst::validate(r).size(), 2u);
}

TEST(rules, uuid_lower_case_hyphenated) {
    EXPECT_TRUE(rules::is_uuid("a1b2c3d4-e5f6-7890-abcd-ef1234567890"));
    EXPECT_TRUE(rules::is_uuid("00000000-0000-0000-0000-000000000000"));
    EXPECT_FALSE(rules::is_uuid("A1B2C3D4-E5F6-7890-ABCD-EF1234567890"));
    EXPECT_FALSE(rules::is_uuid("a1b2c3d4e5f67890abcdef1234567890"));
    EXPECT_FALSE(rules::is_uuid("a1b2c3d4-e5f6-7890-abcd-ef123456789"));
    EXPECT_FALSE(rules::is_uuid("a1b2c3d4-e5f6-7890-abcd-ef12345678900"));
    EXPECT_FALSE(rules::is_uuid("a1b2c3d4-e5f6-7890-abcd_ef1234567890"));
    EXPECT_FALSE(rules::is_uuid("g1b2c3d4-e5f6-7890-abcd-ef1234567890"));
    EXPECT_FALSE(rules::is_uuid(""));
}

// Every byte value at every place of a UUID: only a lower-case hex digit where a digit goes
// and a hyphen where a hyphen goes leave it valid.
TEST(rules, uuid_every_byte_at_every_place) {
    const std::string valid = "a1b2c3d4-e5f6-7890-abcd-ef1234567890";
    for (std::size_t at = 0; at < valid.size(); ++at) {
        const bool hyphen_place = at == 8 || at == 13 || at == 18 || at == 23;
        for (int b = 0; b < 256; ++b) {
            std::string s = valid;
            s[at] = static_cast<char>(b);
            const bool hex = (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f');
            ASSERT_EQ(rules::is_uuid(s), hyphen_place ? b == '-' : hex) << "byte " << b << " at " << at;
        }
    }
}

// A string is checked as ASCII eight bytes at a time: one byte outside ASCII anywhere, alone
// (not UTF-8), is found in strings of every length up to three words.
TEST(validate, a_byte_outside_ascii_is_found_wherever_it_stands) {
    for (std::size_t len = 1; len <= 24; ++len) {
        for (std::size_t at = 0; at < len; ++at) {
            session_request r = campaign_request();
            r.lead.first_name = std::string(len, 'a');
            r.lead.first_name[at] = '\x80';
            ASSERT_EQ(only_error(r), "lead.first_name: Ensure this field is valid UTF-8 text.") << len << " " << at;
            r.lead.first_name.replace(at, 1, "\xc3\xbc");  // ü: well-formed
            ASSERT_EQ(only_error(r), "") << len << " " << at;
        }
    }
}

TEST(rules, ip_literals) {
    for (const char* ok : {"203.0.113.50", "0.0.0.0", "255.255.255.255", "10.0.0.1", "::1", "::",
                           "2001:db8::1", "2001:DB8:0:0:0:0:0:1", "fe80::1:2:3:4", "::ffff:192.0.2.1",
                           "2001:0db8:85a3:0000:0000:8a2e:0370:7334"})
        EXPECT_TRUE(rules::is_ip_literal(ok)) << ok;
    for (const char* bad : {"", "256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.04", "1.2.3.4 ",
                            " 1.2.3.4", "1..2.3", "1.2.3.", "1.2.3.-4", "0x1.2.3.4", "1234.1.1.1",
                            "fe80::1%eth0", "fe80::1%1", "2001:db8:::1", "2001:db8::g", "::ffff:1.2.3.04",
                            "[::1]", "localhost", "1.2.3.4/24", "12345::", "1:2:3:4:5:6:7:8:9"})
        EXPECT_FALSE(rules::is_ip_literal(bad)) << bad;
    EXPECT_FALSE(rules::is_ip_literal(std::string_view("::1\0x", 5)));
    EXPECT_FALSE(rules::is_ip_literal(std::string(100, ':')));
}

TEST(rules, country_codes) {
    for (const char* ok : {"DE", "US", "GB", "FR", "AX", "SS", "CW", "ZW", "AD"})
        EXPECT_TRUE(rules::is_country_code(ok)) << ok;
    for (const char* bad : {"", "de", "De", "UK", "XX", "EU", "XK", "ZZ", "DEU", "D", "AN", "YU"})
        EXPECT_FALSE(rules::is_country_code(bad)) << bad;
    int assigned = 0;
    for (char a = 'A'; a <= 'Z'; ++a)
        for (char b = 'A'; b <= 'Z'; ++b) assigned += rules::is_country_code(std::string{a, b});
    EXPECT_EQ(assigned, 249);
}

TEST(rules, currency_codes) {
    for (const char* ok : {"EUR", "USD", "GBP", "JPY", "CHF", "SLE", "VES", "ZWG", "XCG", "MRU"})
        EXPECT_TRUE(rules::is_currency_code(ok)) << ok;
    for (const char* bad : {"", "eur", "EURO", "EU", "XXX", "XTS", "HRK", "DEM", "VEF", "ABC", "BTC"})
        EXPECT_FALSE(rules::is_currency_code(bad)) << bad;
}

TEST(rules, decimal_10_2) {
    for (const char* ok : {"29.99", "0", "5.5", "0.00", "99999999.99", "12345678", "007.50", "1.0"})
        EXPECT_TRUE(rules::is_decimal_10_2(ok)) << ok;
    for (const char* bad : {"1e3", "-1", "123456789.00", "1.234", "", ".5", "5.", "+1", " 1", "1 ",
                            "1,5", "NaN", "inf", "0x10", "1.2.3", "-0.5", "١٢"})
        EXPECT_FALSE(rules::is_decimal_10_2(bad)) << bad;
}

TEST(validate, decimal_messages_say_what_is_wrong) {
    auto amount_error = [](const char* v) {
        session_request r = direct_request();
        r.amount = v;
        return only_error(r);
    };
    EXPECT_EQ(amount_error("29.99"), "");
    EXPECT_EQ(amount_error("1e3"), "amount: A valid number is required.");
    EXPECT_EQ(amount_error("-1"), "amount: Ensure this value is greater than or equal to 0.");
    EXPECT_EQ(amount_error("123456789.00"),
              "amount: Ensure that there are no more than 8 digits before the decimal point.");
    EXPECT_EQ(amount_error("1.234"), "amount: Ensure that there are no more than 2 decimal places.");
}

TEST(rules, plausible_email) {
    for (const char* ok : {"max@example.com", "a.b+tag@sub.example.co.uk", "x@y.z", "jürgen@exämple.de"})
        EXPECT_TRUE(rules::is_plausible_email(ok)) << ok;
    for (const char* bad : {"", "max", "@example.com", "max@", "max@example", "max@@example.com",
                            "a@b@example.com", "max @example.com", "max@exa mple.com", "max@example.com ",
                            "max@.example.com", "max@example.com.", "max@example..com", "max\t@example.com",
                            "max@exam\x01ple.com", "max@example.com\x7f"})
        EXPECT_FALSE(rules::is_plausible_email(bad)) << bad;
}

TEST(validate, trial_period_at_least_one) {
    session_request r = campaign_request();
    r.trial_period = 1;
    EXPECT_EQ(only_error(r), "");
    r.trial_period = 0;
    EXPECT_EQ(only_error(r), "trial_period: Ensure this value is greater than or equal to 1.");
    r.trial_period = -5;
    EXPECT_EQ(only_error(r), "trial_period: Ensure this value is greater than or equal to 1.");
}

TEST(validate, max_payment_attempts_1_to_10) {
    session_request r = campaign_request();
    for (long long ok : {1LL, 3LL, 10LL}) {
        r.max_payment_attempts = ok;
        EXPECT_EQ(only_error(r), "") << ok;
    }
    r.max_payment_attempts = 0;
    EXPECT_EQ(only_error(r), "max_payment_attempts: Ensure this value is greater than or equal to 1.");
    r.max_payment_attempts = 11;
    EXPECT_EQ(only_error(r), "max_payment_attempts: Ensure this value is less than or equal to 10.");
}

TEST(validate, trial_price_and_currency_and_ip_each_pass_and_fail) {
    session_request r = campaign_request();
    r.trial_price = "0";
    r.currency = "CHF";
    r.customer_ip = "2001:db8::1";
    EXPECT_EQ(only_error(r), "");
    r.trial_price = "-0.01";
    EXPECT_EQ(only_error(r), "trial_price: Ensure this value is greater than or equal to 0.");
    r.trial_price.reset();
    r.currency = "chf";
    EXPECT_EQ(only_error(r), "currency: Enter a valid ISO 4217 currency code.");
    r.currency.reset();
    r.customer_ip = "fe80::1%eth0";
    EXPECT_EQ(only_error(r), "customer_ip: Enter a valid IPv4 or IPv6 address.");
}

TEST(validate, non_ascii_names_are_fine) {
    session_request r = campaign_request();
    r.lead.first_name = "Jürgen";
    r.lead.last_name = "中文名字";
    r.lead.city = "😀🎉 Zürich";
    r.lead.address = "Straße 5";
    EXPECT_EQ(only_error(r), "");
}

TEST(validate, length_counts_code_points_not_bytes) {
    session_request r = campaign_request();
    // 255 characters of 1, 2, 3 and 4 bytes each pass; 256 fail.
    for (std::string unit : {"a", "ü", "中", "😀"}) {
        std::string s;
        for (int i = 0; i < 255; ++i) s += unit;
        r.lead.first_name = s;
        EXPECT_EQ(only_error(r), "") << unit;
        r.lead.first_name += unit;
        EXPECT_EQ(only_error(r), "lead.first_name: Ensure this field has no more than 255 characters.")
            << unit;
    }
}

TEST(validate, every_string_field_is_length_checked) {
    const std::string long_text(256, 'a');
    session_request r = campaign_request();
    r.lead.address = long_text;
    r.lead.city = long_text;
    r.lead.postal_code = long_text;
    r.lead.phone = long_text;
    r.lead.last_name = long_text;
    r.lead.email = long_text + "@example.com";
    r.customer_ip = long_text;
    const auto errs = catalyst::validate(r);
    ASSERT_EQ(errs.size(), 7u);
    for (const auto& e : errs) EXPECT_EQ(e.message, "Ensure this field has no more than 255 characters.") << e.field;
    EXPECT_EQ(errs[0].field, "lead.last_name");
    EXPECT_EQ(errs[6].field, "customer_ip");
}

TEST(validate, invalid_utf8_is_rejected) {
    session_request r = campaign_request();
    const char* bad[] = {"\xff", "a\xc3", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                         "\xf8\x88\x80\x80\x80", "\x80", "\xe2\x82"};
    for (const char* b : bad) {
        r.lead.city = std::string("ok ") + b;
        EXPECT_EQ(only_error(r), "lead.city: Ensure this field is valid UTF-8 text.") << b;
    }
    r.lead.city = "\xf4\x8f\xbf\xbf \xef\xbf\xbf \xc2\x80";  // U+10FFFF, U+FFFF, U+0080: valid
    EXPECT_EQ(only_error(r), "");
}

TEST(validate, decoded_then_validated_reports_required_lead) {
    session_request r;
    catalyst::field_errors errs;
    ASSERT_TRUE(catalyst::decode(R"({"campaign_id":"a1b2c3d4-e5f6-7890-abcd-ef1234567890","lead":{"first_name":null}})",
                                 r, errs));
    const auto v = catalyst::validate(r);
    ASSERT_EQ(v.size(), 4u);
    EXPECT_EQ(v[0].field, "lead.first_name");
    EXPECT_EQ(v[0].message, "This field is required.");
}

}  // namespace
