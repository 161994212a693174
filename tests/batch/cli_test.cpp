// catalyst-batch's command line as a user types it: --help, --version, --flag=value, a bad
// boolean, the CA by --cacert as well as CATALYST_CA_FILE, and no target at all (a usage
// error naming the ways to give one).
#include "cli/version.hpp"
#include "fixture.hpp"

#include <gtest/gtest.h>

namespace catalyst::batch {
namespace {

using batch_cli = batch_e2e;

TEST_F(batch_cli, help_names_cacert_the_environment_and_the_exit_codes) {
    auto r = run({"--help"});
    ASSERT_EQ(r.code, 0) << r.err;
    for (const char* part :
         {"--cacert", "CATALYST_CA_FILE", "--config", "--sandbox", "--key-retention",
          "--deadline,--deadline-ms", "Exit codes:", "  3  aborted"})
        EXPECT_NE(r.out.find(part), std::string::npos) << "--help lacks " << part;
}

TEST_F(batch_cli, version_is_the_catalyst_version) {
    auto r = run({"--version"});
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(r.out, "catalyst-batch " + std::string(cli::version()) + "\n");
}

TEST_F(batch_cli, dry_run_false_sends_and_dry_run_maybe_is_a_usage_error) {
    test::spit(path("in.jsonl"), leads(3));
    auto maybe = run({path("in.jsonl"), "--dry-run=maybe", "-o", path("maybe.jsonl")});
    EXPECT_EQ(maybe.code, 2);
    EXPECT_NE(maybe.err.find("--dry-run: expected true or false"), std::string::npos) << maybe.err;
    const auto before = sb_->stats().created;
    auto sent =
        run({path("in.jsonl"), "--dry-run=false", "--output=" + path("out.jsonl"),
             "--concurrency=2", "--deadline=30s", "--flush-interval=50ms", "--progress=none"});
    ASSERT_EQ(sent.code, 0) << sent.err;
    EXPECT_EQ(sb_->stats().created - before, 3u);  // --dry-run=false is not read as --dry-run
}

TEST_F(batch_cli, the_ca_comes_from_cacert_as_from_the_environment) {
    test::spit(path("in.jsonl"), leads(2));
    auto no_ca = run({path("in.jsonl"), "-o", path("a.jsonl"), "--progress", "none"},
                     {{"CATALYST_BASE_URL", sb_->base_url()}, {"CATALYST_API_KEY", "rk_test_123"}});
    EXPECT_EQ(no_ca.code, 1) << "the sandbox's certificate was trusted without its CA: "
                             << no_ca.err;
    auto flag = run({path("in.jsonl"), "-o", path("b.jsonl"), "--progress", "none", "--cacert",
                     path("ca.pem"), "--base-url=" + sb_->base_url()},
                    {{"CATALYST_API_KEY", "rk_test_123"}});
    EXPECT_EQ(flag.code, 0) << flag.err;
    auto bad = run({path("in.jsonl"), "--cacert"});
    EXPECT_EQ(bad.code, 2);
    EXPECT_NE(bad.err.find("--cacert: missing value"), std::string::npos) << bad.err;
}

TEST_F(batch_cli, no_target_is_a_usage_error_naming_the_three_ways) {
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

}  // namespace
}  // namespace catalyst::batch
