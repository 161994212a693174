// What the sandbox remembers: idempotency records (proceed, replay, conflict, in progress, per
// API key, expiry at the TTL, a cap that evicts the oldest) and the session ledger (a cap
// that keeps the newest, pages). No sockets, no clocks: the time is passed in.

#include "sandbox/config.hpp"
#include "sandbox/faults.hpp"
#include "sandbox/service.hpp"

#include <gtest/gtest.h>

#include <catalyst/sandbox.hpp>

#include <boost/json.hpp>

using namespace catalyst;
using namespace catalyst::sandbox_detail;
using namespace std::chrono_literals;

namespace {

TEST(idempotency_store, proceed_replay_conflict_in_progress) {
    stats_counters stats;
    const auto t0 = idempotency_store::time_point{} + std::chrono::hours(1);
    idempotency_store s(std::chrono::milliseconds(0), 1000, stats);
    unsigned status = 0;
    std::string body;
    EXPECT_EQ(s.begin(0, "k1", "{a}", t0, status, body), idempotency_outcome::proceed);
    EXPECT_EQ(s.begin(0, "k1", "{a}", t0, status, body), idempotency_outcome::in_progress);
    EXPECT_EQ(s.begin(0, "k1", "{b}", t0, status, body), idempotency_outcome::conflict);
    s.complete(0, "k1", 201, "answer");
    EXPECT_EQ(s.begin(0, "k1", "{a}", t0, status, body), idempotency_outcome::replay);
    EXPECT_EQ(status, 201u);
    EXPECT_EQ(body, "answer");
    // Keys are per API key.
    EXPECT_EQ(s.begin(1, "k1", "{b}", t0, status, body), idempotency_outcome::proceed);
    s.abandon(1, "k1");
    EXPECT_EQ(s.begin(1, "k1", "{c}", t0, status, body), idempotency_outcome::proceed);
}

TEST(idempotency_store, records_expire_after_the_ttl) {
    stats_counters stats;
    const auto t0 = idempotency_store::time_point{} + std::chrono::hours(1);
    idempotency_store s(std::chrono::milliseconds(100), 1000, stats);
    unsigned status = 0;
    std::string payload;
    ASSERT_EQ(s.begin(0, "k1", "{a}", t0, status, payload), idempotency_outcome::proceed);
    s.complete(0, "k1", 201, "ps_1");
    EXPECT_EQ(s.begin(0, "k1", "{a}", t0, status, payload), idempotency_outcome::replay);
    EXPECT_EQ(s.begin(0, "k1", "{a}", t0 + 99ms, status, payload), idempotency_outcome::replay);
    EXPECT_EQ(stats.idempotency_expired.load(), 0u);
    // Forgotten at the TTL: the same key is new again, even with another body.
    EXPECT_EQ(s.begin(0, "k1", "{other}", t0 + 100ms, status, payload),
              idempotency_outcome::proceed);
    EXPECT_EQ(stats.idempotency_expired.load(), 1u);
    EXPECT_EQ(s.size(), 1u);
}

TEST(idempotency_store, the_cap_evicts_the_oldest) {
    stats_counters stats;
    const auto t0 = idempotency_store::time_point{} + std::chrono::hours(1);
    idempotency_store s(std::chrono::milliseconds(0), 3, stats);
    unsigned status = 0;
    std::string payload;
    for (int i = 0; i < 10; ++i) {
        const auto k = "k" + std::to_string(i);
        ASSERT_EQ(s.begin(0, k, "{}", t0, status, payload), idempotency_outcome::proceed);
        s.complete(0, k, 201, "ps_" + std::to_string(i));
        EXPECT_LE(s.size(), 3u);
    }
    EXPECT_EQ(stats.idempotency_evicted.load(), 7u);
    EXPECT_EQ(s.begin(0, "k9", "{}", t0, status, payload),
              idempotency_outcome::replay);  // the newest stay
    EXPECT_EQ(payload, "ps_9");
    EXPECT_EQ(s.begin(0, "k0", "{}", t0, status, payload),
              idempotency_outcome::proceed);  // the oldest went
    EXPECT_EQ(s.clear(), 3u);
    EXPECT_EQ(s.size(), 0u);
}

TEST(session_ledger, the_ledger_keeps_the_newest_and_pages) {
    session_store s(4);
    std::vector<session_record> evicted;
    for (int i = 0; i < 6; ++i) {
        session_record r;
        r.token = "ps_" + std::to_string(i);
        s.insert(std::move(r), evicted);
    }
    ASSERT_EQ(evicted.size(), 2u);
    EXPECT_EQ(evicted[0].token, "ps_0");
    EXPECT_EQ(s.size(), 4u);
    session_record found;
    EXPECT_FALSE(s.find("ps_1", found));
    ASSERT_TRUE(s.find("ps_4", found));
    EXPECT_EQ(found.token, "ps_4");
    std::uint64_t first = 0, next = 0;
    auto page = s.page(0, 3, first, next);  // 0 and 1 were evicted: starts at 2
    ASSERT_EQ(page.size(), 3u);
    EXPECT_EQ(first, 2u);
    EXPECT_EQ(page[0].token, "ps_2");
    EXPECT_EQ(next, 5u);
    page = s.page(next, 3, first, next);
    ASSERT_EQ(page.size(), 1u);
    EXPECT_EQ(page[0].token, "ps_5");
    EXPECT_EQ(next, 0u);  // nothing follows
    EXPECT_EQ(s.clear(), 4u);
    EXPECT_FALSE(s.find("ps_4", found));
}

}  // namespace
