#include "batch/csv.hpp"

#include <gtest/gtest.h>

namespace catalyst::batch {
namespace {

using strings = std::vector<std::string>;

strings parse_ok(std::string_view text) {
    strings f;
    auto r = parse_csv_record(text, f);
    EXPECT_EQ(r.status, csv_status::complete) << text;
    return f;
}

TEST(csv, plain_fields) {
    EXPECT_EQ(parse_ok("a,b,c"), (strings{"a", "b", "c"}));
    EXPECT_EQ(parse_ok(""), (strings{""}));
    EXPECT_EQ(parse_ok(",,"), (strings{"", "", ""}));
    EXPECT_EQ(parse_ok("a, b "), (strings{"a", " b "}));
}

TEST(csv, quoted_fields_with_commas_quotes_and_newlines) {
    EXPECT_EQ(parse_ok(R"("a,b","say ""hi""",c)"), (strings{"a,b", R"(say "hi")", "c"}));
    EXPECT_EQ(parse_ok("\"line1\nline2\",x"), (strings{"line1\nline2", "x"}));
    EXPECT_EQ(parse_ok(R"("")"), (strings{""}));
    EXPECT_EQ(parse_ok(R"(a,"")"), (strings{"a", ""}));
}

TEST(csv, open_quote_asks_for_more) {
    strings f;
    auto r = parse_csv_record("a,\"multi", f);
    EXPECT_EQ(r.status, csv_status::open_quote);
    EXPECT_EQ(r.column, 2u);
    r = parse_csv_record("a,\"multi\nline\"", f);
    EXPECT_EQ(r.status, csv_status::complete);
    EXPECT_EQ(f, (strings{"a", "multi\nline"}));
}

TEST(csv, malformed_quoting_names_the_column) {
    strings f;
    auto r = parse_csv_record(R"(a,b"c,d)", f);
    EXPECT_EQ(r.status, csv_status::malformed);
    EXPECT_EQ(r.column, 2u);
    r = parse_csv_record(R"(a,"b"c,d)", f);
    EXPECT_EQ(r.status, csv_status::malformed);
    EXPECT_EQ(r.column, 2u);
    EXPECT_FALSE(r.reason.empty());
}

}  // namespace
}  // namespace catalyst::batch
