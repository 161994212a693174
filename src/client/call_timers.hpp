#ifndef CATALYST_SRC_CLIENT_CALL_TIMERS_HPP
#define CATALYST_SRC_CLIENT_CALL_TIMERS_HPP

// When each waiting call of a shard must be looked at again (its queue deadline, the end of
// its backoff): a binary min-heap indexed from the calls themselves, so that a call leaving
// the queue takes its entry with it (O(log n)) and the shard needs one system timer, armed
// at the earliest entry, instead of one per call.

#include <chrono>
#include <cstddef>
#include <vector>

namespace catalyst::detail {

struct call;

class call_timers {
public:
    using time_point = std::chrono::steady_clock::time_point;

    /// Adds `c` at `at`, or moves it there.
    void set(call* c, time_point at);
    /// Removes `c` (nothing when it has no entry).
    void remove(call* c) noexcept;
    bool empty() const noexcept { return heap_.empty(); }
    std::size_t size() const noexcept { return heap_.size(); }
    /// The earliest entry's time (max when empty).
    time_point next() const noexcept { return heap_.empty() ? time_point::max() : heap_.front().at; }
    /// Removes and returns the earliest call whose time is <= now; nullptr when none.
    call* pop_due(time_point now) noexcept;

private:
    struct entry {
        time_point at;
        call* c;
    };
    void place(std::size_t i, entry e) noexcept;
    void up(std::size_t i) noexcept;
    void down(std::size_t i) noexcept;
    std::vector<entry> heap_;
};

}  // namespace catalyst::detail

#endif
