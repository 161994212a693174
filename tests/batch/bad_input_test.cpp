// Bad input lines: each bad line of a JSONL or CSV input gets an error record naming what is
// wrong and the run goes on with the others; a CSV header that cannot be used is a usage
// error before anything is sent; and no message ever echoes a cell or a lead's data.
#include "fixture.hpp"

#include <map>
#include <string>

namespace catalyst::batch {
namespace {

using bad_input = batch_e2e;

TEST_F(bad_input, bad_lines_of_every_kind_get_records_and_the_run_goes_on) {
    std::string in = "\xEF\xBB\xBF" + lead_json(1) + "\r\n";  // 1 ok, BOM+CRLF
    in += "\n";                                               // 2 empty
    in += "{not json\n";                                      // 3
    in += R"({"lead":{"first_name":"A","last_name":"B","email":"bad-email","country":"GB"}})"
          "\n";  // 4
    in +=
        R"({"campaign_id":"NOT-A-UUID","lead":{"first_name":"A","last_name":"B","email":"x@example.com","country":"GB"}})"
        "\n";  // 5
    in += R"({"lead":{"first_name":"A"}})"
          "\n";                             // 6
    in += std::string(70'000, 'z') + "\n";  // 7 oversized
    in += lead_json(2) + "\n";              // 8 ok
    test::spit(path("in.jsonl"), in);
    auto r = run({path("in.jsonl"), "-o", path("out.jsonl"), "--campaign", campaign});
    EXPECT_EQ(r.code, 1) << r.err;
    auto recs = records(path("out.jsonl"));
    ASSERT_EQ(recs.size(), 7u);
    std::map<std::uint64_t, result_record> by_line;
    for (const auto& x : recs) by_line[x.line] = x;
    EXPECT_FALSE(by_line.count(2));
    EXPECT_TRUE(by_line.at(1).ok);
    EXPECT_TRUE(by_line.at(8).ok);
    for (std::uint64_t l : {3, 4, 5, 6, 7}) {
        EXPECT_FALSE(by_line.at(l).ok) << l;
        EXPECT_EQ(by_line.at(l).error, "validation_failed") << l;
        EXPECT_EQ(by_line.at(l).attempts, 0u) << l;
    }
    EXPECT_NE(by_line.at(4).message.find("lead.email"), std::string::npos) << by_line.at(4).message;
    EXPECT_NE(by_line.at(5).message.find("campaign_id"), std::string::npos)
        << by_line.at(5).message;
    EXPECT_NE(by_line.at(6).message.find("lead.last_name"), std::string::npos)
        << by_line.at(6).message;
    EXPECT_NE(by_line.at(7).message.find("longer than"), std::string::npos)
        << by_line.at(7).message;
    const std::string all = test::slurp(path("out.jsonl")) + r.out + r.err;
    EXPECT_EQ(all.find("bad-email"), std::string::npos);
    EXPECT_EQ(all.find("x@example.com"), std::string::npos);
    EXPECT_EQ(r.err.find("person1@example.com"), std::string::npos);
    EXPECT_NE(r.err.find("validation_failed: 5"), std::string::npos) << r.err;
    EXPECT_EQ(sb_->ledger().size(), 2u);
}

TEST_F(bad_input, csv_with_quoting_and_bad_rows) {
    std::string csv =
        "\xEF\xBB\xBF"
        "first_name,last_name,email,country,city\r\n";
    csv += "Ada,Lovelace,ada@example.com,GB,\"London,\nMarylebone\"\r\n";  // 2-3, quoted newline
    csv += "Alan,\"Tu\"\"ring\",alan@example.com,GB,\r\n";                 // 4
    csv += "Bad,Row,bad@example.com\r\n";                                  // 5 ragged
    csv += "Bad,Qu\"ote,q@example.com,GB,\r\n";                            // 6 quoting
    csv += "\r\n";                                                         // 7 empty
    csv += "Grace,Hopper,grace@example.com,US,\r\n";                       // 8
    test::spit(path("in.csv"), csv);
    auto r = run({path("in.csv"), "--output", path("out.jsonl"), "--campaign", campaign});
    EXPECT_EQ(r.code, 1) << r.err;
    auto recs = records(path("out.jsonl"));
    ASSERT_EQ(recs.size(), 5u);
    std::map<std::uint64_t, result_record> by_line;
    for (const auto& x : recs) by_line[x.line] = x;
    EXPECT_TRUE(by_line.at(2).ok) << by_line.at(2).message;
    EXPECT_TRUE(by_line.at(4).ok) << by_line.at(4).message;
    EXPECT_TRUE(by_line.at(8).ok) << by_line.at(8).message;
    EXPECT_NE(by_line.at(5).message.find("3 fields"), std::string::npos);
    EXPECT_NE(by_line.at(6).message.find("CSV quoting"), std::string::npos);
    EXPECT_EQ(sb_->ledger().size(), 3u);
    // A header naming an unknown column is a usage error before anything is sent.
    test::spit(path("bad.csv"),
               "first_name,last_name,email,country,colour\nA,B,a@example.com,GB,red\n");
    auto h = run({path("bad.csv"), "-o", path("out2.jsonl")});
    EXPECT_EQ(h.code, 2);
    EXPECT_NE(h.err.find("column 5: not a known field name"), std::string::npos) << h.err;
    EXPECT_EQ(h.err.find("colour"), std::string::npos) << h.err;  // a cell's text is never echoed
}

TEST_F(bad_input, csv_header_errors_never_echo_a_cell) {
    // A file without a header row: its first lead is read as the header.
    test::spit(path("in.csv"),
               "Max,Mustermann,max@example.com,DE\nErika,Musterfrau,erika@example.com,DE\n");
    auto r = run({path("in.csv"), "-o", path("out.jsonl")});
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("column 1"), std::string::npos) << r.err;
    for (const char* cell : {"Max", "Mustermann", "max@example.com"})
        EXPECT_EQ((r.out + r.err).find(cell), std::string::npos) << cell << ": " << r.err;
    // A repeated column is named by the field, not by the cell's spelling.
    test::spit(path("twice.csv"),
               "first_name,last_name,email,country, Email \nA,B,a@example.com,GB,x\n");
    auto t = run({path("twice.csv"), "-o", path("out2.jsonl")});
    EXPECT_EQ(t.code, 2) << t.err;
    EXPECT_NE(t.err.find("column 5"), std::string::npos) << t.err;
}

}  // namespace
}  // namespace catalyst::batch
