#include "core/contract_example.hpp"
#include "core/session_decoder.hpp"
#include <catalyst/error.hpp>
#include <catalyst/json.hpp>
#include <catalyst/validation.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace {

using catalyst::field_error;
using catalyst::field_errors;
using catalyst::session_request;

session_request contract_example() { return catalyst::detail::contract_example_request(); }

session_request every_field() {
    session_request r = contract_example();
    r.lead.address = "Hauptstraße 1";
    r.lead.city = "München";
    r.lead.postal_code = "01234";
    r.lead.phone = "+49 30 123456";
    r.amount = "29.99";
    r.currency = "EUR";
    r.billing_type = catalyst::billing_type::trial_recurring;
    r.billing_frequency = catalyst::billing_frequency::semiannually;
    r.trial_interval_unit = catalyst::trial_interval_unit::week;
    r.trial_period = 14;
    r.trial_price = "0";
    r.gateway_id = "0b8e4a52-1c1d-4b5e-9f0a-1234567890ab";
    r.max_payment_attempts = 10;
    r.webhook_profile_id = "11111111-2222-3333-4444-555555555555";
    r.hosted_page_id = "66666666-7777-8888-9999-aaaaaaaaaaaa";
    return r;
}

session_request round_trip(const session_request& in, field_errors* errs = nullptr) {
    session_request out;
    field_errors local;
    EXPECT_TRUE(catalyst::decode(catalyst::to_json(in), out, errs ? *errs : local));
    return out;
}

TEST(enums, wire_spellings_round_trip) {
    using namespace catalyst;
    for (auto v : {billing_type::one_off, billing_type::recurring, billing_type::trial_recurring})
        EXPECT_EQ(parse_billing_type(to_string(v)), v);
    for (auto v : {billing_frequency::weekly, billing_frequency::biweekly, billing_frequency::monthly,
                   billing_frequency::quarterly, billing_frequency::semiannually, billing_frequency::yearly})
        EXPECT_EQ(parse_billing_frequency(to_string(v)), v);
    for (auto v : {trial_interval_unit::day, trial_interval_unit::week, trial_interval_unit::month})
        EXPECT_EQ(parse_trial_interval_unit(to_string(v)), v);
    EXPECT_EQ(to_string(billing_type::one_off), "ONE_OFF");
    EXPECT_EQ(to_string(billing_frequency::biweekly), "BIWEEKLY");
    EXPECT_EQ(to_string(trial_interval_unit::month), "month");
    EXPECT_FALSE(parse_billing_type("one_off"));
    EXPECT_FALSE(parse_trial_interval_unit("DAY"));
    EXPECT_FALSE(parse_billing_frequency(""));
}

TEST(enums, session_status_is_case_insensitive_and_keeps_unknown) {
    using catalyst::session_status;
    EXPECT_EQ(catalyst::parse_session_status("PENDING"), session_status::pending);
    EXPECT_EQ(catalyst::parse_session_status("pending"), session_status::pending);
    EXPECT_EQ(catalyst::parse_session_status("Payment_In_Progress"), session_status::payment_in_progress);
    EXPECT_EQ(catalyst::parse_session_status("AWAITING_VERIFICATION"), session_status::awaiting_verification);
    EXPECT_EQ(catalyst::parse_session_status("completed"), session_status::completed);
    EXPECT_EQ(catalyst::parse_session_status("FAILED"), session_status::failed);
    EXPECT_EQ(catalyst::parse_session_status("expired"), session_status::expired);
    EXPECT_EQ(catalyst::parse_session_status("ARCHIVED"), session_status::unknown);
    EXPECT_EQ(catalyst::parse_session_status(""), session_status::unknown);
    EXPECT_EQ(catalyst::to_string(session_status::unknown), "UNKNOWN");
    EXPECT_EQ(catalyst::to_string(session_status::payment_in_progress), "PAYMENT_IN_PROGRESS");
}

TEST(encode, contract_example_matches_the_documentation) {
    EXPECT_EQ(catalyst::to_json(contract_example()),
              R"({"campaign_id":"a1b2c3d4-e5f6-7890-abcd-ef1234567890","lead":{"first_name":"Max",)"
              R"("last_name":"Mustermann","email":"max@example.com","country":"DE"},)"
              R"("customer_ip":"203.0.113.50"})");
}

