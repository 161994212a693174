// The run header that starts every output file: its round trip (never the key), the
// mismatches a rerun names, the timestamps; and in the tool's own output, what produced the
// file and when each record was sent and finished.
#include "batch/header.hpp"
#include "batch/timestamp.hpp"
#include "fixture.hpp"

#include <gtest/gtest.h>

namespace catalyst::batch {
namespace {

run_header sample() {
    run_header h;
    h.target = *target_of("https://API.example.com:8443/api/v1");
    h.campaign = "a1b2c3d4-e5f6-7890-abcd-ef1234567890";
    h.key_fingerprint = key_fingerprint("rk_live_secret_value");
    h.shard = {1, 4};
    h.started_ms = 1'764'505'200'123;
    return h;
}

TEST(run_header, round_trip_and_no_key) {
    const run_header h = sample();
    EXPECT_EQ(h.target.host, "api.example.com");
    EXPECT_EQ(h.target.port, 8443u);
    EXPECT_EQ(h.target.path, "/api/v1/payment-sessions/");
    EXPECT_EQ(h.key_fingerprint.size(), 8u);
    EXPECT_NE(h.key_fingerprint, key_fingerprint("rk_live_secret_valuf"));
    std::string line;
    append_header(h, line);
    EXPECT_TRUE(looks_like_header(line));
    EXPECT_EQ(line.find("rk_live"), std::string::npos) << line;
    EXPECT_NE(line.find("\"started_at\":\"2025-11-30T12:20:00.123Z\""), std::string::npos) << line;
    auto back = parse_header(line.substr(0, line.size() - 1));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->target, h.target);
    EXPECT_EQ(back->campaign, h.campaign);
    EXPECT_EQ(back->key_fingerprint, h.key_fingerprint);
    EXPECT_EQ(back->shard.index, 1u);
    EXPECT_EQ(back->shard.count, 4u);
    EXPECT_EQ(back->started_ms, h.started_ms);
    EXPECT_EQ(back->version, std::string(tool_version));
    EXPECT_FALSE(parse_header(R"({"header":"catalyst-batch"})"));
    EXPECT_FALSE(parse_header(R"({"line":1})"));
}

TEST(run_header, mismatches_name_what_differs) {
    const run_header a = sample();
    EXPECT_TRUE(header_mismatches(a, a, {}).empty());
    run_header b = a;
    b.target = *target_of("https://api2.example.com/api/v1");
    b.key_fingerprint = key_fingerprint("rk_other");
    b.campaign.reset();
    b.shard = {1, 8};
    b.started_ms += 1000;  // another run: not a difference
    auto d = header_mismatches(a, b, {});
    ASSERT_EQ(d.size(), 4u);
    EXPECT_NE(d[0].find("target (was https://api.example.com:8443/api/v1/payment-sessions/, now "
                        "https://api2.example.com:443/api/v1/payment-sessions/)"),
              std::string::npos)
        << d[0];
    EXPECT_NE(d[1].find("API key"), std::string::npos) << d[1];
    EXPECT_NE(d[2].find("campaign"), std::string::npos) << d[2];
    EXPECT_NE(d[3].find("shard layout (was 1/4, now 1/8)"), std::string::npos) << d[3];
    // Accepted: the target after a migration, a rotated key; never the campaign or the shards.
    d = header_mismatches(a, b, {true, true});
    ASSERT_EQ(d.size(), 2u);
    EXPECT_NE(d[0].find("campaign"), std::string::npos);
}

TEST(timestamp, format_and_parse) {
    EXPECT_EQ(format_utc(0), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(parse_utc("2026-11-30T12:34:56.789Z"), 1'796'042'096'789);
    EXPECT_EQ(format_utc(1'796'042'096'789), "2026-11-30T12:34:56.789Z");
    EXPECT_FALSE(parse_utc("2026-11-30 12:34:56.789Z"));
    EXPECT_FALSE(parse_utc("2026-11-30T12:34:56Z"));
    EXPECT_FALSE(parse_utc("yesterday"));
    EXPECT_EQ(format_duration(90'000), "90s");
    EXPECT_EQ(format_duration(3 * 86'400'000 + 2 * 3'600'000), "3d 2h");
}

// --- in the tool's output ----------------------------------------------------------------------

using output_header = batch_e2e;

TEST_F(output_header, output_header_says_what_produced_it_and_records_carry_times) {
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
    EXPECT_NE(sb_->base_url().find("127.0.0.1:" + std::to_string(h.target.port) + "/"),
              std::string::npos);
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

}  // namespace
}  // namespace catalyst::batch
