#ifndef CATALYST_TESTS_CLIENT_CALL_TRACKER_HPP
#define CATALYST_TESTS_CLIENT_CALL_TRACKER_HPP

// Calls started at once and timed to their completion, for the tests against the hostile
// server (deadlines under stalls, shutdown with calls in flight, user code that throws), and
// the allowances those tests make for a slow machine.
//
// Slack: a completion may come `slack()` after the call's deadline: 250 ms normally (timers,
// the completion's post, a loaded CI machine), 1 s under sanitizers. Sizes shrink under
// sanitizers or with CATALYST_HARDENING_QUICK=1 (as the fault matrix does under TSan).

#include "client_fixture.hpp"
#include "support/sanitizers.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace catalyst::test {

using steady = std::chrono::steady_clock;

/// The smaller sizes: under sanitizers, or when CATALYST_HARDENING_QUICK is set.
inline bool quick() {
    return under_sanitizer || std::getenv("CATALYST_HARDENING_QUICK") != nullptr;
}

/// How late after its deadline a completion may come.
inline std::chrono::milliseconds slack() {
    return under_sanitizer ? std::chrono::milliseconds(1000) : std::chrono::milliseconds(250);
}

inline long long ms(steady::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

/// A hostile_server reply that does `a`.
inline hostile_reply act(hostile_action a) {
    hostile_reply r;
    r.action = a;
    return r;
}

/// Calls made at once and their completions, each recorded with its time. Handlers may run on
/// any thread and keep the tracker alive (a call that outlives a failed test finds it); `wait`
/// is bounded.
class call_tracker : public std::enable_shared_from_this<call_tracker> {
  public:
    struct call {
        steady::time_point start{}, deadline{}, done{};
        boost::system::error_code ec;
        int completions = 0;
        std::string key;
    };

    explicit call_tracker(std::size_t n) : calls_(n) {}

    /// Starts call `i` on `c` with `opts` (its deadline taken from `opts.deadline`).
    void start(client& c, std::size_t i, const request_options& opts) {
        {
            std::lock_guard lock(mu_);
            calls_[i].start = steady::now();
            calls_[i].deadline = calls_[i].start + opts.deadline;
            calls_[i].key = opts.idempotency_key;
        }
        c.async_create_session(valid_request("lead" + std::to_string(i) + "@example.com"), opts,
                               [self = shared_from_this(), i](boost::system::error_code ec,
                                                              session) { self->complete(i, ec); });
    }

    void complete(std::size_t i, boost::system::error_code ec) {
        std::lock_guard lock(mu_);
        auto& r = calls_[i];
        if (r.completions++ == 0) {
            r.done = steady::now();
            r.ec = ec;
            ++done_;
        }
        cv_.notify_all();
    }

    /// Waits until every call completed or `until`; returns how many completed.
    std::size_t wait(steady::time_point until) {
        std::unique_lock lock(mu_);
        cv_.wait_until(lock, until, [&] { return done_ == calls_.size(); });
        return done_;
    }

    std::vector<call> snapshot() const {
        std::lock_guard lock(mu_);
        return calls_;
    }

  private:
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::vector<call> calls_;
    std::size_t done_ = 0;
};

}  // namespace catalyst::test

#endif
