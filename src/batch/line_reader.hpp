#ifndef CATALYST_BATCH_LINE_READER_HPP
#define CATALYST_BATCH_LINE_READER_HPP

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace catalyst::batch {

/// Reads into `buf`, at most `size` bytes; returns the count, 0 at end of input.
/// Throws on a read error. Injected so that tests feed strings and the tool feeds a descriptor.
using read_function = std::function<std::size_t(char* buf, std::size_t size)>;

/// One physical line: the bytes between two '\n', without the '\n' and without a '\r'
/// right before it. `number` counts from 1. An `oversized` line was longer than the limit:
/// its bytes were skipped (memory stays bounded) and `text` is empty.
struct physical_line {
    std::string_view text;
    std::uint64_t number = 0;
    bool oversized = false;
};

/// Streams physical lines through one fixed buffer of `max_line` + a read chunk, so memory
/// does not depend on the input's size or on its longest line. A UTF-8 byte order mark at
/// the very start is dropped; a last line without '\n' is still a line.
class line_reader {
public:
    line_reader(read_function read, std::size_t max_line);

    /// The next line, or false at the end of input. `out.text` stays valid until the next call.
    bool next(physical_line& out);

    std::uint64_t bytes_read() const noexcept { return bytes_read_; }
    std::size_t max_line() const noexcept { return max_line_; }

private:
    bool fill();
    /// The line of `len` bytes at `text` (its '\n' not included) into `out`: numbered, a
    /// final '\r' dropped, marked oversized when `skipping` or longer than max_line.
    bool emit(physical_line& out, const char* text, std::size_t len, bool skipping);

    read_function read_;
    std::size_t max_line_;
    std::vector<char> buf_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    bool eof_ = false;
    bool started_ = false;
    std::uint64_t number_ = 0;
    std::uint64_t bytes_read_ = 0;
};

}  // namespace catalyst::batch

#endif
