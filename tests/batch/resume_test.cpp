#include "batch/record.hpp"
#include "batch/resume.hpp"
#include "string_source.hpp"

#include <gtest/gtest.h>

namespace catalyst::batch {
namespace {

std::string rec(std::uint64_t line, bool ok, std::string error = {}) {
    result_record r;
    r.line = line;
    r.key = "k" + std::to_string(line);
    r.ok = ok;
    r.error = std::move(error);
    std::string s;
    append_record(r, s);
    return s;
}

TEST(resume, empty_file) {
    auto st = scan_output(test::string_source(""));
    EXPECT_EQ(st.records, 0u);
    EXPECT_EQ(st.valid_bytes, 0u);
    EXPECT_FALSE(st.torn);
    EXPECT_FALSE(st.is_done(1));
}

TEST(resume, complete_records) {
    const std::string data = rec(2, true) + rec(5, false, "timeout") + rec(3, true);
    auto st = scan_output(test::string_source(data));
    EXPECT_EQ(st.records, 3u);
    EXPECT_EQ(st.ok, 2u);
    EXPECT_EQ(st.failed, 1u);
    EXPECT_EQ(st.failed_by_reason.at("timeout"), 1u);
    EXPECT_TRUE(st.is_done(2));
    EXPECT_TRUE(st.is_done(3));
    EXPECT_TRUE(st.is_done(5));
    EXPECT_FALSE(st.is_done(4));
    EXPECT_FALSE(st.is_done(1000));
    EXPECT_EQ(st.valid_bytes, data.size());
    EXPECT_FALSE(st.torn);
    EXPECT_EQ(st.sample_keys.at(2), "k2");
    EXPECT_FALSE(st.sample_keys.count(5));  // errors are not sampled: a fixed line may be rerun elsewhere
}

TEST(resume, torn_last_line_is_cut_at_every_length) {
    const std::string head = rec(1, true) + rec(2, true);
    const std::string last = rec(3, true);
    // Every prefix of the last record that lacks its '\n' is torn, even when it parses.
    for (std::size_t cut = 1; cut < last.size(); ++cut) {
        auto st = scan_output(test::string_source(head + last.substr(0, cut)));
        EXPECT_TRUE(st.torn) << cut;
        EXPECT_EQ(st.valid_bytes, head.size()) << cut;
        EXPECT_EQ(st.records, 2u) << cut;
        EXPECT_FALSE(st.is_done(3)) << cut;
    }
}

TEST(resume, duplicate_records_count_once) {
    auto st = scan_output(test::string_source(rec(1, true) + rec(1, true)));
    EXPECT_EQ(st.records, 1u);
}

TEST(resume, foreign_file_is_refused) {
    EXPECT_THROW(scan_output(test::string_source("hello\n" + rec(1, true))), resume_error);
    EXPECT_THROW(scan_output(test::string_source(rec(1, true) + "\n" + rec(2, true))), resume_error);
    EXPECT_THROW(scan_output(test::string_source(rec(1, true) + "garbage\n")), resume_error);
}

}  // namespace
}  // namespace catalyst::batch
