// A fixed send rate (rate_params: rate_per_second, burst) spaces the calls out.
#include "client_fixture.hpp"

#include <gtest/gtest.h>

#include <chrono>

using namespace catalyst;
using namespace catalyst::test;
using namespace std::chrono_literals;

namespace {

using pacing = client_test;

TEST_F(pacing, pacing_spaces_requests_out) {
    start();
    auto p = params();
    p.threads = 1;
    p.rate.rate_per_second = 50;
    p.rate.burst = 1;
    client c(p);
    const auto t0 = std::chrono::steady_clock::now();
    auto out = run_many(c, 11);
    const auto elapsed = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(count(out, {}), 11u);
    // 1 at once, then 10 at 20 ms intervals: a lower bound only (never an upper one).
    EXPECT_GE(elapsed, 190ms);
}

}  // namespace