TEST(encode, appends_without_clearing_and_leaves_out_unset_optionals) {
    std::string buf = "prefix:";
    session_request r;
    r.lead.first_name = "A";
    catalyst::encode(r, buf);
    EXPECT_EQ(buf, R"(prefix:{"lead":{"first_name":"A","last_name":"","email":"","country":""}})");
}

TEST(encode, every_field_is_written_with_its_contract_name) {
    const auto doc = boost::json::parse(catalyst::to_json(every_field())).as_object();
    EXPECT_EQ(doc.size(), 14u);
    EXPECT_EQ(doc.at("billing_type"), "TRIAL_RECURRING");
    EXPECT_EQ(doc.at("billing_frequency"), "SEMIANNUALLY");
    EXPECT_EQ(doc.at("trial_interval_unit"), "week");
    EXPECT_EQ(doc.at("trial_period").as_int64(), 14);
    EXPECT_EQ(doc.at("max_payment_attempts").as_int64(), 10);
    EXPECT_EQ(doc.at("amount"), "29.99");
    EXPECT_EQ(doc.at("lead").at("postal_code"), "01234");
    EXPECT_EQ(doc.at("lead").as_object().size(), 8u);
}

TEST(encode, escapes_per_rfc8259_and_passes_utf8_through) {
    session_request r;
    r.lead.first_name = std::string("q\"b\\s/\n\r\t\b\f\x01\x1f\x7f", 14) + std::string(1, '\0');
    r.lead.last_name = "Müller 中文 😀";
    const std::string j = catalyst::to_json(r);
    EXPECT_NE(j.find(R"("first_name":"q\"b\\s/\n\r\t\b\f\u0001\u001f)" "\x7f" R"(\u0000")"),
              std::string::npos)
        << j;
    EXPECT_NE(j.find("\"last_name\":\"Müller 中文 😀\""), std::string::npos) << j;
    // And a real JSON parser reads back exactly what went in.
    auto doc = boost::json::parse(j);
    EXPECT_EQ(doc.at("lead").at("first_name").as_string(), r.lead.first_name);
}

// The encoder looks for bytes to escape sixteen at a time and writes into a buffer sized for
// a request without escapes: an escape at every place of strings of every length up to three
// steps, and strings of nothing but escapes (six bytes out for each one in), read back exactly.
TEST(encode, escapes_wherever_they_stand_and_however_many) {
    for (std::size_t len = 0; len <= 48; ++len) {
        for (std::size_t at = 0; at <= len; ++at) {
            for (char special : {'"', '\\', '\n', '\x01', '\x1f'}) {
                session_request r;
                r.lead.first_name = std::string(len, 'x');
                if (at < len) r.lead.first_name[at] = special;
                r.lead.email = r.lead.first_name;
                const auto doc = boost::json::parse(catalyst::to_json(r));
                ASSERT_EQ(doc.at("lead").at("first_name").as_string(), r.lead.first_name) << len << " " << at;
                ASSERT_EQ(doc.at("lead").at("email").as_string(), r.lead.email) << len << " " << at;
            }
        }
    }
    session_request r = every_field();
    r.lead.first_name = std::string(700, '\x02');
    r.lead.city = std::string(300, '"');
    std::string buf = "kept:";
    catalyst::encode(r, buf);
    ASSERT_EQ(buf.substr(0, 5), "kept:");
    const auto doc = boost::json::parse(std::string_view(buf).substr(5));
    EXPECT_EQ(doc.at("lead").at("first_name").as_string(), r.lead.first_name);
    EXPECT_EQ(doc.at("lead").at("city").as_string(), *r.lead.city);
    EXPECT_EQ(buf.size(), 5 + catalyst::to_json(r).size());
}

TEST(codec, round_trip_every_field) {
    const session_request in = every_field();
    EXPECT_EQ(round_trip(in), in);
}

