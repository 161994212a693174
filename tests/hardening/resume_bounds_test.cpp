// Reading a batch output file back for a resume, for inputs the fuzzers found
// (fuzz/fuzz_batch_resume), each reduced to its smallest case and run here by the normal and
// the sanitizer builds.
#include "batch/header.hpp"
#include "batch/resume.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

namespace catalyst {
namespace {

batch::read_function from_string(std::string text) {
    auto s = std::make_shared<std::pair<std::string, std::size_t>>(std::move(text), 0);
    return [s](char* buf, std::size_t size) {
        const std::size_t n = std::min(size, s->first.size() - s->second);
        std::memcpy(buf, s->first.data() + s->second, n);
        s->second += n;
        return n;
    };
}

// A record's line number sizes the resume bitmap: a number beyond any real input (10^12 would
// ask for 125 GB; 2^64-1 would overflow `line + 1` to 0 and write out of bounds) is refused.
TEST(resume_bounds, resume_refuses_line_numbers_beyond_any_input) {
    std::string header;  // every output starts with one; without, the file is refused earlier
    batch::append_header(batch::run_header{}, header);
    for (const char* line : {"18446744073709551615", "1000000000000", "4294967297"}) {
        std::string file = header + R"({"line":)" + line + R"(,"key":"k","outcome":"ok"})" + "\n";
        try {
            batch::scan_output(from_string(file));
            ADD_FAILURE() << line << " accepted";
        } catch (const batch::resume_error& e) {
            EXPECT_NE(std::string(e.what()).find("beyond any input"), std::string::npos)
                << e.what();
        }
    }
    auto st = batch::scan_output(from_string(header + R"({"line":3,"key":"k","outcome":"ok"})"
                                                      "\n"));
    EXPECT_TRUE(st.is_done(3));
    EXPECT_EQ(st.ok, 1u);
}

}  // namespace
}  // namespace catalyst
