#ifndef CATALYST_TESTS_SUPPORT_FAKE_CLOCK_HPP
#define CATALYST_TESTS_SUPPORT_FAKE_CLOCK_HPP

// The state machines take the time as an argument; their tests drive it from here. Far enough
// from the clock's zero that "a second before the start" is still a valid time point.

#include <chrono>

namespace catalyst::test {

inline const std::chrono::steady_clock::time_point t0 =
    std::chrono::steady_clock::time_point{} + std::chrono::seconds(1000);

}  // namespace catalyst::test

#endif
