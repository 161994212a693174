// A run again on an existing output file checks that the file is the one this input and
// these settings produced before it sends anything: other settings (target, API key, campaign,
// shard layout) are refused naming each one (a target or key change can be accepted), an
// output without our header or another program's file is refused and left as it was, an
// input line inserted or changed since is refused naming the line, and lines appended to the
// input are the only ones sent. A refusal is exit 2 with nothing sent and nothing written.
#include "fixture.hpp"

#include <set>
#include <string>

namespace catalyst::batch {
namespace {

using rerun = batch_e2e;

std::string lines_of(int from, int to) {
    std::string s;
    for (int i = from; i <= to; ++i) s += lead_json(i) + "\n";
    return s;
}

TEST_F(rerun, resume_with_other_settings_is_refused_naming_them) {
    test::spit(path("in.jsonl"), leads(5));
    ASSERT_EQ(run({path("in.jsonl"), "-o", path("out.jsonl")}).code, 0);
    const std::string original = test::slurp(path("out.jsonl"));

    // Another server (a corrected CATALYST_BASE_URL): it has none of these sessions.
    sandbox other(sandbox_params{});
    other.start();
    test::spit(path("other-ca.pem"), other.ca_pem());
    auto e = env();
    e["CATALYST_BASE_URL"] = other.base_url();
    e["CATALYST_CA_FILE"] = path("other-ca.pem");
    auto t = run({path("in.jsonl"), "-o", path("out.jsonl")}, e);
    EXPECT_EQ(t.code, 2) << t.err;
    EXPECT_NE(t.err.find("target (was https://127.0.0.1:"), std::string::npos) << t.err;
    EXPECT_NE(t.err.find("--accept-target-change"), std::string::npos) << t.err;
    EXPECT_EQ(test::slurp(path("out.jsonl")), original);
    // After a migration the operator says so; the lines are done, nothing is sent.
    auto moved = run({path("in.jsonl"), "-o", path("out.jsonl"), "--accept-target-change"}, e);
    EXPECT_EQ(moved.code, 0) << moved.err;
    EXPECT_EQ(other.ledger().size(), 0u);
    other.stop();

    // Back to the first server (the file's last header now names the other one).
    ASSERT_EQ(run({path("in.jsonl"), "-o", path("out.jsonl"), "--accept-target-change"}).code, 0);

    // Another key (another account, perhaps): its own idempotency keys.
    auto k = env();
    k["CATALYST_API_KEY"] = "rk_your_api_key";
    auto key = run({path("in.jsonl"), "-o", path("out.jsonl")}, k);
    EXPECT_EQ(key.code, 2) << key.err;
    EXPECT_NE(key.err.find("API key"), std::string::npos) << key.err;
    EXPECT_EQ(key.err.find("rk_your_api_key"), std::string::npos) << key.err;
    EXPECT_EQ(run({path("in.jsonl"), "-o", path("out.jsonl"), "--accept-key-change"}, k).code, 0);
    ASSERT_EQ(run({path("in.jsonl"), "-o", path("out.jsonl"), "--accept-key-change"}).code, 0);

    // Another campaign, another shard layout: never accepted.
    auto c = run({path("in.jsonl"), "-o", path("out.jsonl"), "--campaign", campaign});
    EXPECT_EQ(c.code, 2) << c.err;
    EXPECT_NE(c.err.find("campaign (was none, now " + std::string(campaign) + ")"),
              std::string::npos)
        << c.err;
    auto s = run({path("in.jsonl"), "-o", path("out.jsonl"), "--shard", "0/2"});
    EXPECT_EQ(s.code, 2) << s.err;
    EXPECT_NE(s.err.find("shard layout (was 0/1, now 0/2)"), std::string::npos) << s.err;
    EXPECT_EQ(sb_->ledger().size(), 5u);
}

TEST_F(rerun, output_of_an_older_version_without_header_is_refused) {
    test::spit(path("in.jsonl"), leads(3));
    result_record r;
    r.line = 1;
    r.key = "80cdab863b4ff3f44b83cfddc2c98a75";
    r.ok = true;
    r.session_token = "ps_old";
    std::string old;
    append_record(r, old);
    test::spit(path("out.jsonl"), old);
    auto x = run({path("in.jsonl"), "-o", path("out.jsonl")});
    EXPECT_EQ(x.code, 2) << x.err;
    EXPECT_NE(x.err.find("no catalyst-batch header"), std::string::npos) << x.err;
    EXPECT_NE(x.err.find("new --output"), std::string::npos) << x.err;
    EXPECT_EQ(test::slurp(path("out.jsonl")), old);
    EXPECT_EQ(sb_->ledger().size(), 0u);
}

TEST_F(rerun, one_line_file_without_newline_is_not_truncated) {
    test::spit(path("in.jsonl"), leads(2));
    // Another program's file given as --output by mistake: left as it was.
    const std::string foreign = "first_name,last_name,email,country";
    test::spit(path("out.jsonl"), foreign);
    auto r = run({path("in.jsonl"), "-o", path("out.jsonl")});
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("not a catalyst-batch record"), std::string::npos) << r.err;
    EXPECT_EQ(test::slurp(path("out.jsonl")), foreign);
    // Our own header whose '\n' never reached the disk: kept, completed, resumed.
    ASSERT_EQ(run({path("in.jsonl"), "-o", path("good.jsonl")}).code, 0);
    const std::string good = test::slurp(path("good.jsonl"));
    const std::string first = good.substr(0, good.find('\n'));
    test::spit(path("again.jsonl"), first);
    auto a = run({path("in.jsonl"), "-o", path("again.jsonl")});
    EXPECT_EQ(a.code, 0) << a.err;
    EXPECT_TRUE(test::slurp(path("again.jsonl")).starts_with(first + "\n"));
    EXPECT_EQ(records(path("again.jsonl")).size(), 2u);
}

TEST_F(rerun, inserted_line_is_refused_and_appended_lines_are_sent) {
    constexpr int n = 1000;
    test::spit(path("in.jsonl"), leads(n));
    ASSERT_EQ(run({path("in.jsonl"), "-o", path("out.jsonl"), "--concurrency", "32", "--progress",
                   "none"})
                  .code,
              0);
    ASSERT_EQ(sb_->ledger().size(), static_cast<std::size_t>(n));
    const std::string done = test::slurp(path("out.jsonl"));

    // A new lead inserted at line 600: every later line moved down by one.
    const std::string inserted = lines_of(1, 599) + lead_json(5000) + "\n" + lines_of(600, n);
    test::spit(path("edited.jsonl"), inserted);
    auto r = run({path("edited.jsonl"), "-o", path("out.jsonl")});
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("input line 600 "), std::string::npos) << r.err;
    EXPECT_EQ(sb_->ledger().size(), static_cast<std::size_t>(n));  // nothing sent
    EXPECT_EQ(test::slurp(path("out.jsonl")), done);               // nothing written
    // The same from stdin (no pre-pass possible): refused at the same line, nothing sent,
    // since every line before it is done.
    auto piped = run({"-", "-o", path("out.jsonl")}, {}, path("edited.jsonl"));
    EXPECT_EQ(piped.code, 2) << piped.err;
    EXPECT_NE(piped.err.find("input line 600 "), std::string::npos) << piped.err;
    EXPECT_EQ(sb_->ledger().size(), static_cast<std::size_t>(n));
    // A changed line (same position, other content) is refused too.
    std::string changed = lines_of(1, 999) + lead_json(7000) + "\n";
    test::spit(path("changed.jsonl"), changed);
    auto c = run({path("changed.jsonl"), "-o", path("out.jsonl")});
    EXPECT_EQ(c.code, 2) << c.err;
    EXPECT_NE(c.err.find("input line 1000 "), std::string::npos) << c.err;

    // Lines appended at the end: only they are sent.
    test::spit(path("appended.jsonl"), lines_of(1, n + 2));
    auto a = run({path("appended.jsonl"), "-o", path("out.jsonl")});
    EXPECT_EQ(a.code, 0) << a.err;
    EXPECT_NE(a.err.find("lines this run: 2 (created 2"), std::string::npos) << a.err;
    EXPECT_EQ(sb_->ledger().size(), static_cast<std::size_t>(n + 2));
    auto recs = records(path("out.jsonl"));
    EXPECT_EQ(recs.size(), static_cast<std::size_t>(n + 2));
    std::set<std::uint64_t> lines;
    for (const auto& x : recs) EXPECT_TRUE(lines.insert(x.line).second) << x.line;
}

}  // namespace
}  // namespace catalyst::batch
