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
    l.city = "Li";  // too short to mask: it would garble words, and says nothing alone
    const auto s = scrub_personal(
        "lead.email: ada@example.com exists (Ada Lovelace, +4420790000); other: bob@example.org; lead.city: Li", l);
    EXPECT_EQ(s.find("ada@"), std::string::npos) << s;
    EXPECT_EQ(s.find("Lovelace"), std::string::npos) << s;
    EXPECT_EQ(s.find("Ada"), std::string::npos) << s;
    EXPECT_EQ(s.find("+4420790000"), std::string::npos) << s;
    EXPECT_EQ(s.find("bob@example.org"), std::string::npos) << s;
    EXPECT_NE(s.find("lead.email:"), std::string::npos) << s;  // field paths stay
    EXPECT_NE(s.find("lead.city: Li"), std::string::npos) << s;
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
