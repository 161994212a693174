#include "batch/line_reader.hpp"

#include <cstring>

namespace catalyst::batch {
namespace {
constexpr std::size_t read_chunk = 64 * 1024;
}

line_reader::line_reader(read_function read, std::size_t max_line)
    : read_(std::move(read)), max_line_(max_line), buf_(max_line + read_chunk + 1) {}

// Compacts the live bytes to the front, then reads once into the free tail.
bool line_reader::fill() {
    if (eof_) return false;
    if (begin_ > 0) {
        std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
    }
    const std::size_t n = read_(buf_.data() + end_, buf_.size() - end_);
    if (n == 0) {
        eof_ = true;
        return false;
    }
    end_ += n;
    bytes_read_ += n;
    return true;
}

bool line_reader::emit(physical_line& out, const char* text, std::size_t len, bool skipping) {
    out.number = ++number_;
    if (len > 0 && text[len - 1] == '\r') --len;
    out.oversized = skipping || len > max_line_;
    out.text = out.oversized ? std::string_view() : std::string_view(text, len);
    return true;
}

bool line_reader::next(physical_line& out) {
    if (!started_) {
        started_ = true;
        while (end_ - begin_ < 3 && fill()) {
        }
        if (end_ - begin_ >= 3 && std::memcmp(buf_.data() + begin_, "\xEF\xBB\xBF", 3) == 0) begin_ += 3;
    }
    std::size_t scanned = 0;  // bytes already searched for '\n', not searched twice
    bool skipping = false;    // inside an oversized line: bytes are dropped until its end
    for (;;) {
        const char* base = buf_.data() + begin_;
        const std::size_t avail = end_ - begin_;
        const void* nl = scanned < avail ? std::memchr(base + scanned, '\n', avail - scanned) : nullptr;
        if (nl != nullptr) {
            const std::size_t len = static_cast<const char*>(nl) - base;
            begin_ += len + 1;
            return emit(out, base, len, skipping);
        }
        scanned = avail;
        if (avail > max_line_ + 1) {
            // Too long already: forget it and keep reading until its '\n'.
            skipping = true;
            begin_ = end_;
            scanned = 0;
        }
        if (!fill()) {
            if (end_ == begin_ && !skipping) return false;
            // The last line has no '\n'.
            const char* last = buf_.data() + begin_;
            const std::size_t len = end_ - begin_;
            begin_ = end_;
            return emit(out, last, len, skipping);
        }
        if (skipping) scanned = 0;
    }
}

}  // namespace catalyst::batch
