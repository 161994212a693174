#include "resources.hpp"

#include <gtest/gtest.h>

#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

using namespace catalyst::bench;

TEST(bench_resources, parses_vm_hwm) {
    EXPECT_EQ(
        parse_vm_hwm_bytes("Name:\tx\nVmPeak:\t  9000 kB\nVmHWM:\t    1234 kB\nVmRSS:\t 1000 kB\n"),
        1234u * 1024);
    EXPECT_FALSE(parse_vm_hwm_bytes("Name:\tx\n").has_value());
    EXPECT_FALSE(parse_vm_hwm_bytes("VmHWM:\t  kB\n").has_value());
    EXPECT_FALSE(parse_vm_hwm_bytes("XVmHWM: 12 kB\n").has_value());
}

TEST(bench_resources, parses_schedstat_and_stat) {
    EXPECT_EQ(parse_schedstat_ns("72123 0 1\n"), 72123u);
    EXPECT_FALSE(parse_schedstat_ns("").has_value());
    // the command name may hold spaces and parentheses
    const char* stat =
        "4242 (a (weird) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 17 5 0 0 20 0 1 0 1 2 3\n";
    EXPECT_EQ(parse_stat_ticks(stat), 22u);
    EXPECT_FALSE(parse_stat_ticks("4242 (x) S 1 2").has_value());
    EXPECT_FALSE(parse_stat_ticks("no parenthesis").has_value());
}

TEST(bench_resources, live_figures_of_this_process) {
    EXPECT_GT(peak_rss_bytes(), 0u);
    const auto ids = thread_ids();
    ASSERT_FALSE(ids.empty());
    EXPECT_NE(std::find(ids.begin(), ids.end(), static_cast<int>(getpid())), ids.end());

    // a thread that spins is seen by threads_cpu and by process_cpu
    std::atomic<bool> stop{false}, started{false};
    std::thread spinner([&] {
        started = true;
        while (!stop.load()) {
        }
    });
    // bounded wait until the spinner runs (then it is one of this process's threads)
    for (int i = 0; i < 2000 && !started.load(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_TRUE(started.load()) << "the spinner never started";
    std::vector<int> spinner_only;
    for (int id : thread_ids())
        if (std::find(ids.begin(), ids.end(), id) == ids.end()) spinner_only.push_back(id);
    ASSERT_EQ(spinner_only.size(), 1u);
    const auto c0 = threads_cpu(spinner_only);
    const auto p0 = process_cpu();
    // bounded wait, no timing assertion: until the spinner has been seen running
    for (int i = 0; i < 2000 && threads_cpu(spinner_only) == c0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_GT(threads_cpu(spinner_only), c0);
    stop = true;
    spinner.join();
    EXPECT_GE((process_cpu() - p0).total().count(), 0);
}
