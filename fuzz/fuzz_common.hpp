#ifndef CATALYST_FUZZ_COMMON_HPP
#define CATALYST_FUZZ_COMMON_HPP

// Shared by the fuzzers: a check that survives NDEBUG (a broken property must crash so that
// libFuzzer saves the input), and a reader that hands the input out in uneven pieces.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#define FUZZ_CHECK(cond)                                                                    \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            std::fprintf(stderr, "%s:%d: property broken: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                   \
        }                                                                                   \
    } while (0)

namespace catalyst::fuzz {

/// Feeds `data` to a read function in pieces of 1..`max_piece` bytes, the sizes drawn from a
/// seed, so that buffer-boundary code paths (a line split over two reads) get exercised.
class piecewise_reader {
public:
    piecewise_reader(std::string_view data, std::uint32_t seed, std::size_t max_piece)
        : data_(data), state_(seed | 1), max_piece_(max_piece ? max_piece : 1) {}

    std::size_t operator()(char* buf, std::size_t size) {
        if (data_.empty() || size == 0) return 0;
        state_ ^= state_ << 13;
        state_ ^= state_ >> 17;
        state_ ^= state_ << 5;
        std::size_t n = 1 + state_ % max_piece_;
        n = std::min({n, size, data_.size()});
        std::memcpy(buf, data_.data(), n);
        data_.remove_prefix(n);
        return n;
    }

private:
    std::string_view data_;
    std::uint32_t state_;
    std::size_t max_piece_;
};

}  // namespace catalyst::fuzz

#endif