TEST(codec, round_trip_each_field_on_its_own) {
    const session_request all = every_field();
    // Start from the minimal request and add one field at a time.
    auto check = [](const session_request& r) { EXPECT_EQ(round_trip(r), r) << catalyst::to_json(r); };
    session_request base;
    check(base);
    auto with = [&](auto member) {
        session_request r = base;
        r.*member = all.*member;
        check(r);
    };
    with(&session_request::campaign_id);
    with(&session_request::customer_ip);
    with(&session_request::amount);
    with(&session_request::currency);
    with(&session_request::billing_type);
    with(&session_request::billing_frequency);
    with(&session_request::trial_interval_unit);
    with(&session_request::trial_period);
    with(&session_request::trial_price);
    with(&session_request::gateway_id);
    with(&session_request::max_payment_attempts);
    with(&session_request::webhook_profile_id);
    with(&session_request::hosted_page_id);
    auto with_lead = [&](auto member) {
        session_request r = base;
        r.lead.*member = all.lead.*member;
        check(r);
    };
    with_lead(&catalyst::lead::first_name);
    with_lead(&catalyst::lead::last_name);
    with_lead(&catalyst::lead::email);
    with_lead(&catalyst::lead::country);
    with_lead(&catalyst::lead::address);
    with_lead(&catalyst::lead::city);
    with_lead(&catalyst::lead::postal_code);
    with_lead(&catalyst::lead::phone);
}

TEST(codec, round_trip_non_ascii_and_control_characters) {
    session_request r = contract_example();
    r.lead.first_name = "Jürgen";
    r.lead.last_name = "中文";
    r.lead.city = "😀 \"quoted\" \\ \t tab";
    r.lead.address = std::string("nul\0inside", 10);
    EXPECT_EQ(round_trip(r), r);
}

TEST(codec, integers_at_the_limits_round_trip) {
    session_request r;
    r.trial_period = std::numeric_limits<long long>::max();
    r.max_payment_attempts = std::numeric_limits<long long>::min();
    EXPECT_EQ(round_trip(r), r);
}

TEST(decode_request, type_errors_carry_field_paths) {
    session_request out;
    field_errors errs;
    EXPECT_FALSE(catalyst::decode(
        R"({"lead":{"first_name":"A","email":42,"country":["DE"]},"trial_period":"3",)"
        R"("billing_type":"monthly","amount":29.99,"max_payment_attempts":2.5,)"
        R"("billing_frequency":"MONTHLY","trial_interval_unit":"DAY"})",
        out, errs));
    const field_errors expected{
        {"lead.email", "must be a string"},
        {"lead.country", "must be a string"},
        {"amount", "must be a string"},
        {"billing_type", "must be one of ONE_OFF, RECURRING, TRIAL_RECURRING"},
        {"trial_interval_unit", "must be one of day, week, month"},
        {"trial_period", "must be an integer"},
        {"max_payment_attempts", "must be an integer"},
    };
    EXPECT_EQ(errs, expected);
    // What could be read was read.
    EXPECT_EQ(out.lead.first_name, "A");
    EXPECT_EQ(out.billing_frequency, catalyst::billing_frequency::monthly);
}

TEST(decode_request, lead_must_be_an_object) {
    for (const char* body : {R"({"lead":"Max"})", R"({"lead":[]})", R"({"lead":1})"}) {
        session_request out;
        field_errors errs;
        EXPECT_FALSE(catalyst::decode(body, out, errs));
        EXPECT_EQ(errs, (field_errors{{"lead", "must be an object"}})) << body;
    }
}

TEST(decode_request, booleans_are_not_integers_or_strings) {
    session_request out;
    field_errors errs;
    EXPECT_FALSE(catalyst::decode(R"({"trial_period":true,"currency":false})", out, errs));
    EXPECT_EQ(errs, (field_errors{{"currency", "must be a string"},
                                  {"trial_period", "must be an integer"}}));
}

TEST(decode_request, unknown_fields_rejected_by_default_at_both_levels) {
    session_request out;
    field_errors errs;
    EXPECT_FALSE(catalyst::decode(R"({"lead":{"first_name":"A","x":1},"coupon":"FREE"})", out, errs));
    EXPECT_EQ(errs, (field_errors{{"lead.x", "unknown field"}, {"coupon", "unknown field"}}));
}

TEST(decode_request, unknown_fields_ignored_on_request) {
    session_request out;
    field_errors errs;
    EXPECT_TRUE(catalyst::decode(R"({"lead":{"first_name":"A","x":{"deep":[1,2]}},"coupon":null,"y":[]})",
                                 out, errs, catalyst::unknown_fields::ignore));
    EXPECT_TRUE(errs.empty());
    EXPECT_EQ(out.lead.first_name, "A");
}

TEST(decode_request, null_is_absent) {
    session_request out;
    field_errors errs;
    EXPECT_TRUE(catalyst::decode(
        R"({"campaign_id":null,"lead":{"first_name":null,"phone":null},"amount":null,)"
        R"("trial_period":null,"billing_type":null})",
        out, errs));
    EXPECT_TRUE(errs.empty());
    EXPECT_EQ(out, session_request{});
    field_errors errs2;
    session_request out2;
    EXPECT_TRUE(catalyst::decode(R"({"lead":null})", out2, errs2));
    EXPECT_EQ(out2, session_request{});
}

