// End to end: the real catalyst-batch binary against a sandbox started here, with faults on.
#include "fixture.hpp"

#include <random>

namespace catalyst::batch {
namespace {

TEST_F(batch_e2e, creates_one_session_per_line_and_rerun_creates_none) {
    test::spit(path("in.jsonl"), leads(50) + lead_json(7) + "\n");  // line 51 repeats line 7
    auto r = run({path("in.jsonl"), "-o", path("out.jsonl"), "--concurrency", "8"});
    ASSERT_EQ(r.code, 0) << r.err;
    auto recs = records(path("out.jsonl"));
    ASSERT_EQ(recs.size(), 51u);
    std::map<std::uint64_t, result_record> by_line;
    for (const auto& x : recs) {
        EXPECT_TRUE(x.ok) << x.line << " " << x.error << " " << x.message;
        EXPECT_TRUE(by_line.emplace(x.line, x).second) << "line twice: " << x.line;
        EXPECT_EQ(x.key.size(), 32u);
        EXPECT_TRUE(x.session_token.starts_with("ps_"));
    }
    // The same lead twice in one file is one session: the second is the replay.
    EXPECT_EQ(by_line.at(7).session_token, by_line.at(51).session_token);
    EXPECT_EQ(by_line.at(7).key, by_line.at(51).key);
    EXPECT_TRUE(by_line.at(7).replayed != by_line.at(51).replayed);
    EXPECT_EQ(sb_->ledger().size(), 50u);
    expect_ledger_consistent(recs);
    EXPECT_NE(r.err.find("created 50"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("p99"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("adaptive rate: "), std::string::npos)
        << r.err;  // --rate auto, the default

    auto again = run({path("in.jsonl"), "-o", path("out.jsonl")});
    EXPECT_EQ(again.code, 0) << again.err;
    EXPECT_EQ(records(path("out.jsonl")).size(), 51u);
    EXPECT_EQ(sb_->ledger().size(), 50u);
    EXPECT_NE(again.err.find("51 lines already done"), std::string::npos) << again.err;

    // The same output with another input is refused, not silently mixed.
    test::spit(path("other.jsonl"), leads(60).substr(lead_json(1).size() + 1));
    auto other = run({path("other.jsonl"), "-o", path("out.jsonl")});
    EXPECT_EQ(other.code, 2) << other.err;
    EXPECT_NE(other.err.find("another input"), std::string::npos) << other.err;
    EXPECT_EQ(sb_->ledger().size(), 50u);
}

TEST_F(batch_e2e, kill_9_at_random_moments_then_rerun_is_exactly_once) {
    // Paced so that a run lasts about a second: the kills land mid-run, at random points.
    constexpr int n = 1500;
    test::spit(path("in.jsonl"), leads(n));
    fault_params f;
    f.latency.probability = 0.3;
    f.latency_min = 1ms;
    f.latency_max = 15ms;
    f.server_error.probability = 0.05;
    f.close_after_create.probability = 0.05;
    f.reset_mid_response.probability = 0.02;
    sb_->set_faults(f);
    std::mt19937 rng(12345);
    std::uniform_int_distribution<int> delay(0, 150);
    auto lines_in = [&](const std::string& file) { return outcomes_in(file); };
    int kills = 0;
    for (int round = 0; round < 12; ++round) {
        const int before = lines_in(path("out.jsonl"));
        auto c = test::spawn(exe,
                             {path("in.jsonl"), "-o", path("out.jsonl"), "--concurrency", "16",
                              "--flush-ms", "20", "--rate", "1500"},
                             env(), dir_.string());
        // Kill once this run has written something (however slow the build, ASan included),
        // then after a random extra moment: the kill lands while lines are in flight.
        int status = 0;
        bool exited = false;
        for (int i = 0; i < 3000 && lines_in(path("out.jsonl")) == before; ++i) {
            if (::waitpid(c.pid, &status, WNOHANG) == c.pid) {
                exited = true;
                break;
            }
            std::this_thread::sleep_for(10ms);
        }
        if (exited) {
            ASSERT_TRUE(WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 1))
                << test::slurp(c.err_path);
            continue;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(delay(rng)));
        ::kill(c.pid, SIGKILL);
        const int code = test::wait_for(c);
        if (code == 128 + SIGKILL) {
            const int done = lines_in(path("out.jsonl"));
            if (done > 0 && done < n) ++kills;  // killed mid-run, with work on both sides
        } else {
            ASSERT_TRUE(code == 0 || code == 1) << code << test::slurp(c.err_path);
        }
    }
    EXPECT_GT(kills, 0);
    std::printf("kills that landed mid-run: %d of 12\n", kills);
    test::result last;
    for (int i = 0; i < 3; ++i) {
        last = run({path("in.jsonl"), "-o", path("out.jsonl"), "--concurrency", "16"});
        if (last.code == 0 || last.code == 1) break;
    }
    ASSERT_TRUE(last.code == 0 || last.code == 1) << last.err;
    auto recs = records(path("out.jsonl"));
    std::vector<int> seen(n + 1, 0);
    for (const auto& r : recs) {
        ASSERT_GE(r.line, 1u);
        ASSERT_LE(r.line, static_cast<std::uint64_t>(n));
        ++seen[r.line];
    }
    for (int i = 1; i <= n; ++i) EXPECT_EQ(seen[static_cast<std::size_t>(i)], 1) << "line " << i;
    expect_ledger_consistent(recs);
    // Distinct leads, distinct sessions: no two lines share a token.
    std::set<std::string> tokens;
    for (const auto& r : recs)
        if (r.ok) {
            EXPECT_TRUE(tokens.insert(r.session_token).second) << r.line;
        }
    EXPECT_LE(sb_->ledger().size(), static_cast<std::size_t>(n));
    // Faults are a few percent and retried: failures stay rare.
    std::map<std::string, int> failures;
    for (const auto& r : recs)
        if (!r.ok) ++failures[r.error + ": " + r.message];
    int failed = 0;
    std::string why;
    for (const auto& [reason, count] : failures) {
        failed += count;
        why += reason + " x" + std::to_string(count) + "\n";
    }
    EXPECT_LE(failed, n / 10) << why;
    // Redone lines (lost in flight, or answered by a closed connection) came back as replays.
    EXPECT_TRUE(
        std::any_of(recs.begin(), recs.end(), [](const result_record& r) { return r.replayed; }));
    // Personal data never reaches the tool's own output streams.
    EXPECT_EQ(last.err.find("@example.com"), std::string::npos);
    EXPECT_EQ(last.err.find("Firstname"), std::string::npos);
    EXPECT_EQ(last.err.find("rk_test_123"), std::string::npos);
}

TEST_F(batch_e2e, empty_input_and_stdin) {
    test::spit(path("empty.jsonl"), "");
    auto r = run({path("empty.jsonl"), "-o", path("out.jsonl")});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(records(path("out.jsonl")).size(), 0u);
    EXPECT_EQ(headers(path("out.jsonl")).size(), 1u);
    test::spit(path("in.jsonl"), leads(5));
    auto s = run({"-", "--campaign", campaign}, {}, path("in.jsonl"));  // results on stdout
    EXPECT_EQ(s.code, 0) << s.err;
    std::istringstream lines(s.out);
    std::string line;
    int n = 0;
    int header_lines = 0;
    while (std::getline(lines, line)) {
        if (looks_like_header(line)) {
            EXPECT_TRUE(parse_header(line)) << line;
            ++header_lines;
            continue;
        }
        auto rec = parse_record(line);
        ASSERT_TRUE(rec) << line;
        if (rec->sending) continue;
        EXPECT_TRUE(rec->ok);
        ++n;
    }
    EXPECT_EQ(n, 5);
    EXPECT_EQ(header_lines, 1);
}

TEST_F(batch_e2e, exit_codes_and_secrets) {
    test::spit(path("in.jsonl"), leads(2));
    auto k = run({path("in.jsonl"), "--api-key", "rk_secret_on_argv_999"});
    EXPECT_EQ(k.code, 2);
    EXPECT_NE(k.err.find("CATALYST_API_KEY"), std::string::npos) << k.err;
    EXPECT_EQ((k.out + k.err).find("rk_secret_on_argv_999"), std::string::npos);
    EXPECT_EQ(run({}).code, 2);
    EXPECT_EQ(run({path("missing.jsonl")}).code, 2);
    EXPECT_EQ(run({path("in.jsonl"), "--concurrency", "none"}).code, 2);
    EXPECT_EQ(run({path("in.jsonl"), "--campaign", "not-a-uuid"}).code, 2);
    // A key from a file works and is never printed, even when the server refuses it.
    test::spit(path("key"), "rk_wrong_key_abcdef\n");
    auto env_no_key = env();
    env_no_key.erase("CATALYST_API_KEY");
    auto w = run({path("in.jsonl"), "-o", path("out.jsonl"), "--api-key-file", path("key"),
                  "--max-attempts", "1"},
                 env_no_key);
    EXPECT_EQ(w.code, 1) << w.err;
    EXPECT_NE(w.err.find("unauthorized"), std::string::npos) << w.err;
    EXPECT_EQ((w.out + w.err + test::slurp(path("out.jsonl"))).find("rk_wrong_key_abcdef"),
              std::string::npos);
    // No key at all against a configured API: usage error.
    EXPECT_EQ(run({path("in.jsonl"), "-o", path("out3.jsonl")}, env_no_key).code, 2);
}

TEST_F(batch_e2e, shards_split_the_input_without_overlap) {
    constexpr int n = 90;
    test::spit(path("in.jsonl"), leads(n));
    std::vector<int> seen(n + 1, 0);
    for (int i = 0; i < 3; ++i) {
        const auto out = path("out-" + std::to_string(i) + ".jsonl");
        test::result r;
        if (i == 2) {
            auto e = env();
            e["JOB_COMPLETION_INDEX"] = "2";
            r = run({path("in.jsonl"), "-o", out, "--shards", "3", "--campaign", campaign}, e);
        } else {
            r = run({path("in.jsonl"), "-o", out, "--shard", std::to_string(i) + "/3", "--campaign",
                     campaign});
        }
        ASSERT_EQ(r.code, 0) << r.err;
        auto recs = records(out);
        EXPECT_GT(recs.size(), 0u);
        for (const auto& x : recs) ++seen[x.line];
    }
    for (int i = 1; i <= n; ++i) EXPECT_EQ(seen[static_cast<std::size_t>(i)], 1) << i;
    EXPECT_EQ(sb_->ledger().size(), static_cast<std::size_t>(n));
}

// The progress line and the summary show the client's allowed rate in adaptive mode (--rate
// auto, the default), from its metrics gauge; not with --rate N.
TEST_F(batch_e2e, progress_and_summary_show_the_allowed_rate_in_adaptive_mode) {
    test::spit(path("in.jsonl"), leads(20));
    auto r = run({path("in.jsonl"), "-o", path("auto.jsonl"), "--progress", "plain"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find(", allowed "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("adaptive rate: "), std::string::npos) << r.err;
    auto paced =
        run({path("in.jsonl"), "-o", path("paced.jsonl"), "--progress", "plain", "--rate", "1000"});
    ASSERT_EQ(paced.code, 0) << paced.err;
    EXPECT_EQ(paced.err.find("allowed"), std::string::npos) << paced.err;
    EXPECT_EQ(paced.err.find("adaptive rate"), std::string::npos) << paced.err;
}

TEST_F(batch_e2e, sigint_finishes_in_flight_and_exits_3_then_resumes) {
    constexpr int n = 300;
    test::spit(path("in.jsonl"), leads(n));
    auto c = test::spawn(
        exe, {path("in.jsonl"), "-o", path("out.jsonl"), "--rate", "200", "--concurrency", "4"},
        env(), dir_.string());
    // Signal once results flow (the handler is installed by then, however slow the build).
    for (int i = 0; i < 3000 && outcomes_in(path("out.jsonl")) == 0; ++i)
        std::this_thread::sleep_for(10ms);
    ::kill(c.pid, SIGINT);
    const int code = test::wait_for(c);
    ASSERT_EQ(code, 3) << test::slurp(c.err_path);
    auto partial = records(path("out.jsonl"));
    EXPECT_LT(partial.size(), static_cast<std::size_t>(n));
    // Everything sent was finished and written: the ledger holds exactly the written lines.
    EXPECT_EQ(sb_->ledger().size(), partial.size());
    auto r = run({path("in.jsonl"), "-o", path("out.jsonl")});
    ASSERT_EQ(r.code, 0) << r.err;
    auto recs = records(path("out.jsonl"));
    EXPECT_EQ(recs.size(), static_cast<std::size_t>(n));
    std::set<std::uint64_t> lines;
    for (const auto& x : recs) EXPECT_TRUE(lines.insert(x.line).second);
    EXPECT_EQ(sb_->ledger().size(), static_cast<std::size_t>(n));
}

TEST_F(batch_e2e, retry_failed_resends_failed_lines_and_keeps_one_record_each) {
    test::spit(path("in.jsonl"), leads(20) + "{bad\n");
    // The API answers 503 to everything: every line fails, the bad one with validation_failed.
    fault_params down;
    down.server_error.probability = 1.0;
    sb_->set_faults(down);
    auto r = run({path("in.jsonl"), "-o", path("out.jsonl"), "--max-attempts", "1"});
    EXPECT_EQ(r.code, 1) << r.err;
    auto recs = records(path("out.jsonl"));
    ASSERT_EQ(recs.size(), 21u);
    for (const auto& x : recs) EXPECT_FALSE(x.ok);
    sb_->set_faults({});
    // A plain rerun does not resend them: errors are outcomes.
    EXPECT_EQ(run({path("in.jsonl"), "-o", path("out.jsonl")}).code, 1);
    EXPECT_EQ(sb_->ledger().size(), 0u);
    auto again = run({path("in.jsonl"), "-o", path("out.jsonl"), "--retry-failed"});
    EXPECT_EQ(again.code, 1) << again.err;  // the bad line still fails
    EXPECT_NE(again.err.find("20 error records removed"), std::string::npos) << again.err;
    recs = records(path("out.jsonl"));
    ASSERT_EQ(recs.size(), 21u);
    std::set<std::uint64_t> lines;
    int ok = 0;
    for (const auto& x : recs) {
        EXPECT_TRUE(lines.insert(x.line).second) << x.line;
        ok += x.ok;
    }
    EXPECT_EQ(ok, 20);
    EXPECT_EQ(sb_->ledger().size(), 20u);
    EXPECT_FALSE(fs::exists(path("out.jsonl.retry-tmp")));
}

TEST_F(batch_e2e, dry_run_sends_nothing) {
    test::spit(path("in.jsonl"), leads(10) + "{bad\n");
    auto r = run({path("in.jsonl"), "-o", path("out.jsonl"), "--dry-run"});
    EXPECT_EQ(r.code, 1) << r.err;
    auto recs = records(path("out.jsonl"));
    ASSERT_EQ(recs.size(), 11u);
    for (const auto& x : recs)
        if (x.ok) {
            EXPECT_TRUE(x.dry_run);
        }
    EXPECT_EQ(sb_->ledger().size(), 0u);
    // A real run refuses to mix into a dry run's file.
    EXPECT_EQ(run({path("in.jsonl"), "-o", path("out.jsonl")}).code, 2);
}

TEST_F(batch_e2e, embedded_sandbox_only_with_the_sandbox_flag) {
    auto r = run({std::string(CATALYST_SOURCE_DIR) + "/config/leads-sample.jsonl", "-o",
                  path("out.jsonl"), "--sandbox"},
                 {{"CATALYST_BATCH_UNUSED", "1"}});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("embedded sandbox"), std::string::npos) << r.err;
    EXPECT_GT(records(path("out.jsonl")).size(), 0u);
    auto hs = headers(path("out.jsonl"));
    ASSERT_EQ(hs.size(), 1u);
    EXPECT_TRUE(hs[0].target.embedded_sandbox);
    auto c = run({std::string(CATALYST_SOURCE_DIR) + "/config/leads-sample.csv", "-o",
                  path("out-csv.jsonl"), "--sandbox"},
                 {{"CATALYST_BATCH_UNUSED", "1"}});
    EXPECT_EQ(c.code, 0) << c.err;
}

}  // namespace
}  // namespace catalyst::batch
