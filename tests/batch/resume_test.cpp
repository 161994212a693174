#include "batch/resume.hpp"
#include "batch/record.hpp"
#include "string_source.hpp"

#include <optional>

#include <gtest/gtest.h>

namespace catalyst::batch {
namespace {

std::string rec(std::uint64_t line, bool ok, std::string error = {},
                std::optional<std::int64_t> sent = {}) {
    result_record r;
    r.line = line;
    r.key = "k" + std::to_string(line);
    r.ok = ok;
    r.error = std::move(error);
    r.sent_ms = sent;
    std::string s;
    append_record(r, s);
    return s;
}

std::string intent(std::uint64_t line, std::int64_t sent, std::string key = {}) {
    result_record r;
    r.line = line;
    r.key = key.empty() ? "k" + std::to_string(line) : key;
    r.sending = true;
    r.sent_ms = sent;
    std::string s;
    append_record(r, s);
    return s;
}

// Every output starts with a header.
std::string header() {
    run_header h;
    h.target.embedded_sandbox = true;
    h.started_ms = 1'700'000'000'000;
    std::string s;
    append_header(h, s);
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
    const std::string data = header() + rec(2, true) + rec(5, false, "timeout") + rec(3, true);
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
    ASSERT_TRUE(st.header);
    EXPECT_TRUE(st.header->target.embedded_sandbox);
    // Every line's key is kept, errors' too: each line of a rerun's input is checked.
    EXPECT_EQ(st.key_hash(2), line_key_hash("k2"));
    EXPECT_EQ(st.key_hash(5), line_key_hash("k5"));
    EXPECT_EQ(check_line(st, 5, "k5"), "");
    EXPECT_NE(check_line(st, 5, "k6").find("input line 5 "), std::string::npos);
    EXPECT_EQ(check_line(st, 4, "anything"), "");  // nothing recorded for line 4
    EXPECT_EQ(check_line(st, 4000, "anything"), "");
}

TEST(resume, torn_last_line_is_cut_at_every_length) {
    const std::string head = header() + rec(1, true) + rec(2, true);
    const std::string last = rec(3, true);
    // Every prefix of the last record that lacks its '\n' is torn; the whole record without
    // its '\n' is kept (a complete record of ours: nothing to redo).
    for (std::size_t cut = 1; cut + 1 < last.size(); ++cut) {
        auto st = scan_output(test::string_source(head + last.substr(0, cut)));
        EXPECT_TRUE(st.torn) << cut;
        EXPECT_EQ(st.valid_bytes, head.size()) << cut;
        EXPECT_EQ(st.records, 2u) << cut;
        EXPECT_FALSE(st.is_done(3)) << cut;
    }
}

TEST(resume, whole_last_record_without_newline_is_kept) {
    const std::string data = header() + rec(1, true) + rec(2, true);
    auto st = scan_output(test::string_source(data.substr(0, data.size() - 1)));
    EXPECT_FALSE(st.torn);
    EXPECT_TRUE(st.unterminated);
    EXPECT_TRUE(st.is_done(2));
    EXPECT_EQ(st.valid_bytes, data.size() - 1);
    // A lone header without its '\n' too: kept, not cut to nothing as a torn line.
    const std::string h = header();
    auto only = scan_output(test::string_source(h.substr(0, h.size() - 1)));
    EXPECT_TRUE(only.unterminated);
    EXPECT_EQ(only.headers, 1u);
    EXPECT_EQ(only.valid_bytes, h.size() - 1);
}

TEST(resume, duplicate_records_count_once) {
    auto st = scan_output(test::string_source(header() + rec(1, true) + rec(1, true)));
    EXPECT_EQ(st.records, 1u);
}

TEST(resume, sending_without_outcome_is_pending_with_its_first_time) {
    const std::string data = header() + intent(1, 5000) + intent(2, 6000) + rec(1, true, {}, 5000) +
                             intent(3, 7000) + rec(3, false, "timeout", 7000) + intent(2, 9000);
    auto st = scan_output(test::string_source(data));
    EXPECT_TRUE(st.is_done(1));
    EXPECT_FALSE(st.is_done(2));
    EXPECT_EQ(st.key_hash(2), line_key_hash("k2"));  // checked against the input too
    ASSERT_EQ(st.first_sent.size(), 1u);
    EXPECT_EQ(st.first_sent.at(2), 6000);  // the earliest of its two sends
    EXPECT_EQ(st.records, 2u);
    // --retry-failed: the timeout line is resent too, and since when is known.
    auto retry = scan_output(test::string_source(data), true);
    EXPECT_EQ(retry.first_sent.size(), 2u);
    EXPECT_EQ(retry.first_sent.at(3), 7000);
    EXPECT_EQ(retry.retriable, std::vector<std::uint64_t>{3});
}

TEST(resume, foreign_file_is_refused) {
    EXPECT_THROW(scan_output(test::string_source("hello\n" + rec(1, true))), resume_error);
    EXPECT_THROW(scan_output(test::string_source(header() + rec(1, true) + "\n" + rec(2, true))),
                 resume_error);
    EXPECT_THROW(scan_output(test::string_source(header() + rec(1, true) + "garbage\n")),
                 resume_error);
    // One line without '\n' that is not ours: refused, never cut to nothing.
    EXPECT_THROW(scan_output(test::string_source("first_name,last_name,email,country")),
                 resume_error);
    EXPECT_THROW(scan_output(test::string_source(header() + "name,email")), resume_error);
}

TEST(resume, output_without_header_is_refused) {
    // An older catalyst-batch's file: records, no header. Nothing says what produced it.
    try {
        scan_output(test::string_source(rec(1, true) + rec(2, true)));
        ADD_FAILURE() << "accepted";
    } catch (const resume_error& e) {
        EXPECT_NE(std::string(e.what()).find("no catalyst-batch header"), std::string::npos)
            << e.what();
    }
    // A torn record with no header before it is not cut either.
    EXPECT_THROW(scan_output(test::string_source(rec(1, true).substr(0, 10))), resume_error);
}

TEST(line_table, eight_bytes_per_line_allocated_as_touched) {
    line_table t;
    EXPECT_EQ(t.get(5), 0u);
    EXPECT_EQ(t.last_set(), 0u);
    EXPECT_EQ(t.bytes(), 0u);
    t.at(1) = 7;
    t.at(1'000'000) = 9;
    EXPECT_EQ(t.get(1), 7u);
    EXPECT_EQ(t.get(1'000'000), 9u);
    EXPECT_EQ(t.get(999'999), 0u);
    EXPECT_EQ(t.get(50'000'000), 0u);  // beyond: nothing, no allocation
    EXPECT_EQ(t.last_set(), 1'000'000u);
    EXPECT_EQ(t.bytes(), 2u * 65536 * 8);  // two chunks touched
    for (std::uint64_t i = 0; i < 1'000'000; ++i) t.at(i) = i + 1;
    EXPECT_LE(t.bytes(), 1'000'001u * 8 + 65536 * 8);  // 8 bytes a line, one chunk of slack
}

}  // namespace
}  // namespace catalyst::batch