TEST(decode_request, malformed_json_goes_to_non_field_errors) {
    for (const char* body : {"", "{", R"({"lead":})", "{\"a\":1} x", "nope", "{\"a\":\"\x01\"}"}) {
        session_request out;
        field_errors errs;
        EXPECT_FALSE(catalyst::decode(body, out, errs)) << body;
        ASSERT_EQ(errs.size(), 1u) << body;
        EXPECT_EQ(errs[0].field, "non_field_errors");
        EXPECT_EQ(errs[0].message.rfind("malformed JSON: ", 0), 0u) << errs[0].message;
        EXPECT_GT(errs[0].message.size(), std::string_view("malformed JSON: ").size());
    }
}

TEST(decode_request, a_document_that_is_not_an_object_is_refused) {
    for (const char* body : {"[]", "42", R"("s")", "null"}) {
        session_request out;
        field_errors errs;
        EXPECT_FALSE(catalyst::decode(body, out, errs)) << body;
        ASSERT_EQ(errs.size(), 1u);
        EXPECT_EQ(errs[0].field, "non_field_errors");
    }
}

TEST(decode_request, deep_nesting_is_an_error_not_a_crash) {
    std::string body = R"({"x":)" + std::string(10000, '[') + std::string(10000, ']') + "}";
    session_request out;
    field_errors errs;
    EXPECT_FALSE(catalyst::decode(body, out, errs, catalyst::unknown_fields::ignore));
    ASSERT_EQ(errs.size(), 1u);
    EXPECT_EQ(errs[0].field, "non_field_errors");
}

TEST(decode_request, large_bodies_spill_past_the_stack_buffer) {
    session_request in = every_field();
    in.lead.address = std::string(20000, 'a');
    EXPECT_EQ(round_trip(in), in);
}

// --- the create-session answer ------------------------------------------------------------

TEST(decode_session, reads_the_documented_fields) {
    catalyst::session s;
    auto ec = catalyst::decode(
        R"({"session_token":"ps_abc123","status":"PENDING","payment_url":"https://pay.catalystpay.com/s/ps_abc123"})",
        s);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(s.token, "ps_abc123");
    EXPECT_EQ(s.status, catalyst::session_status::pending);
    EXPECT_EQ(s.status_text, "PENDING");
    EXPECT_EQ(s.payment_url, "https://pay.catalystpay.com/s/ps_abc123");
    EXPECT_FALSE(s.replayed);
    EXPECT_FALSE(s.reused);
}

TEST(decode_session, leaves_replayed_and_reused_alone_and_reuses_the_object) {
    catalyst::session s;
    s.replayed = true;
    s.reused = true;
    s.token = "ps_old_token_that_is_longer";
    ASSERT_FALSE(catalyst::decode(R"({"session_token":"ps_1","status":"failed","payment_url":"u"})", s));
    EXPECT_EQ(s.token, "ps_1");
    EXPECT_EQ(s.status, catalyst::session_status::failed);
    EXPECT_EQ(s.status_text, "failed");
    EXPECT_TRUE(s.replayed);
    EXPECT_TRUE(s.reused);
}

