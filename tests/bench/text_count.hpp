#ifndef CATALYST_TESTS_BENCH_TEXT_COUNT_HPP
#define CATALYST_TESTS_BENCH_TEXT_COUNT_HPP

#include <cstddef>
#include <string>

namespace catalyst::bench::test {

/// How often `what` occurs in `s` (overlaps counted): the elements of a drawn SVG.
inline std::size_t count_of(const std::string& s, const std::string& what) {
    std::size_t n = 0;
    for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
    return n;
}

}  // namespace catalyst::bench::test

#endif
