// The call-object pool: reuse, and a cap that keeps memory flat.
#include "client/op_pool.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

using namespace catalyst::detail;

TEST(op_pool, reuses_released_objects) {
    op_pool pool(4);
    auto* a = pool.acquire();
    const auto gen = a->gen.load();
    a->body = "x";
    a->key = "k";
    a->attempts = 3;
    pool.release(a);
    EXPECT_EQ(pool.cached(), 1u);
    auto* b = pool.acquire();
    EXPECT_EQ(b, a);
    EXPECT_EQ(b->gen.load(), gen + 1);  // a late timer completion sees it moved on
    EXPECT_TRUE(b->body.empty());
    EXPECT_TRUE(b->key.empty());
    EXPECT_EQ(b->attempts, 0u);
    EXPECT_EQ(pool.cached(), 0u);
    pool.release(b);
}

TEST(op_pool, keeps_at_most_cap_free_objects) {
    op_pool pool(8);
    std::vector<request_op*> ops;
    for (int i = 0; i < 100; ++i) ops.push_back(pool.acquire());
    for (auto* op : ops) pool.release(op);
    EXPECT_EQ(pool.cached(), 8u);
}

// Taken on one thread, released on another (a backend calling from its own threads into a
// client owning its threads): the free list does not grow with the number of calls.
TEST(op_pool, flat_when_acquired_and_released_on_different_threads) {
    op_pool pool(16);
    for (int round = 0; round < 200; ++round) {
        std::vector<request_op*> ops;
        for (int i = 0; i < 50; ++i) ops.push_back(pool.acquire());
        std::thread t([&] {
            for (auto* op : ops) pool.release(op);
        });
        t.join();
        ASSERT_LE(pool.cached(), 16u);
    }
}

TEST(op_pool, freed_objects_expire_their_liveness_token) {
    op_pool pool(0);
    auto* op = pool.acquire();
    std::weak_ptr<const bool> alive = op->alive;
    EXPECT_FALSE(alive.expired());
    pool.release(op);  // beyond the cap: freed
    EXPECT_TRUE(alive.expired());
}
