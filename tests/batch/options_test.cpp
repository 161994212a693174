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
    EXPECT_EQ(o.output, "out.jsonl");
    EXPECT_EQ(o.deadline, std::chrono::milliseconds(900));
    EXPECT_EQ(o.max_attempts, 2u);
    EXPECT_EQ(o.campaign, "c");
    EXPECT_EQ(parse({"-"}).format, input_format::jsonl);
    EXPECT_EQ(parse({"x.txt", "--format", "csv"}).format, input_format::csv);
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
