#ifndef CATALYST_TESTS_BATCH_STRING_SOURCE_HPP
#define CATALYST_TESTS_BATCH_STRING_SOURCE_HPP

#include "batch/line_reader.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

namespace catalyst::batch::test {

/// A read_function over a string, handing out at most `chunk` bytes per call so that lines
/// straddle reads.
inline read_function string_source(std::string data, std::size_t chunk = 7) {
    auto state = std::make_shared<std::pair<std::string, std::size_t>>(std::move(data), 0);
    return [state, chunk](char* buf, std::size_t size) -> std::size_t {
        auto& [s, pos] = *state;
        const std::size_t n = std::min({size, chunk, s.size() - pos});
        std::memcpy(buf, s.data() + pos, n);
        pos += n;
        return n;
    };
}

}  // namespace catalyst::batch::test

#endif
