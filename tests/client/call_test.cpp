// The call objects: the pool, the one liveness rule (a reference count), the intrusive list,
// and the shard's timer heap.
#include "client/call.hpp"
#include "client/call_timers.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <thread>
#include <vector>

using namespace catalyst::detail;
using namespace std::chrono_literals;
using time_point = std::chrono::steady_clock::time_point;

namespace {

TEST(call_pool, reuses_released_objects_clean) {
    auto pool = std::make_shared<call_pool>(4);
    call* first = nullptr;
    {
        call_ref c = pool->acquire();
        first = c.get();
        c->body = "x";
        c->key = "k";
        c->timer_slot = 3;
    }
    EXPECT_EQ(pool->cached(), 1u);
    call_ref again = pool->acquire();
    EXPECT_EQ(again.get(), first);
    EXPECT_TRUE(again->body.empty());
    EXPECT_TRUE(again->key.empty());
    EXPECT_EQ(again->timer_slot, static_cast<std::size_t>(-1));
    EXPECT_EQ(again->fsm.phase(), call_phase::idle);
}

TEST(call_pool, keeps_at_most_cap_free_objects) {
    auto pool = std::make_shared<call_pool>(8);
    std::vector<call_ref> calls;
    for (int i = 0; i < 100; ++i) calls.push_back(pool->acquire());
    calls.clear();
    EXPECT_EQ(pool->cached(), 8u);
}

// The home thread (the one running the shard's io_context) has a side of its own: what it
// gives back it takes again, without the lock; what another thread gives back goes to the
// shared side, which the home thread falls back on. Each side keeps at most `cap`.
TEST(call_pool, the_home_thread_keeps_its_own_side) {
    int home = 0;  // stands for the shard's io_context
    auto pool = std::make_shared<call_pool>(4);
    pool->set_home(&home);
    call* from_home = nullptr;
    {
        const call_pool::running_scope running(&home);
        call_ref c = pool->acquire();
        from_home = c.get();
        c.reset();
        EXPECT_EQ(pool->cached(), 1u);
    }
    EXPECT_EQ(pool->cached(), 0u);  // not on the shared side: another thread cannot take it
    call_ref elsewhere = pool->acquire();
    EXPECT_NE(elsewhere.get(), from_home);
    call* shared = elsewhere.get();
    elsewhere.reset();  // given back off home: the shared side
    EXPECT_EQ(pool->cached(), 1u);
    {
        const call_pool::running_scope running(&home);
        call_ref again = pool->acquire();
        EXPECT_EQ(again.get(), from_home);  // the home side first
        call_ref next = pool->acquire();
        EXPECT_EQ(next.get(), shared);  // then the shared side
        std::vector<call_ref> many;
        for (int i = 0; i < 10; ++i) many.push_back(pool->acquire());
        many.clear();
        again.reset();
        next.reset();
        EXPECT_EQ(pool->cached(), 4u);  // the home side holds at most cap
    }
    // Another context's thread is not at home.
    int other = 0;
    const call_pool::running_scope running(&other);
    EXPECT_EQ(pool->cached(), 0u);
}

// A call is back in the pool only when its last reference goes, whoever holds it.
TEST(call_ref, the_last_reference_returns_the_call) {
    auto pool = std::make_shared<call_pool>(4);
    call_ref shard_ref = pool->acquire();
    call_ref canceller = shard_ref;
    EXPECT_EQ(shard_ref->refs.load(), 2u);
    shard_ref.reset();
    EXPECT_EQ(pool->cached(), 0u);  // the canceller still names it: not reusable
    canceller.reset();
    EXPECT_EQ(pool->cached(), 1u);
}

TEST(call_ref, release_and_adopt_keep_the_count) {
    auto pool = std::make_shared<call_pool>(4);
    call* raw = pool->acquire().release();
    EXPECT_EQ(raw->refs.load(), 1u);
    EXPECT_EQ(pool->cached(), 0u);
    call_ref::adopt(raw).reset();
    EXPECT_EQ(pool->cached(), 1u);
}

// A reference that outlives every other owner of the pool (a slot the caller keeps after the
// client is gone) is still safe to drop: the call holds its pool.
TEST(call_ref, outlives_the_pools_owner) {
    std::weak_ptr<call_pool> weak;
    call_ref late;
    {
        auto pool = std::make_shared<call_pool>(4);
        weak = pool;
        late = pool->acquire();
    }
    EXPECT_FALSE(weak.expired());
    late.reset();
    EXPECT_TRUE(weak.expired());
}

// Taken on one thread, dropped on another (a backend calling from its own threads into a client
// owning its threads): the free list stays bounded.
TEST(call_pool, flat_when_acquired_and_released_on_different_threads) {
    auto pool = std::make_shared<call_pool>(16);
    for (int round = 0; round < 200; ++round) {
        std::vector<call_ref> calls;
        for (int i = 0; i < 50; ++i) calls.push_back(pool->acquire());
        std::thread t([&] { calls.clear(); });
        t.join();
        ASSERT_LE(pool->cached(), 16u);
    }
}

TEST(call_list, fifo_with_removal_from_the_middle) {
    auto pool = std::make_shared<call_pool>(8);
    std::vector<call_ref> c;
    for (int i = 0; i < 4; ++i) c.push_back(pool->acquire());
    std::atomic<std::size_t> mirror{0};
    call_list l;
    l.mirror = &mirror;
    for (auto& r : c) l.push_back(r.get());
    l.erase(c[1].get());
    l.push_front(c[1].get());
    EXPECT_EQ(mirror.load(), 4u);
    std::vector<call*> order;
    while (call* x = l.pop_front()) order.push_back(x);
    EXPECT_EQ(order, (std::vector<call*>{c[1].get(), c[0].get(), c[2].get(), c[3].get()}));
    EXPECT_EQ(mirror.load(), 0u);
}

TEST(call_timers, pops_in_time_order_and_removes_from_anywhere) {
    auto pool = std::make_shared<call_pool>(0);
    std::vector<call_ref> c;
    for (int i = 0; i < 200; ++i) c.push_back(pool->acquire());
    const time_point t0{};
    std::mt19937 rng(7);
    std::vector<int> when(200);
    call_timers timers;
    for (int i = 0; i < 200; ++i) {
        when[i] = static_cast<int>(rng() % 1000);
        timers.set(c[i].get(), t0 + std::chrono::milliseconds(when[i]));
    }
    // Move some, remove some: the heap follows.
    for (int i = 0; i < 200; i += 7) {
        when[i] = static_cast<int>(rng() % 1000);
        timers.set(c[i].get(), t0 + std::chrono::milliseconds(when[i]));
    }
    for (int i = 3; i < 200; i += 5) {
        timers.remove(c[i].get());
        when[i] = -1;
        EXPECT_EQ(c[i]->timer_slot, static_cast<std::size_t>(-1));
    }
    timers.remove(c[3].get());  // twice: nothing
    std::vector<int> expected;
    for (int w : when)
        if (w >= 0) expected.push_back(w);
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(timers.size(), expected.size());
    EXPECT_EQ(timers.pop_due(t0 + std::chrono::milliseconds(expected.front()) - 1ms), nullptr);
    std::vector<int> got;
    while (call* x = timers.pop_due(t0 + 1000ms)) {
        const auto i = static_cast<std::size_t>(std::find_if(c.begin(), c.end(), [&](const call_ref& r) { return r.get() == x; }) - c.begin());
        got.push_back(when[i]);
        EXPECT_EQ(x->timer_slot, static_cast<std::size_t>(-1));
    }
    EXPECT_EQ(got, expected);
    EXPECT_TRUE(timers.empty());
    EXPECT_EQ(timers.next(), time_point::max());
}

}  // namespace
