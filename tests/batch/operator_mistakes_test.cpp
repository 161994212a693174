// Issue 11: what an operator can get wrong between runs, and what the tool does about it. Each
// of these was a silent exit 0 before: now a clear refusal (exit 2 naming the line, field or
// setting) or the documented outcome.
#include "fixture.hpp"

#include "batch/timestamp.hpp"

namespace catalyst::batch {
namespace {

std::string lines_of(int from, int to) {
    std::string s;
    for (int i = from; i <= to; ++i) s += lead_json(i) + "\n";
    return s;
}

class operator_mistakes : public batch_e2e {
protected:
    // Rewrites the output file line by line: `edit` gets each record (not headers) and says
    // whether to keep it; it may change it.
    template <class Edit>
    void edit_records(const std::string& file, Edit edit) {
        std::istringstream in(test::slurp(file));
        std::string line, out;
        while (std::getline(in, line)) {
            if (looks_like_header(line)) {
                out += line + "\n";
                continue;
            }
            auto r = parse_record(line);
            ASSERT_TRUE(r) << line;
            if (edit(*r)) append_record(*r, out);
        }
        test::spit(file, out);
    }
};

TEST_F(operator_mistakes, no_target_is_a_usage_error_naming_the_three_ways) {
    test::spit(path("in.jsonl"), leads(3));
    auto e = env();
    e.erase("CATALYST_BASE_URL");  // as `docker run -e CATALYST_BASE_URL` with the variable unset
    auto r = run({path("in.jsonl"), "-o", path("out.jsonl")}, e);
    EXPECT_EQ(r.code, 2) << r.err;
    for (const char* way : {"--base-url", "CATALYST_BASE_URL", "base_url", "--config", "--sandbox"})
        EXPECT_NE(r.err.find(way), std::string::npos) << way << ": " << r.err;
    EXPECT_FALSE(fs::exists(path("out.jsonl")));  // no plausible-looking results
    // An empty variable is no target either.
    e["CATALYST_BASE_URL"] = "";
    EXPECT_EQ(run({path("in.jsonl"), "-o", path("out.jsonl")}, e).code, 2);
    // --sandbox and a configured API at once: one target, not two.
    auto both = run({path("in.jsonl"), "-o", path("out.jsonl"), "--sandbox"});
    EXPECT_EQ(both.code, 2) << both.err;
    EXPECT_NE(both.err.find("--sandbox"), std::string::npos) << both.err;
    EXPECT_EQ(sb_->ledger().size(), 0u);
    // A dry run needs no target.
    EXPECT_EQ(run({path("in.jsonl"), "-o", path("dry.jsonl"), "--dry-run"}, e).code, 0);
}

TEST_F(operator_mistakes, output_header_says_what_produced_it_and_records_carry_times) {
    test::spit(path("in.jsonl"), leads(5) + "{bad\n");
    const auto before = now_ms();
    auto r = run({path("in.jsonl"), "-o", path("out.jsonl"), "--campaign", campaign});
    EXPECT_EQ(r.code, 1) << r.err;
    const auto after = now_ms();
    const std::string text = test::slurp(path("out.jsonl"));
    ASSERT_TRUE(looks_like_header(text.substr(0, text.find('\n'))));  // the first line
    auto hs = headers(path("out.jsonl"));
    ASSERT_EQ(hs.size(), 1u);
    const auto& h = hs[0];
    EXPECT_EQ(h.version, std::string(tool_version));
    EXPECT_EQ(h.target.scheme, "https");
    EXPECT_EQ(h.target.host, "127.0.0.1");
    EXPECT_NE(sb_->base_url().find("127.0.0.1:" + std::to_string(h.target.port) + "/"), std::string::npos);
    EXPECT_EQ(h.target.path, "/api/v1/payment-sessions/");
    EXPECT_EQ(h.campaign, campaign);
    EXPECT_EQ(h.key_fingerprint, key_fingerprint("rk_test_123"));
    EXPECT_EQ(h.key_fingerprint.size(), 8u);
    EXPECT_EQ(h.shard.count, 1u);
    EXPECT_GE(h.started_ms, before - 1000);
    EXPECT_LE(h.started_ms, after);
    EXPECT_EQ(text.find("rk_test_123"), std::string::npos);  // never the key
    auto recs = records(path("out.jsonl"));
    ASSERT_EQ(recs.size(), 6u);
    for (const auto& x : recs) {
        ASSERT_TRUE(x.finished_ms) << x.line;
        EXPECT_GE(*x.finished_ms, h.started_ms);
        EXPECT_LE(*x.finished_ms, after);
        if (x.ok) {
            ASSERT_TRUE(x.sent_ms) << x.line;
            EXPECT_LE(*x.sent_ms, *x.finished_ms);
        }
    }
}

TEST_F(operator_mistakes, resume_with_other_settings_is_refused_naming_them) {
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
    EXPECT_NE(c.err.find("campaign (was none, now " + std::string(campaign) + ")"), std::string::npos) << c.err;
    auto s = run({path("in.jsonl"), "-o", path("out.jsonl"), "--shard", "0/2"});
    EXPECT_EQ(s.code, 2) << s.err;
    EXPECT_NE(s.err.find("shard layout (was 0/1, now 0/2)"), std::string::npos) << s.err;
    EXPECT_EQ(sb_->ledger().size(), 5u);
}

TEST_F(operator_mistakes, output_of_an_older_version_without_header_is_refused) {
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

TEST_F(operator_mistakes, one_line_file_without_newline_is_not_truncated) {
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

TEST_F(operator_mistakes, inserted_line_is_refused_and_appended_lines_are_sent) {
    constexpr int n = 1000;
    test::spit(path("in.jsonl"), leads(n));
    ASSERT_EQ(run({path("in.jsonl"), "-o", path("out.jsonl"), "--concurrency", "32", "--progress", "none"}).code, 0);
    ASSERT_EQ(sb_->ledger().size(), static_cast<std::size_t>(n));
    const std::string done = test::slurp(path("out.jsonl"));

    // A new lead inserted at line 600: every later line moved down by one.
    const std::string inserted = lines_of(1, 599) + lead_json(5000) + "\n" + lines_of(600, n);
    test::spit(path("edited.jsonl"), inserted);
    auto r = run({path("edited.jsonl"), "-o", path("out.jsonl")});
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("input line 600 "), std::string::npos) << r.err;
    EXPECT_EQ(sb_->ledger().size(), static_cast<std::size_t>(n));  // nothing sent
    EXPECT_EQ(test::slurp(path("out.jsonl")), done);                 // nothing written
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

TEST_F(operator_mistakes, retry_failed_past_key_retention_is_refused) {
    test::spit(path("in.jsonl"), leads(4));
    fault_params down;
    down.server_error.probability = 1.0;
    sb_->set_faults(down);
    ASSERT_EQ(run({path("in.jsonl"), "-o", path("out.jsonl"), "--max-attempts", "1"}).code, 1);
    sb_->set_faults({});
    // The failures were first sent two days ago (the file says so; as if the operator came back
    // to it after a weekend).
    const auto two_days_ago = now_ms() - 2 * 86'400'000;
    edit_records(path("out.jsonl"), [&](result_record& r) {
        if (r.sent_ms) r.sent_ms = two_days_ago + static_cast<std::int64_t>(r.line);
        return true;
    });
    const std::string before = test::slurp(path("out.jsonl"));
    auto r = run({path("in.jsonl"), "-o", path("out.jsonl"), "--retry-failed"});
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("4 lines would be sent again"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("line 1: first sent 2d"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("--accept-duplicate-risk"), std::string::npos) << r.err;
    EXPECT_EQ(test::slurp(path("out.jsonl")), before);  // no record removed
    EXPECT_EQ(sb_->ledger().size(), 0u);
    // A longer retention (the API's documented one) or the explicit acceptance lets it go.
    EXPECT_EQ(run({path("in.jsonl"), "-o", path("out.jsonl"), "--retry-failed", "--key-retention", "3d"}).code, 0);
    EXPECT_EQ(sb_->ledger().size(), 4u);
    auto recs = records(path("out.jsonl"));
    ASSERT_EQ(recs.size(), 4u);
    for (const auto& x : recs) {
        ASSERT_TRUE(x.sent_ms);
        EXPECT_EQ(*x.sent_ms, two_days_ago + static_cast<std::int64_t>(x.line));  // first sent: kept
    }
}

TEST_F(operator_mistakes, line_in_flight_at_a_crash_past_retention_is_refused) {
    test::spit(path("in.jsonl"), leads(5));
    ASSERT_EQ(run({path("in.jsonl"), "-o", path("out.jsonl")}).code, 0);
    // What a kill -9 leaves: line 3 was sent (its `sending` record is there), its outcome never
    // written. Then the operator reruns three days later.
    const auto long_ago = now_ms() - 3 * 86'400'000;
    edit_records(path("out.jsonl"), [&](result_record& r) {
        if (r.line != 3) return true;
        if (!r.sending) return false;
        r.sent_ms = long_ago;
        return true;
    });
    auto r = run({path("in.jsonl"), "-o", path("out.jsonl")});
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("1 line would be sent again"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("line 3: first sent 3d"), std::string::npos) << r.err;
    EXPECT_EQ(records(path("out.jsonl")).size(), 4u);
    // Accepted: sent again with the same key; this sandbox still has it, so it is a replay.
    auto a = run({path("in.jsonl"), "-o", path("out.jsonl"), "--accept-duplicate-risk"});
    EXPECT_EQ(a.code, 0) << a.err;
    EXPECT_NE(a.err.find("--accept-duplicate-risk"), std::string::npos) << a.err;
    auto recs = records(path("out.jsonl"));
    ASSERT_EQ(recs.size(), 5u);
    for (const auto& x : recs)
        if (x.line == 3) {
            EXPECT_TRUE(x.replayed);
            EXPECT_EQ(x.sent_ms, long_ago);
        }
    EXPECT_EQ(sb_->ledger().size(), 5u);
    // Within the retention, the same crash is resumed without asking.
    edit_records(path("out.jsonl"), [&](result_record& r) { return !(r.line == 2 && !r.sending); });
    auto w = run({path("in.jsonl"), "-o", path("out.jsonl")});
    EXPECT_EQ(w.code, 0) << w.err;
    EXPECT_EQ(records(path("out.jsonl")).size(), 5u);
    EXPECT_EQ(sb_->ledger().size(), 5u);
}

TEST_F(operator_mistakes, csv_header_errors_never_echo_a_cell) {
    // A file without a header row: its first lead is read as the header.
    test::spit(path("in.csv"), "Max,Mustermann,max@example.com,DE\nErika,Musterfrau,erika@example.com,DE\n");
    auto r = run({path("in.csv"), "-o", path("out.jsonl")});
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("column 1"), std::string::npos) << r.err;
    for (const char* cell : {"Max", "Mustermann", "max@example.com"})
        EXPECT_EQ((r.out + r.err).find(cell), std::string::npos) << cell << ": " << r.err;
    // A repeated column is named by the field, not by the cell's spelling.
    test::spit(path("twice.csv"), "first_name,last_name,email,country, Email \nA,B,a@example.com,GB,x\n");
    auto t = run({path("twice.csv"), "-o", path("out2.jsonl")});
    EXPECT_EQ(t.code, 2) << t.err;
    EXPECT_NE(t.err.find("column 5"), std::string::npos) << t.err;
}
// Against a server that forgets keys (the sandbox's `idempotency_ttl`): a resend past the
// retention is refused, never a silent duplicate; accepted, it is a second session, as the
// table in docs/batch.md says. Compiled against a sandbox without `idempotency_ttl`, skipped.
template <class P>
    requires requires(P p) { p.idempotency_ttl = std::chrono::milliseconds(1); }
bool forget_keys_after(P& p, std::chrono::milliseconds ttl) {
    p.idempotency_ttl = ttl;
    return true;
}
template <class P>
bool forget_keys_after(P&, std::chrono::milliseconds) {
    return false;
}

TEST_F(operator_mistakes, server_that_forgets_keys_gets_no_silent_duplicate) {
    sandbox_params sp;
    sp.threads = 2;
    if (!forget_keys_after(sp, 1000ms)) GTEST_SKIP() << "this sandbox cannot forget keys (no idempotency_ttl)";
    sb_->stop();
    sb_ = std::make_unique<sandbox>(sp);
    sb_->start();
    test::spit(path("ca.pem"), sb_->ca_pem());
    test::spit(path("in.jsonl"), leads(5));
    ASSERT_EQ(run({path("in.jsonl"), "-o", path("out.jsonl")}).code, 0);
    ASSERT_EQ(sb_->ledger().size(), 5u);
    // A crash left line 3 in flight; the operator comes back after the server forgot its key.
    edit_records(path("out.jsonl"), [&](result_record& r) { return !(r.line == 3 && !r.sending); });
    std::this_thread::sleep_for(1500ms);
    // The operator's retention matches the server's: the resend is refused.
    auto r = run({path("in.jsonl"), "-o", path("out.jsonl"), "--key-retention", "1s"});
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("line 3: first sent"), std::string::npos) << r.err;
    EXPECT_EQ(sb_->ledger().size(), 5u);  // no second session
    // Accepted: the server has forgotten the key and creates a second session, which the
    // record does not call a replay.
    auto a = run({path("in.jsonl"), "-o", path("out.jsonl"), "--key-retention", "1s", "--accept-duplicate-risk"});
    EXPECT_EQ(a.code, 0) << a.err;
    EXPECT_EQ(sb_->ledger().size(), 6u);
    for (const auto& x : records(path("out.jsonl")))
        if (x.line == 3) {
            EXPECT_FALSE(x.replayed);
        }
}

}  // namespace
}  // namespace catalyst::batch
