// catalyst-batch with its default rate (auto) against an API whose global limit it does not
// know and which changes under it: the sandbox's scheduled limit, 400/s for 15 s, 200/s for
// 15 s, then 400/s, answering 429 with Retry-After above it. Read through the output file, the
// sandbox's ledger and the sandbox's own counts of what it accepted and throttled: count-based
// properties over the whole run, no timing. Real time (about 45 s): not under sanitizers, where
// the client cannot keep up with the limit and the counts would mean nothing.
#include "fixture.hpp"
#include "support/sanitizers.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace catalyst::batch {
namespace {

constexpr int lines = 12'000;
constexpr const char* schedule = "400@15s,200@15s,400";
constexpr double highest_limit = 400;

class adaptive_rate_batch : public batch_e2e {
protected:
    // The fixture's sandbox, replaced by one with the scheduled limit: its schedule starts
    // here, just before the tool does.
    void start_limited_sandbox() {
        sb_->stop();
        sandbox_params sp;
        sp.threads = 2;
        sp.rate_limit_schedule = parse_rate_limit_schedule(schedule);
        sb_ = std::make_unique<sandbox>(sp);
        sb_->start();
        test::spit(path("ca.pem"), sb_->ca_pem());
    }

    void print_seconds() const {
        for (const auto& x : sb_->stats().global_rate_limit.seconds)
            std::printf("rate-batch second %3llu limit %4.0f accepted %4llu throttled %4llu\n",
                        static_cast<unsigned long long>(x.second), x.limit,
                        static_cast<unsigned long long>(x.accepted), static_cast<unsigned long long>(x.throttled));
        std::fflush(stdout);
    }
};

// The rate the summary says the client allowed itself at the end; -1 when it says none.
double allowed_at_end(const std::string& err) {
    const std::string tag = "adaptive rate: ";
    const auto at = err.find(tag);
    if (at == std::string::npos) return -1;
    return std::strtod(err.c_str() + at + tag.size(), nullptr);
}

TEST_F(adaptive_rate_batch, twelve_thousand_lines_ride_a_limit_that_halves_then_doubles) {
    if (catalyst::test::under_sanitizer) GTEST_SKIP() << "real-time rates: not under sanitizers";
    test::spit(path("in.jsonl"), leads(lines));
    start_limited_sandbox();
    const auto r = run({path("in.jsonl"), "-o", path("out.jsonl"), "--concurrency", "256", "--max-attempts", "20"});
    print_seconds();
    const auto limit = sb_->stats().global_rate_limit;
    const std::uint64_t attempts = limit.accepted + limit.throttled;
    std::printf("rate-batch exit %d, accepted %llu, throttled %llu (%.2f %% of attempts), allowed at the end %.0f/s\n",
                r.code, static_cast<unsigned long long>(limit.accepted),
                static_cast<unsigned long long>(limit.throttled),
                attempts ? 100.0 * static_cast<double>(limit.throttled) / static_cast<double>(attempts) : 0.0,
                allowed_at_end(r.err));
    std::fflush(stdout);

    EXPECT_EQ(r.code, 0) << r.err;

    // Every line ok, exactly once.
    const auto recs = records(path("out.jsonl"));
    std::vector<int> seen(lines + 1, 0);
    std::uint64_t not_ok = 0;
    for (const auto& x : recs) {
        ASSERT_TRUE(x.line >= 1 && x.line <= static_cast<std::uint64_t>(lines)) << "line " << x.line;
        ++seen[x.line];
        if (!x.ok) ++not_ok;
    }
    EXPECT_EQ(not_ok, 0u) << "lines that failed";
    int not_once = 0, first_not_once = 0;
    for (int i = lines; i >= 1; --i)
        if (seen[i] != 1) {
            ++not_once;
            first_not_once = i;
        }
    EXPECT_EQ(not_once, 0) << "lines without exactly one record, the first: " << first_not_once;

    // The sandbox created exactly one session per line: no duplicates.
    EXPECT_EQ(sb_->stats().created, static_cast<std::uint64_t>(lines));
    EXPECT_EQ(sb_->ledger().size(), static_cast<std::size_t>(lines));
    expect_ledger_consistent(recs);

    // 429s are at most 3 % of all attempts over the whole run (the sandbox's counts).
    EXPECT_LE(static_cast<double>(limit.throttled), 0.03 * static_cast<double>(attempts)) << "429s";

    // The summary reports the rate the client allowed itself: a rate near the limit, not 0
    // and not the slow start's unchecked doubling (the curve stays within 2 x what was sent).
    const double allowed = allowed_at_end(r.err);
    EXPECT_GT(allowed, 0) << r.err;
    EXPECT_LE(allowed, 2.5 * highest_limit) << r.err;
}

}  // namespace
}  // namespace catalyst::batch
