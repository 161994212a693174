#include "batch/input.hpp"
#include "string_source.hpp"

#include <gtest/gtest.h>

namespace catalyst::batch {
namespace {

constexpr const char* campaign = "a1b2c3d4-e5f6-7890-abcd-ef1234567890";

std::vector<input_item> read_all(std::string data, input_format f, std::size_t max_line = 4096,
                                 std::uint64_t* empty = nullptr) {
    input_params p;
    p.format = f;
    p.default_campaign = campaign;
    p.max_line = max_line;
    input_source src(test::string_source(std::move(data), 5), p);
    std::vector<input_item> out;
    input_item it;
    while (src.next(it)) out.push_back(it);
    if (empty) *empty = src.empty_lines();
    return out;
}

bool names_field(const input_item& it, std::string_view field) {
    for (const auto& e : it.errors)
        if (e.field == field) return true;
    return false;
}

std::string errors_of(const input_item& it) {
    std::string s;
    for (const auto& e : it.errors) s += e.field + ": " + e.message + "; ";
    return s;
}

const std::string good_json =
    R"({"lead":{"first_name":"Ada","last_name":"Lovelace","email":"ada@example.com","country":"GB"}})";

TEST(input_jsonl, valid_lines_get_default_campaign_and_key) {
    std::uint64_t empty = 0;
    auto v = read_all("\xEF\xBB\xBF" + good_json + "\r\n\n   \n" + good_json + "\n", input_format::jsonl, 4096,
                      &empty);
    ASSERT_EQ(v.size(), 2u);
    EXPECT_TRUE(v[0].valid()) << errors_of(v[0]);
    EXPECT_EQ(v[0].line, 1u);
    EXPECT_EQ(v[1].line, 4u);
    EXPECT_EQ(empty, 2u);
    EXPECT_EQ(v[0].request.campaign_id, campaign);
    EXPECT_EQ(v[0].request.lead.email, "ada@example.com");
    // Identical content, same key whatever the line: reordering a file keeps its keys.
    EXPECT_EQ(v[0].key.hex, v[1].key.hex);
}

TEST(input_jsonl, bad_lines_name_the_problem) {
    const std::string bad_email =
        R"({"lead":{"first_name":"A","last_name":"B","email":"not-an-email","country":"GB"}})";
    const std::string bad_uuid =
        R"({"campaign_id":"NOT-A-UUID","lead":{"first_name":"A","last_name":"B","email":"a@b.co","country":"GB"}})";
    const std::string missing = R"({"lead":{"first_name":"A"}})";
    const std::string unknown =
        R"({"lead":{"first_name":"A","last_name":"B","email":"a@b.co","country":"GB"},"colour":"red"})";
    auto v = read_all("{not json\n" + bad_email + "\n" + bad_uuid + "\n" + missing + "\n" + unknown + "\n" +
                          std::string(5000, 'x') + "\n" + good_json + "\n",
                      input_format::jsonl);
    ASSERT_EQ(v.size(), 7u);
    for (std::size_t i = 0; i < 6; ++i) EXPECT_FALSE(v[i].valid()) << i;
    EXPECT_TRUE(names_field(v[1], "lead.email")) << errors_of(v[1]);
    EXPECT_TRUE(names_field(v[2], "campaign_id")) << errors_of(v[2]);
    EXPECT_TRUE(names_field(v[3], "lead.email")) << errors_of(v[3]);
    EXPECT_TRUE(names_field(v[3], "lead.country")) << errors_of(v[3]);
    EXPECT_TRUE(names_field(v[4], "colour")) << errors_of(v[4]);
    EXPECT_NE(errors_of(v[5]).find("longer than 4096"), std::string::npos) << errors_of(v[5]);
    EXPECT_EQ(v[5].line, 6u);
    EXPECT_TRUE(v[6].valid());
    EXPECT_EQ(v[6].line, 7u);
    // The messages never carry the values.
    for (const auto& it : v) EXPECT_EQ(errors_of(it).find("not-an-email"), std::string::npos);
}

TEST(input_csv, maps_columns_and_handles_quoting) {
    const std::string csv =
        "\xEF\xBB\xBF" "first_name,last_name,email,country,city,amount,billing_type,max_payment_attempts\r\n"
        "Ada,Lovelace,ada@example.com,GB,,29.99,ONE_OFF,3\r\n"
        "\r\n"
        "\"O'Brien, Jr.\",\"Said \"\"hi\"\"\",ob@example.com,IE,\"Dublin\nNorth\",,,\r\n"
        "Alan,Turing,alan@example.com,GB,London,,,\n";
    std::uint64_t empty = 0;
    auto v = read_all(csv, input_format::csv, 4096, &empty);
    ASSERT_EQ(v.size(), 3u);
    EXPECT_EQ(empty, 1u);
    EXPECT_TRUE(v[0].valid()) << errors_of(v[0]);
    EXPECT_EQ(v[0].line, 2u);
    EXPECT_EQ(v[0].request.amount, "29.99");
    EXPECT_EQ(v[0].request.billing_type, billing_type::one_off);
    EXPECT_EQ(v[0].request.max_payment_attempts, 3);
    EXPECT_FALSE(v[0].request.lead.city);  // empty cell: absent
    EXPECT_EQ(v[0].request.campaign_id, campaign);
    EXPECT_TRUE(v[1].valid()) << errors_of(v[1]);
    EXPECT_EQ(v[1].line, 4u);
    EXPECT_EQ(v[1].request.lead.first_name, "O'Brien, Jr.");
    EXPECT_EQ(v[1].request.lead.last_name, "Said \"hi\"");
    EXPECT_EQ(v[1].request.lead.city, "Dublin\nNorth");
    EXPECT_EQ(v[2].line, 6u);  // the quoted newline took line 5
    EXPECT_TRUE(v[2].valid()) << errors_of(v[2]);
}

TEST(input_csv, bad_rows_are_error_items_and_the_run_goes_on) {
    const std::string csv =
        "first_name,last_name,email,country,trial_period,billing_type\n"
        "A,B,a@b.co\n"                      // ragged: too few
        "A,B,a@b.co,GB,,,extra\n"           // ragged: too many
        "A,B\"x,a@b.co,GB,,\n"              // quote in an unquoted field
        "A,B,a@b.co,GB,soon,\n"             // not an integer
        "A,B,a@b.co,GB,,WEEKLY\n"           // not a billing type
        "A,B,bad-email,GB,,\n"              // validation
        "A,B,a@b.co,GB,,\n"                 // fine
        "A,\"never closed,a@b.co,GB,,\n";   // open quote to the end
    auto v = read_all(csv, input_format::csv);
    ASSERT_EQ(v.size(), 8u);
    EXPECT_NE(errors_of(v[0]).find("3 fields, the header has 6"), std::string::npos) << errors_of(v[0]);
    EXPECT_NE(errors_of(v[1]).find("7 fields"), std::string::npos) << errors_of(v[1]);
    EXPECT_NE(errors_of(v[2]).find("CSV quoting: column 2"), std::string::npos) << errors_of(v[2]);
    EXPECT_TRUE(names_field(v[3], "trial_period")) << errors_of(v[3]);
    EXPECT_TRUE(names_field(v[4], "billing_type")) << errors_of(v[4]);
    EXPECT_TRUE(names_field(v[5], "lead.email")) << errors_of(v[5]);
    EXPECT_TRUE(v[6].valid()) << errors_of(v[6]);
    EXPECT_NE(errors_of(v[7]).find("not closed"), std::string::npos) << errors_of(v[7]);
    for (std::size_t i = 0; i < 8; ++i) EXPECT_EQ(v[i].line, i + 2);
}

TEST(input_csv, unusable_header_is_fatal) {
    EXPECT_THROW(read_all("first_name,last_name,email,country,colour\nA,B,a@b.co,GB,red\n", input_format::csv),
                 input_error);
    EXPECT_THROW(read_all("first_name,last_name,email\nA,B,a@b.co\n", input_format::csv), input_error);
    EXPECT_THROW(read_all("first_name,email,email,last_name,country\n", input_format::csv), input_error);
}

TEST(input, empty_input_has_no_items) {
    EXPECT_TRUE(read_all("", input_format::jsonl).empty());
    EXPECT_TRUE(read_all("", input_format::csv).empty());
    EXPECT_TRUE(read_all("\n\n", input_format::jsonl).empty());
    EXPECT_TRUE(read_all("first_name,last_name,email,country\n", input_format::csv).empty());
}

TEST(input, csv_and_jsonl_of_the_same_lead_share_a_key) {
    auto j = read_all(good_json + "\n", input_format::jsonl);
    auto c = read_all("first_name,last_name,email,country\nAda,Lovelace,ada@example.com,GB\n", input_format::csv);
    ASSERT_EQ(j.size(), 1u);
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(j[0].key.hex, c[0].key.hex);
}

TEST(input, format_from_path) {
    EXPECT_EQ(format_from_path("leads.CSV"), input_format::csv);
    EXPECT_EQ(format_from_path("a/b.jsonl"), input_format::jsonl);
    EXPECT_EQ(format_from_path("x.ndjson"), input_format::jsonl);
    EXPECT_FALSE(format_from_path("leads.txt"));
}

}  // namespace
}  // namespace catalyst::batch
