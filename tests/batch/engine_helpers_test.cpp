#include "batch/engine.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <unistd.h>

namespace catalyst::batch {
namespace {

TEST(scrub_personal, masks_the_leads_values_and_any_email) {
    lead l;
    l.first_name = "Ada";
    l.last_name = "Lovelace";
    l.email = "ada@example.com";
    l.phone = "+4420790000";
    l.city = "Li";
    const auto s = scrub_personal(
        "lead.email: ada@example.com exists (Ada Lovelace, +4420790000); other: bob@example.org; lead.city: Li", l);
    EXPECT_EQ(s.find("ada@"), std::string::npos) << s;
    EXPECT_EQ(s.find("Lovelace"), std::string::npos) << s;
    EXPECT_EQ(s.find("Ada"), std::string::npos) << s;
    EXPECT_EQ(s.find("+4420790000"), std::string::npos) << s;
    EXPECT_EQ(s.find("bob@example.org"), std::string::npos) << s;
    EXPECT_NE(s.find("lead.email:"), std::string::npos) << s;  // field paths stay
    EXPECT_EQ(s.find("Li"), std::string::npos) << s;  // short values are personal data too
    EXPECT_NE(s.find("lead.city: ***"), std::string::npos) << s;
}

TEST(scrub_personal, short_values_are_masked_where_they_stand_as_words) {
    lead l;
    l.first_name = "Jo";
    l.last_name = "Ng";
    l.email = "j@x.io";
    l.postal_code = "N1";
    const auto s = scrub_personal(R"(lead.first_name: "Jo" rejected; Ng,N1 unknown; a major issue (Jo))", l);
    EXPECT_EQ(s.find("\"Jo\""), std::string::npos) << s;
    EXPECT_EQ(s.find("(Jo)"), std::string::npos) << s;
    EXPECT_EQ(s.find("Ng"), std::string::npos) << s;
    EXPECT_EQ(s.find("N1"), std::string::npos) << s;
    EXPECT_NE(s.find("major"), std::string::npos) << s;  // inside a word: not the value
    EXPECT_NE(s.find("lead.first_name:"), std::string::npos) << s;
    // A one-character value too.
    lead one;
    one.first_name = "X";
    EXPECT_EQ(scrub_personal("lead.first_name: X is too short", one), "lead.first_name: *** is too short");
    // An empty value masks nothing (and does not loop).
    EXPECT_EQ(scrub_personal("nothing here", lead{}), "nothing here");
}

class temp_file {
public:
    explicit temp_file(const std::string& data) {
        char name[] = "/tmp/catalyst-batch-count-XXXXXX";
        fd_ = ::mkstemp(name);
        path_ = name;
        EXPECT_EQ(::write(fd_, data.data(), data.size()), static_cast<ssize_t>(data.size()));
    }
    ~temp_file() {
        ::close(fd_);
        ::unlink(path_.c_str());
    }
    int fd() const { return fd_; }

private:
    int fd_;
    std::string path_;
};

TEST(count_records, jsonl_and_csv) {
    temp_file j("\xEF\xBB\xBF{}\r\n\n  \n{}\n{}");
    EXPECT_EQ(count_records(j.fd(), input_format::jsonl), 3u);
    temp_file c("a,b\n1,\"x\ny\"\n\n2,\"say \"\"hi\"\"\"\n");
    EXPECT_EQ(count_records(c.fd(), input_format::csv), 2u);
    temp_file e("");
    EXPECT_EQ(count_records(e.fd(), input_format::jsonl), 0u);
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    EXPECT_FALSE(count_records(p[0], input_format::jsonl));  // a pipe cannot be counted
    ::close(p[0]);
    ::close(p[1]);
}

}  // namespace
}  // namespace catalyst::batch
