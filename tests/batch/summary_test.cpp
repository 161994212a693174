// --summary FILE: the real catalyst-batch against an in-process sandbox; the summary's counts
// must be those of the output records, its exit code the process's, and nothing personal or
// secret may be in it.
#include "batch/timestamp.hpp"
#include "fixture.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace catalyst::batch {
namespace {

namespace json = boost::json;

class batch_summary : public batch_e2e {
protected:
    // The summary file, parsed (a test failure and null when missing or not one JSON object).
    json::object summary(const std::string& file) {
        const std::string text = test::slurp(file);
        boost::system::error_code ec;
        json::value v = json::parse(text, ec);
        EXPECT_FALSE(ec) << "not JSON: " << text;
        if (ec || !v.is_object()) return {};
        return v.get_object();
    }
    static std::uint64_t count(const json::object& s, const char* name) {
        const auto* c = s.if_contains("counts");
        const auto* n = c && c->is_object() ? c->get_object().if_contains(name) : nullptr;
        return n && n->is_number() ? n->to_number<std::uint64_t>() : ~std::uint64_t{0};
    }
};

// A lead the API refuses (its email), with a name, an email and a phone that must stay out of
// the summary.
const std::string invalid_lead =
    R"({"lead":{"first_name":"Zebediah","last_name":"Quarrington","email":"zebediah.at.nowhere",)"
    R"("phone":"+447700900123","country":"GB"}})";

TEST_F(batch_summary, counts_match_the_output_records_and_the_exit_code) {
    test::spit(path("in.jsonl"), leads(3) + invalid_lead + "\n" + lead_json(4) + "\n");
    auto r = run({path("in.jsonl"), "-o", path("out.jsonl"), "--campaign", campaign, "--summary",
                  path("summary.json"), "--progress", "none"});
    ASSERT_EQ(r.code, 1) << r.err;
    const auto recs = records(path("out.jsonl"));
    ASSERT_EQ(recs.size(), 5u);
    std::uint64_t ok = 0, failed = 0, sent = 0;
    for (const auto& x : recs) {
        (x.ok ? ok : failed) += 1;
        if (x.attempts > 0) ++sent;
    }
    const auto s = summary(path("summary.json"));
    ASSERT_FALSE(s.empty());
    EXPECT_EQ(s.at("summary"), json::value("catalyst-batch"));
    EXPECT_EQ(s.at("tool_version"), json::value(std::string(tool_version)));
    EXPECT_EQ(s.at("exit_code"), json::value(r.code));
    EXPECT_EQ(s.at("exit_meaning"), json::value("some lines failed"));
    EXPECT_TRUE(s.at("error").is_null());
    EXPECT_EQ(count(s, "lines_read"), 5u);
    EXPECT_EQ(count(s, "ok"), ok);
    EXPECT_EQ(count(s, "created"), 4u);
    EXPECT_EQ(count(s, "failed"), failed);
    EXPECT_EQ(count(s, "sent"), sent);
    EXPECT_EQ(count(s, "validation_failed"), 1u);
    EXPECT_EQ(count(s, "skipped_already_done"), 0u);
    EXPECT_EQ(s.at("counts").at("errors").at("validation_failed"), json::value(1));
    // The target as the header has it, the key's fingerprint, the settings and the paths.
    const auto target = target_of(sb_->base_url());
    ASSERT_TRUE(target);
    EXPECT_EQ(s.at("target").at("host"), json::value(target->host));
    EXPECT_EQ(s.at("target").at("port"), json::value(target->port));
    EXPECT_EQ(s.at("target").at("path"), json::value(target->path));
    EXPECT_EQ(s.at("api_key_sha256_8"), json::value(key_fingerprint("rk_test_123")));
    EXPECT_EQ(s.at("campaign"), json::value(campaign));
    EXPECT_EQ(s.at("shard"), json::value("0/1"));
    EXPECT_EQ(s.at("input"), json::value(path("in.jsonl")));
    EXPECT_EQ(s.at("output"), json::value(path("out.jsonl")));
    const auto hs = headers(path("out.jsonl"));
    ASSERT_EQ(hs.size(), 1u);
    EXPECT_EQ(parse_utc(s.at("started_at").as_string()), hs[0].started_ms);
    EXPECT_TRUE(parse_utc(s.at("ended_at").as_string()));
    EXPECT_TRUE(s.at("elapsed_seconds").is_number());
    EXPECT_TRUE(s.at("sessions_per_second").is_number());
    EXPECT_TRUE(s.at("allowed_rate_per_second").is_number());  // --rate auto, the default
    // No lead's field, no key.
    const std::string text = test::slurp(path("summary.json"));
    for (const char* secret : {"Zebediah", "Quarrington", "zebediah.at.nowhere", "+447700900123", "person1@example.com",
                               "Firstname1", "rk_test_123"})
        EXPECT_EQ(text.find(secret), std::string::npos) << secret;
    // No temporary left beside it.
    for (const auto& e : fs::directory_iterator(dir_))
        EXPECT_EQ(e.path().filename().string().find("summary.json.tmp"), std::string::npos) << e.path();

    // A rerun replaces the summary: everything skipped as already done, exit code 1 still.
    auto again = run({path("in.jsonl"), "-o", path("out.jsonl"), "--campaign", campaign, "--summary",
                      path("summary.json"), "--progress", "none"});
    ASSERT_EQ(again.code, 1) << again.err;
    const auto s2 = summary(path("summary.json"));
    EXPECT_EQ(count(s2, "skipped_already_done"), 5u);
    EXPECT_EQ(count(s2, "sent"), 0u);
    EXPECT_EQ(count(s2, "previous_ok"), ok);
    EXPECT_EQ(count(s2, "previous_failed"), failed);
}

TEST_F(batch_summary, refused_resume_writes_a_summary_with_exit_2_and_the_reason) {
    test::spit(path("in.jsonl"), leads(3));
    ASSERT_EQ(run({path("in.jsonl"), "-o", path("out.jsonl")}).code, 0);
    // Another input on the same output: refused before anything is sent.
    test::spit(path("other.jsonl"), invalid_lead + "\n" + leads(3));
    auto r = run({path("other.jsonl"), "-o", path("out.jsonl"), "--summary", path("summary.json")});
    ASSERT_EQ(r.code, 2) << r.err;
    const auto s = summary(path("summary.json"));
    ASSERT_FALSE(s.empty());
    EXPECT_EQ(s.at("exit_code"), json::value(2));
    ASSERT_TRUE(s.at("error").is_string());
    EXPECT_NE(std::string(s.at("error").as_string()).find("refused"), std::string::npos) << s.at("error");
    EXPECT_EQ(count(s, "sent"), 0u);
    EXPECT_EQ(s.at("api_key_sha256_8"), json::value(key_fingerprint("rk_test_123")));
    const std::string text = test::slurp(path("summary.json"));
    for (const char* secret : {"Zebediah", "zebediah.at.nowhere", "+447700900123", "rk_test_123"})
        EXPECT_EQ(text.find(secret), std::string::npos) << secret;
    EXPECT_EQ(sb_->ledger().size(), 3u);

    // A configuration refusal (no API key) is summarised too, without a target it never reached.
    auto no_key = env();
    no_key.erase("CATALYST_API_KEY");
    auto c = run({path("in.jsonl"), "-o", path("out2.jsonl"), "--summary", path("summary2.json")}, no_key);
    ASSERT_EQ(c.code, 2) << c.err;
    const auto s2 = summary(path("summary2.json"));
    EXPECT_EQ(s2.at("exit_code"), json::value(2));
    EXPECT_TRUE(s2.at("target").is_null());
    EXPECT_NE(std::string(s2.at("error").as_string()).find("CATALYST_API_KEY"), std::string::npos);
}

TEST_F(batch_summary, a_summary_that_cannot_be_written_turns_success_into_exit_2) {
    test::spit(path("in.jsonl"), leads(2));
    auto r = run({path("in.jsonl"), "-o", path("out.jsonl"), "--summary", path("no-such-dir/summary.json")});
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("summary"), std::string::npos) << r.err;
    EXPECT_EQ(outcomes_in(path("out.jsonl")), 2);  // the run itself went through
}