// decode() scans the usual flat answer itself and hands anything else to the general reader:
// on answers that sit on either side of the scan's edge, the two give the same result.
TEST(decode_session, the_flat_scan_reads_as_the_general_reader_does) {
    const std::string ok = R"("session_token":"ps_1","status":"PENDING","payment_url":"https://p/s/ps_1")";
    const std::string cases[] = {
        "{" + ok + "}",
        " \t\r\n{ " + ok + " }\n",
        R"({"status":"PENDING","payment_url":"u","session_token":"ps_2","extra":"x"})",
        R"({"session_token":"ps_1","session_token":"ps_last","status":"S","payment_url":"u"})",  // the last wins
        R"({"session_token":"ps_a_token_longer_than_eight","status":"PENDING","payment_url":""})",
        R"({"session_token":"ps_\u0041","status":"PENDING","payment_url":"u"})",         // an escape
        R"({"session_token":"ps_é","status":"PENDING","payment_url":"u"})",                // UTF-8
        "{\"session_token\":\"ps_\xff\",\"status\":\"PENDING\",\"payment_url\":\"u\"}",  // not UTF-8
        "{\"status\":\"PENDING\",\"payment_url\":\"u\",\"session_token\":\"p\xc3\"}",  // in the last bytes
        "{\"status\":\"PENDING\",\"payment_url\":\"u\",\"session_token\":\"p\x02\"}",
        "{\"session_token\":\"ps_abcdefgh\x85ijkl\",\"status\":\"PENDING\",\"payment_url\":\"u\"}",
        "{\"session_token\":\"ps_abcdefgh\x1fijkl\",\"status\":\"PENDING\",\"payment_url\":\"u\"}",
        "{\"session_token\":\"ps_abcdefgh\\\\ijkl\",\"status\":\"PENDING\",\"payment_url\":\"u\"}",
        "{\"session_token\":\"ps_\x01\",\"status\":\"PENDING\",\"payment_url\":\"u\"}",  // a control byte
        R"({"session_token":"ps_1","status":"PENDING","payment_url":"u","n":1})",        // a number
        R"({"session_token":"ps_1","status":"PENDING","payment_url":"u","o":{}})",       // a nested value
        R"({"session_token":"ps_1","status":"PENDING","payment_url":"u","b":true})",
        R"({"session_token":"ps_1","status":"PENDING","payment_url":7})",                // a field not a string
        R"({"session_token":"ps_1","status":"PENDING"})",                                // a field missing
        R"({"session_token":"ps_1","status":"PENDING","payment_url":"u"} x)",            // trailing bytes
        R"({"session_token":"ps_1","status":"PENDING","payment_url":"u",})",             // trailing comma
        R"({"session_token":"ps_1","status":"PENDING","payment_url":"u")",               // cut short
        R"({"session_token":"ps_1","status":"PENDING","payment_url":"u)",
        R"({"session_token" "ps_1","status":"PENDING","payment_url":"u"})",
        R"({"session_token":"ps_1";"status":"PENDING","payment_url":"u"})",
        R"({})",
        R"([])",
        "",
        R"({"session_token":"ps_1","status":"PENDING","payment_url":"u"}{})",
    };
    for (const std::string& c : cases) {
        catalyst::session fast, general;
        fast.token = general.token = "ps_left_over";
        const auto fast_ec = catalyst::decode(c, fast);
        const auto general_ec = catalyst::detail::decode_session_general(c, general);
        EXPECT_EQ(fast_ec, general_ec) << c;
        if (!fast_ec && !general_ec) {
            EXPECT_EQ(fast.token, general.token) << c;
            EXPECT_EQ(fast.status_text, general.status_text) << c;
            EXPECT_EQ(fast.payment_url, general.payment_url) << c;
            EXPECT_EQ(fast.status, general.status) << c;
        }
    }
    // And every cut of the usual answer: each a malformed document, for both readers.
    const std::string whole = "{" + ok + "}";
    for (std::size_t n = 0; n < whole.size(); ++n) {
        catalyst::session fast, general;
        EXPECT_EQ(catalyst::decode(whole.substr(0, n), fast),
                  catalyst::detail::decode_session_general(whole.substr(0, n), general))
            << n;
    }
}

TEST(decode_session, ignores_unknown_fields_of_any_type_and_depth) {
    catalyst::session s;
    auto ec = catalyst::decode(
        R"({"id":7,"meta":{"session_token":{"x":1},"status":[1,{"payment_url":null}]},)"
        R"("session_token":"ps_\u0041\"x","flags":[true,false,null,1.5e3,-2,18446744073709551615],)"
        R"("status":"NEW_STATUS","payment_url":"https://p/s","tail":{"a":{"b":{"c":[]}}}} )",
        s);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(s.token, "ps_A\"x");
    EXPECT_EQ(s.status, catalyst::session_status::unknown);
    EXPECT_EQ(s.status_text, "NEW_STATUS");
    EXPECT_EQ(s.payment_url, "https://p/s");
}

TEST(decode_session, long_escaped_strings_arrive_whole) {
    const std::string token = "ps_" + std::string(5000, 'z') + "\"" + std::string(5000, 'y');
    std::string body = R"({"session_token":")" + std::string("ps_") + std::string(5000, 'z') + "\\\"" +
                       std::string(5000, 'y') + R"(","status":"PENDING","payment_url":"u"})";
    catalyst::session s;
    ASSERT_FALSE(catalyst::decode(body, s));
    EXPECT_EQ(s.token, token);
}

