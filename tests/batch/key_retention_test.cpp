// Resending a line whose idempotency key the API may have forgotten: a line first sent longer
// ago than the key retention (--key-retention, the API's documented 24 h by default) is
// refused before anything is sent, naming the line and how long ago it was first sent, unless
// the operator accepts the risk of a duplicate (--accept-duplicate-risk) or says the
// retention is longer. Within the retention, a resend is a replay. Against a server that does
// forget keys, no duplicate is ever silent.
#include "fixture.hpp"

#include "batch/timestamp.hpp"

#include <chrono>
#include <sstream>
#include <string>
#include <thread>

namespace catalyst::batch {
namespace {

class key_retention : public batch_e2e {
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

TEST_F(key_retention, retry_failed_past_key_retention_is_refused) {
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
    EXPECT_EQ(
        run({path("in.jsonl"), "-o", path("out.jsonl"), "--retry-failed", "--key-retention", "3d"})
            .code,
        0);
    EXPECT_EQ(sb_->ledger().size(), 4u);
    auto recs = records(path("out.jsonl"));
    ASSERT_EQ(recs.size(), 4u);
    for (const auto& x : recs) {
        ASSERT_TRUE(x.sent_ms);
        EXPECT_EQ(*x.sent_ms,
                  two_days_ago + static_cast<std::int64_t>(x.line));  // first sent: kept
    }
}

TEST_F(key_retention, line_in_flight_at_a_crash_past_retention_is_refused) {
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

// Against a server that forgets keys (the sandbox's `idempotency_ttl`): a resend past the
// retention is refused, never a silent duplicate; accepted, it is a second session, as the
// table in docs/batch.md says. Compiled against a sandbox without `idempotency_ttl`, skipped.
template <class P>
requires requires(P p) {
    p.idempotency_ttl = std::chrono::milliseconds(1);
}
bool forget_keys_after(P& p, std::chrono::milliseconds ttl) {
    p.idempotency_ttl = ttl;
    return true;
}
template <class P>
bool forget_keys_after(P&, std::chrono::milliseconds) {
    return false;
}

TEST_F(key_retention, server_that_forgets_keys_gets_no_silent_duplicate) {
    sandbox_params sp;
    sp.threads = 2;
    if (!forget_keys_after(sp, 1000ms))
        GTEST_SKIP() << "this sandbox cannot forget keys (no idempotency_ttl)";
    sb_->stop();
    sb_ = std::make_unique<sandbox>(sp);
    sb_->start();
    test::spit(path("ca.pem"), sb_->ca_pem());
    test::spit(path("in.jsonl"), leads(5));
    ASSERT_EQ(run({path("in.jsonl"), "-o", path("out.jsonl")}).code, 0);
    ASSERT_EQ(sb_->ledger().size(), 5u);
    // A crash left line 3 in flight; the operator comes back after the server forgot its key.
    edit_records(path("out.jsonl"), [&](result_record& r) { return !(r.line == 3 && !r.sending); });
    // Time must pass, not an event: the sandbox forgets a key 1 s after storing it, and the
    // tool measures "first sent" against the wall clock.
    std::this_thread::sleep_for(1500ms);
    // The operator's retention matches the server's: the resend is refused.
    auto r = run({path("in.jsonl"), "-o", path("out.jsonl"), "--key-retention", "1s"});
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("line 3: first sent"), std::string::npos) << r.err;
    EXPECT_EQ(sb_->ledger().size(), 5u);  // no second session
    // Accepted: the server has forgotten the key and creates a second session, which the
    // record does not call a replay.
    auto a = run({path("in.jsonl"), "-o", path("out.jsonl"), "--key-retention", "1s",
                  "--accept-duplicate-risk"});
    EXPECT_EQ(a.code, 0) << a.err;
    EXPECT_EQ(sb_->ledger().size(), 6u);
    for (const auto& x : records(path("out.jsonl")))
        if (x.line == 3) {
            EXPECT_FALSE(x.replayed);
        }
}

}  // namespace
}  // namespace catalyst::batch