TEST_F(batch_summary, an_aborted_run_writes_a_summary_with_exit_3_and_the_counts_so_far) {
    constexpr int n = 300;
    test::spit(path("in.jsonl"), leads(n));
    auto c = test::spawn(exe, {path("in.jsonl"), "-o", path("out.jsonl"), "--rate", "200", "--concurrency", "4",
                               "--summary", path("summary.json")},
                         env(), dir_.string());
    for (int i = 0; i < 3000 && outcomes_in(path("out.jsonl")) == 0; ++i) std::this_thread::sleep_for(10ms);
    ::kill(c.pid, SIGINT);
    ASSERT_EQ(test::wait_for(c), 3) << test::slurp(c.err_path);
    const auto partial = records(path("out.jsonl"));
    const auto s = summary(path("summary.json"));
    ASSERT_FALSE(s.empty());
    EXPECT_EQ(s.at("exit_code"), json::value(3));
    EXPECT_EQ(count(s, "records"), partial.size());
    EXPECT_EQ(count(s, "ok"), partial.size());
    EXPECT_LT(count(s, "records"), static_cast<std::uint64_t>(n));
    EXPECT_TRUE(s.at("allowed_rate_per_second").is_null());  // --rate N: not adaptive
}

}  // namespace
}  // namespace catalyst::batch
