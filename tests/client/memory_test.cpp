// Memory stays flat over many calls made from a thread that is not the client's: the call
// objects must not pile up on the client's thread (a free list per thread that only ever
// grows would add some 0.5 KB per call). Measured twice, after a warm-up and at the end: the
// live heap (the allocator's own count: glibc's, or the sanitizer's, whose quarantine and
// shadow make RSS meaningless) and, without sanitizers, RSS.
#include "call_tracker.hpp"
#include "client_fixture.hpp"
#include "support/sanitizers.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>

#include <malloc.h>
#include <unistd.h>

#if CATALYST_TEST_UNDER_SANITIZER
// From <sanitizer/allocator_interface.h> (shipped with clang, not with every gcc).
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#endif

using namespace catalyst;
using namespace catalyst::test;
using namespace std::chrono_literals;
using boost::system::error_code;

namespace {

// Bytes the allocator holds for live allocations (glibc's count, or the sanitizer's).
std::size_t live_heap_bytes() {
#if CATALYST_TEST_UNDER_SANITIZER
    return __sanitizer_get_current_allocated_bytes();
#else
    return mallinfo2().uordblks;
#endif
}

// Resident set size of this process in bytes.
std::size_t rss_bytes() {
    std::FILE* f = std::fopen("/proc/self/statm", "r");
    if (!f) return 0;
    unsigned long size = 0, resident = 0;
    const int n = std::fscanf(f, "%lu %lu", &size, &resident);
    std::fclose(f);
    return n == 2 ? resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE)) : 0;
}

TEST(memory, memory_stays_flat_over_calls_from_a_foreign_thread) {
    struct window_state {
        std::mutex mu;
        std::condition_variable cv;
        std::size_t in_flight = 0, completed = 0, failed = 0;
    };
    auto st = std::make_shared<window_state>();  // handlers keep it alive
    hostile_options so;
    so.keep_ledger = false;  // the server's own record would grow
    hostile_server server(so);
    auto p = params_for(server);
    p.max_connections = 8;
    client c(p);  // owns its thread; calls come from this (the main) thread

    const std::size_t total = under_sanitizer ? 20'000 : quick() ? 40'000 : 200'000;
    const std::size_t warmup = total / 10;
    const std::size_t window = 64;
    const auto req = valid_request();
    const request_options opts;
    std::size_t heap_warm = 0, rss_warm = 0;
    const auto limit = steady::now() + 100s;
    bool stuck = false;
    auto wait_idle = [&] {
        std::unique_lock lock(st->mu);
        return st->cv.wait_until(lock, limit, [&] { return st->in_flight == 0; });
    };
    for (std::size_t i = 0; i < total && !stuck; ++i) {
        {
            std::unique_lock lock(st->mu);
            if (!st->cv.wait_until(lock, limit, [&] { return st->in_flight < window; }))
                stuck = true;
            ++st->in_flight;
        }
        c.async_create_session(req, opts, [st](error_code ec, session) {
            std::lock_guard lock(st->mu);
            --st->in_flight;
            ++st->completed;
            st->failed += ec ? 1 : 0;
            st->cv.notify_all();
        });
        if (i + 1 == warmup) {
            stuck = !wait_idle();
            heap_warm = live_heap_bytes();
            rss_warm = rss_bytes();
        }
    }
    stuck = !wait_idle() || stuck;
    const std::size_t heap_end = live_heap_bytes(), rss_end = rss_bytes();
    ASSERT_FALSE(stuck) << "calls stopped completing";
    {
        std::lock_guard lock(st->mu);
        EXPECT_EQ(st->completed, total);
        EXPECT_EQ(st->failed, 0u);
    }
    const double mb = 1024.0 * 1024.0;
    const double heap_growth =
        (static_cast<double>(heap_end) - static_cast<double>(heap_warm)) / mb;
    const double rss_growth = (static_cast<double>(rss_end) - static_cast<double>(rss_warm)) / mb;
    const double per_call = heap_growth * mb / static_cast<double>(total - warmup);
    std::printf(
        "[ memory ] %zu calls: live heap %.1f -> %.1f MB (%+.1f MB, %.0f B/call), RSS %.1f -> %.1f "
        "MB (%+.1f MB)\n",
        total, static_cast<double>(heap_warm) / mb, static_cast<double>(heap_end) / mb, heap_growth,
        per_call, static_cast<double>(rss_warm) / mb, static_cast<double>(rss_end) / mb,
        rss_growth);
    ASSERT_GT(heap_warm, 0u) << "no allocator counter on this platform";
    EXPECT_LT(per_call, 64.0) << "the live heap grew by " << heap_growth << " MB over "
                              << total - warmup << " calls";
    EXPECT_LT(heap_growth, 20.0);
    if (!under_sanitizer) {
        EXPECT_LT(rss_growth, 20.0) << "resident memory grew by " << rss_growth << " MB";
    }
}

}  // namespace
