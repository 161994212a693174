#ifndef CATALYST_SRC_CLIENT_EVENT_TIME_HPP
#define CATALYST_SRC_CLIENT_EVENT_TIME_HPP

// The time of the event the client is handling: read once when a handler of the client's
// starts (an answer read, a call submitted, a timer), and the same for everything that event
// leads to. A request's answer leads to its report, its completion, the next call's hand-over
// and its write: a dozen clock reads where one does, and a clock read costs 20 to 40 ns in a
// virtual machine (a few per cent of a request's CPU).
//
// Times taken this way are as old as the handler that uses them: microseconds, unless a user
// callback the handler runs (an observer, a logger) takes long. Nothing that runs user code
// for a call's result (its completion handler) holds a scope: a call started from there reads
// the clock afresh.

#include <chrono>

namespace catalyst::detail {

class event_time {
public:
    using clock = std::chrono::steady_clock;

    /// The event's time inside a scope, the clock's outside.
    static clock::time_point now() noexcept { return depth_ != 0 ? at_ : clock::now(); }

    /// Marks a handler's start (nested scopes keep the outer one's time).
    class scope {
    public:
        scope() noexcept {
            if (depth_++ == 0) at_ = clock::now();
        }
        /// A time just read for something else (a call's start, microseconds ago).
        explicit scope(clock::time_point at) noexcept {
            if (depth_++ == 0) at_ = at;
        }
        ~scope() { --depth_; }
        scope(const scope&) = delete;
        scope& operator=(const scope&) = delete;
    };

private:
    static inline thread_local clock::time_point at_{};
    static inline thread_local unsigned depth_ = 0;
};

}  // namespace catalyst::detail

#endif
