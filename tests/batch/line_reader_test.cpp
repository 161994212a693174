#include "string_source.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace catalyst::batch {
namespace {

struct seen {
    std::string text;
    std::uint64_t number;
    bool oversized;
    friend bool operator==(const seen&, const seen&) = default;
};

std::vector<seen> read_all(std::string data, std::size_t max_line = 100, std::size_t chunk = 7) {
    line_reader r(test::string_source(std::move(data), chunk), max_line);
    std::vector<seen> out;
    physical_line pl;
    while (r.next(pl)) out.push_back({std::string(pl.text), pl.number, pl.oversized});
    return out;
}

TEST(line_reader, splits_lines_across_reads) {
    auto v = read_all("alpha\nbeta\n\ngamma");
    ASSERT_EQ(v.size(), 4u);
    EXPECT_EQ(v[0], (seen{"alpha", 1, false}));
    EXPECT_EQ(v[1], (seen{"beta", 2, false}));
    EXPECT_EQ(v[2], (seen{"", 3, false}));
    EXPECT_EQ(v[3], (seen{"gamma", 4, false}));  // no final newline: still a line
}

TEST(line_reader, strips_crlf_and_bom) {
    auto v = read_all("\xEF\xBB\xBF{\"a\":1}\r\n{\"b\":2}\r\n");
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0].text, "{\"a\":1}");
    EXPECT_EQ(v[1].text, "{\"b\":2}");
}

TEST(line_reader, bom_only_at_start) {
    auto v = read_all("x\n\xEF\xBB\xBFy\n");
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[1].text, "\xEF\xBB\xBFy");
}

TEST(line_reader, empty_input_has_no_lines) {
    EXPECT_TRUE(read_all("").empty());
    EXPECT_TRUE(read_all("\xEF\xBB\xBF").empty());
}

TEST(line_reader, oversized_line_is_reported_and_skipped) {
    std::string big(1000, 'x');
    for (std::size_t chunk : {std::size_t{3}, std::size_t{64}, std::size_t{100000}}) {
        auto v = read_all("short\n" + big + "\nafter\n" + big, 100, chunk);
        ASSERT_EQ(v.size(), 4u) << chunk;
        EXPECT_EQ(v[0], (seen{"short", 1, false}));
        EXPECT_EQ(v[1], (seen{"", 2, true}));
        EXPECT_EQ(v[2], (seen{"after", 3, false}));
        EXPECT_EQ(v[3], (seen{"", 4, true}));
    }
}

TEST(line_reader, line_of_exactly_the_limit_passes) {
    std::string exact(100, 'y');
    auto v = read_all(exact + "\r\n" + exact + "z\n", 100, 13);
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0], (seen{exact, 1, false}));
    EXPECT_TRUE(v[1].oversized);
}

TEST(line_reader, counts_bytes) {
    line_reader r(test::string_source("ab\ncd\n"), 10);
    physical_line pl;
    while (r.next(pl)) {
    }
    EXPECT_EQ(r.bytes_read(), 6u);
}

}  // namespace
}  // namespace catalyst::batch
