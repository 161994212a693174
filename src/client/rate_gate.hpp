#ifndef CATALYST_SRC_CLIENT_RATE_GATE_HPP
#define CATALYST_SRC_CLIENT_RATE_GATE_HPP

// The adaptive rate of one origin shared by all of a client's shards (its threads): the
// controller (rate_controller.hpp) behind a lock, plus the count of attempts on the wire that
// its concurrency cap bounds. A shard asks `admit` before each attempt goes on the wire and
// tells how the attempt ended (`answered`, or `released` when it got no answer); a shard held
// back by the cap is woken when an attempt anywhere ends.

#include "client/rate_controller.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace catalyst::detail {

class shard;

class rate_gate {
public:
    using time_point = std::chrono::steady_clock::time_point;

    rate_gate(const rate_params& p, time_point now);

    enum class verdict { send, wait, reject };
    struct admission {
        verdict what = verdict::wait;
        /// wait: when to ask again; max when only an attempt's end can free a place (the
        /// shard is then woken by `wake`).
        time_point retry_at = time_point::max();
        std::optional<rate_decision_event> event;  ///< a local rejection's decision
    };
    /// May one more attempt go on the wire now? `send` counts it on the wire. `waiter` is
    /// woken (through `wake`) when the concurrency cap held it back and a place frees.
    admission admit(time_point now, double uniform01, double jitter01, const std::weak_ptr<shard>& waiter);

    /// The attempt got an answer (`throttled`: 429 or 503, with its Retry-After); it is off the
    /// wire. The decision to pass to the observer, if any.
    std::optional<rate_decision_event> answered(time_point sent, time_point now, bool throttled,
                                                std::optional<std::chrono::milliseconds> retry_after, double uniform01);
    /// The attempt ended without an answer (or was never written): off the wire; for
    /// client-side throttling a request the API did not accept.
    void released(time_point now);

    /// How a shard held back by the cap is woken (set once by the client: a post to the shard).
    void set_wake(std::function<void(const std::weak_ptr<shard>&)> wake) { wake_ = std::move(wake); }

    void fill(metrics_snapshot& m, time_point now);

private:
    /// After an attempt left the wire: the shards held back by the cap, to wake outside the lock.
    std::vector<std::weak_ptr<shard>> leave_wire_locked();
    void wake(std::vector<std::weak_ptr<shard>> waiting);

    std::mutex mutex_;
    rate_controller controller_;
    std::size_t on_wire_ = 0;
    std::vector<std::weak_ptr<shard>> waiting_;
    std::function<void(const std::weak_ptr<shard>&)> wake_;
};

}  // namespace catalyst::detail

#endif