TEST(decode_session, protocol_error_when_a_documented_field_is_missing_or_not_a_string) {
    const char* bodies[] = {
        R"({"status":"PENDING","payment_url":"u"})",
        R"({"session_token":"ps_1","payment_url":"u"})",
        R"({"session_token":"ps_1","status":"PENDING"})",
        R"({"session_token":1,"status":"PENDING","payment_url":"u"})",
        R"({"session_token":"ps_1","status":null,"payment_url":"u"})",
        R"({"session_token":"ps_1","status":"PENDING","payment_url":["u"]})",
        R"({"session_token":"ps_1","status":{"v":"PENDING"},"payment_url":"u"})",
        R"({"session_token":"ps_1","status":true,"payment_url":"u"})",
        R"({"data":{"session_token":"ps_1","status":"PENDING","payment_url":"u"}})",
    };
    for (const char* b : bodies) {
        catalyst::session s;
        EXPECT_EQ(catalyst::decode(b, s), catalyst::errc::protocol_error) << b;
    }
}

TEST(decode_session, protocol_error_on_non_json_and_non_objects) {
    const char* bodies[] = {"", "<html>502 Bad Gateway</html>", "[]", "\"ps_1\"", "42", "null",
                            R"({"session_token":"ps_1","status":"PENDING","payment_url":"u"} trailing)",
                            R"({"session_token":"ps_1","status":"PENDING","payment_url":"u")",
                            R"([{"session_token":"ps_1","status":"PENDING","payment_url":"u"}])"};
    for (const char* b : bodies) {
        catalyst::session s;
        auto ec = catalyst::decode(b, s);
        EXPECT_EQ(ec, catalyst::errc::protocol_error) << b;
        EXPECT_TRUE(ec == boost::system::errc::protocol_error);
    }
}

}  // namespace

namespace {

TEST(decode_request, unknown_field_names_are_bounded_and_cleaned) {
    session_request out;
    field_errors errs;
    const std::string body = R"({"lead":{"":1},"":2,"a\nb":3,")" + std::string(500, 'k') + R"(":4})";
    EXPECT_FALSE(catalyst::decode(body, out, errs));
    ASSERT_EQ(errs.size(), 4u);
    EXPECT_EQ(errs[0].field, "lead");
    EXPECT_EQ(errs[1].field, "non_field_errors");
    EXPECT_EQ(errs[2], (field_error{"a b", "unknown field"}));
    EXPECT_EQ(errs[3].field, std::string(64, 'k'));
}

}  // namespace


namespace {

// Deterministic mutations of valid bodies: whatever the bytes, the decoders answer (no crash,
// no hang), and a request that decodes re-encodes to JSON that decodes to the same request.
TEST(decode_fuzz, mutated_bodies_never_crash_and_round_trip_when_accepted) {
    const std::string seeds[] = {
        catalyst::to_json(every_field()),
        R"({"session_token":"ps_1","status":"PENDING","payment_url":"https://p/s","x":{"y":[1,"\u00e9"]}})",
    };
    std::mt19937 rng(12345);
    const char alphabet[] = "{}[]\":,\\ 0123456789.eE-+tfnul\x01\x7f\xc3\xa9\xff";
    int accepted = 0;
    for (int i = 0; i < 4000; ++i) {
        std::string body = seeds[i % 2];
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits && !body.empty(); ++e) {
            const std::size_t pos = rng() % body.size();
            switch (rng() % 3) {
                case 0: body[pos] = alphabet[rng() % (sizeof alphabet - 1)]; break;
                case 1: body.erase(pos, 1 + rng() % 3); break;
                default: body.insert(pos, 1, alphabet[rng() % (sizeof alphabet - 1)]);
            }
        }
        catalyst::session s;
        (void)catalyst::decode(body, s);
        session_request r;
        field_errors errs;
        if (catalyst::decode(body, r, errs, catalyst::unknown_fields::ignore)) {
            ++accepted;
            (void)catalyst::validate(r);
            session_request again;
            field_errors errs2;
            ASSERT_TRUE(catalyst::decode(catalyst::to_json(r), again, errs2)) << body;
            EXPECT_EQ(again, r) << body;
        } else {
            EXPECT_FALSE(errs.empty());
        }
    }
    EXPECT_GT(accepted, 0);
}

}  // namespace
