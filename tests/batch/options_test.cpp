#include "batch/options.hpp"

#include <gtest/gtest.h>

#include <map>

namespace catalyst::batch {
namespace {

options parse(std::vector<std::string_view> args, std::map<std::string, std::string> env = {}) {
    return parse_options(args, [env](const char* name) -> const char* {
        auto it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
    });
}

TEST(options, basics) {
    auto o = parse({"leads.csv", "--concurrency", "8", "--rate=50/s", "-o", "out.jsonl", "--deadline-ms", "900",
                    "--max-attempts", "2", "--campaign", "c"});
    EXPECT_EQ(o.input, "leads.csv");
    EXPECT_EQ(o.format, input_format::csv);
    EXPECT_EQ(o.concurrency, 8u);
    EXPECT_EQ(o.rate, 50.0);
    EXPECT_FALSE(o.rate_auto);
    EXPECT_EQ(o.output, "out.jsonl");
    EXPECT_EQ(o.deadline, std::chrono::milliseconds(900));
    EXPECT_EQ(o.max_attempts, 2u);
    EXPECT_EQ(o.campaign, "c");
    EXPECT_EQ(parse({"-"}).format, input_format::jsonl);
    EXPECT_EQ(parse({"x.txt", "--format", "csv"}).format, input_format::csv);
}

TEST(options, rate_is_auto_by_default_and_takes_auto_max_or_a_number) {
    const auto d = parse({"a.jsonl"});
    EXPECT_TRUE(d.rate_auto);
    EXPECT_FALSE(d.rate_given);
    EXPECT_EQ(d.rate_auto_max, 0);
    const auto a = parse({"a.jsonl", "--rate", "auto"});
    EXPECT_TRUE(a.rate_auto);
    EXPECT_TRUE(a.rate_given);
    EXPECT_EQ(a.rate_auto_max, 0);
    for (const char* v : {"auto:500", "auto:500/s"}) {
        const auto m = parse({"a.jsonl", "--rate", v});
        EXPECT_TRUE(m.rate_auto) << v;
        EXPECT_EQ(m.rate_auto_max, 500) << v;
    }
    const auto n = parse({"a.jsonl", "--rate", "0"});
    EXPECT_FALSE(n.rate_auto);
    EXPECT_EQ(n.rate, 0);
    // The last --rate wins, whole: a number after auto:MAX leaves no ceiling behind.
    const auto last = parse({"a.jsonl", "--rate", "auto:5", "--rate", "auto"});
    EXPECT_EQ(last.rate_auto_max, 0);
    for (const char* bad : {"auto:", "auto:0", "auto:x", "auto:-5", "automatic", "fast", "auto:1e99"})
        EXPECT_THROW(parse({"a.jsonl", "--rate", bad}), usage_error) << bad;
}

TEST(options, the_rate_choice_sets_the_clients_mode) {
    const auto with = [](std::vector<std::string_view> args, client_params p) {
        apply_rate(parse(args), p);
        return p;
    };
    // By default: adaptive, the configured bounds kept.
    client_params base;
    base.rate.max_rate = 700;
    auto p = with({"a.jsonl"}, base);
    EXPECT_EQ(p.rate.mode, rate_mode::adaptive);
    EXPECT_EQ(p.rate.max_rate, 700);
    // A fixed rate in the configuration is a known limit: kept, unless --rate auto says otherwise.
    client_params fixed;
    fixed.rate.rate_per_second = 250;
    EXPECT_EQ(with({"a.jsonl"}, fixed).rate.mode, rate_mode::fixed);
    EXPECT_EQ(with({"a.jsonl", "--rate", "auto"}, fixed).rate.mode, rate_mode::adaptive);
    // --rate N: the tool paces lines itself, the client as configured.
    EXPECT_EQ(with({"a.jsonl", "--rate", "50"}, client_params{}).rate.mode, rate_mode::fixed);
    // auto:MAX below the initial rate: the start comes down to it, and the result is valid.
    p = with({"a.jsonl", "--rate", "auto:4"}, client_params{});
    EXPECT_EQ(p.rate.max_rate, 4);
    EXPECT_EQ(p.rate.initial_rate, 4);
    EXPECT_NO_THROW(check(p));
    p = with({"a.jsonl", "--rate", "auto:0.5"}, client_params{});
    EXPECT_EQ(p.rate.min_rate, 0.5);
    EXPECT_NO_THROW(check(p));
}

TEST(options, api_key_on_the_command_line_is_refused_without_echo) {
    for (auto args : {std::vector<std::string_view>{"x.jsonl", "--api-key", "rk_secret_value_1234"},
                      std::vector<std::string_view>{"x.jsonl", "--api-key=rk_secret_value_1234"}}) {
        try {
            parse(args);
            ADD_FAILURE() << "accepted";
        } catch (const usage_error& e) {
            const std::string msg = e.what();
            EXPECT_NE(msg.find("CATALYST_API_KEY"), std::string::npos);
            EXPECT_NE(msg.find("--api-key-file"), std::string::npos);
            EXPECT_EQ(msg.find("rk_secret"), std::string::npos);
        }
    }
}

TEST(options, usage_errors) {
    EXPECT_THROW(parse({}), usage_error);
    EXPECT_THROW(parse({"a.jsonl", "b.jsonl"}), usage_error);
    EXPECT_THROW(parse({"leads.txt"}), usage_error);
    EXPECT_THROW(parse({"a.jsonl", "--concurrency", "0"}), usage_error);
    EXPECT_THROW(parse({"a.jsonl", "--concurrency", "x"}), usage_error);
    EXPECT_THROW(parse({"a.jsonl", "--shard", "2/2"}), usage_error);
    EXPECT_THROW(parse({"a.jsonl", "--frobnicate"}), usage_error);
    EXPECT_THROW(parse({"a.jsonl", "--rate"}), usage_error);
    EXPECT_TRUE(parse({"--help"}).help);
}

TEST(options, target_and_retention_flags) {
    auto o = parse({"a.jsonl"});
    EXPECT_FALSE(o.sandbox);  // the target is never implied
    EXPECT_EQ(o.key_retention, std::chrono::hours(24));
    EXPECT_FALSE(o.accept_duplicate_risk);
    o = parse({"a.jsonl", "--sandbox", "--key-retention", "15m", "--accept-duplicate-risk", "--accept-target-change",
               "--accept-key-change"});
    EXPECT_TRUE(o.sandbox);
    EXPECT_EQ(o.key_retention, std::chrono::minutes(15));
    EXPECT_TRUE(o.accept_duplicate_risk);
    EXPECT_TRUE(o.accept_target_change);
    EXPECT_TRUE(o.accept_key_change);
    EXPECT_EQ(parse({"a.jsonl", "--key-retention=30s"}).key_retention, std::chrono::seconds(30));
    EXPECT_EQ(parse({"a.jsonl", "--key-retention", "7d"}).key_retention, std::chrono::hours(7 * 24));
    EXPECT_EQ(parse({"a.jsonl", "--key-retention", "1500ms"}).key_retention, std::chrono::milliseconds(1500));
    EXPECT_EQ(parse({"a.jsonl", "--key-retention", "1.5h"}).key_retention, std::chrono::minutes(90));
    for (const char* bad : {"24", "0h", "-1h", "h", "24hours", ""})
        EXPECT_THROW(parse({"a.jsonl", "--key-retention", bad}), usage_error) << bad;
}

TEST(options, shards_from_indexed_job) {
    auto o = parse({"a.jsonl", "--shards", "4"}, {{"JOB_COMPLETION_INDEX", "3"}});
    EXPECT_EQ(o.shard.index, 3u);
    EXPECT_EQ(o.shard.count, 4u);
    o = parse({"a.jsonl"}, {{"JOB_COMPLETION_INDEX", "1"}, {"CATALYST_BATCH_SHARDS", "2"}});
    EXPECT_EQ(o.shard.index, 1u);
    EXPECT_EQ(o.shard.count, 2u);
    EXPECT_THROW(parse({"a.jsonl", "--shards", "4"}), usage_error);
    EXPECT_THROW(parse({"a.jsonl", "--shards", "4"}, {{"JOB_COMPLETION_INDEX", "4"}}), usage_error);
    EXPECT_THROW(parse({"a.jsonl", "--shards", "4", "--shard", "0/4"}, {{"JOB_COMPLETION_INDEX", "0"}}),
                 usage_error);
    o = parse({"a.jsonl", "--shard", "1/3"});
    EXPECT_EQ(o.shard.index, 1u);
    EXPECT_EQ(o.shard.count, 3u);
}

TEST(options, help_names_every_flag_we_parse) {
    const auto h = help_text();
    for (const char* f : {"--input", "--format", "--output", "--campaign", "--max-line-bytes", "--dry-run",
                          "--concurrency", "--rate", "--deadline-ms", "--max-attempts", "--config", "--base-url",
                          "--api-key-file", "--shard", "--shards", "--progress", "--progress-interval-ms",
                          "--flush-ms", "--retry-failed", "--help", "--version", "--sandbox",
                          "--accept-target-change", "--accept-key-change", "--key-retention",
                          "--accept-duplicate-risk"})
        EXPECT_NE(h.find(f), std::string::npos) << f;
}

}  // namespace
}  // namespace catalyst::batch
