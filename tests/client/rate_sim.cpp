#include "rate_sim.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <memory>
#include <queue>

namespace catalyst::test {
namespace {

using detail::rate_controller;
using ns = std::int64_t;

constexpr ns ns_per_s = 1'000'000'000;
// Simulated time 0 is this point of the steady clock (any fixed point will do).
const rate_controller::time_point origin = rate_controller::time_point(std::chrono::hours(1));

rate_controller::time_point at(ns t) { return origin + std::chrono::nanoseconds(t); }
ns to_ns(double s) { return static_cast<ns>(std::llround(s * static_cast<double>(ns_per_s))); }
double to_s(ns t) { return static_cast<double>(t) / static_cast<double>(ns_per_s); }

// splitmix64: the same numbers on every platform (std's distributions are not specified).
class rng {
public:
    explicit rng(std::uint64_t seed) : s_(seed) {}
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

private:
    std::uint64_t next() {
        std::uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    std::uint64_t s_;
};

enum class kind { arrival, wake, reach_server, answer, tick };

struct event {
    ns t = 0;
    std::uint64_t seq = 0;
    kind what = kind::tick;
    std::size_t client = 0;
    std::uint64_t call = 0;
    ns sent = 0;
    ns latency = 0;
    bool accepted = false;
    double retry_after_s = 0;
    bool operator>(const event& o) const { return t != o.t ? t > o.t : seq > o.seq; }
};

class server_model {
public:
    explicit server_model(const sim_server& p) : p_(p) {}

    // Takes a token for a request arriving at `t`; on refusal, the Retry-After (0: none).
    bool admit(ns t, double& retry_after_s) {
        const limit_step& step = current(t);
        retry_after_s = 0;
        const double limit = step.limit;
        const double burst = std::max(1.0, limit * p_.burst_s);
        if (limit > 0) {
            if (!started_) {
                started_ = true;
                tokens_ = burst;
            } else if (t > last_) {
                tokens_ = std::min(burst, tokens_ + to_s(t - last_) * limit);
            }
            tokens_ = std::min(tokens_, burst);
            last_ = t;
            if (tokens_ >= 1.0) {
                tokens_ -= 1.0;
                return true;
            }
        } else {
            last_ = t;
            tokens_ = 0;
        }
        if (step.retry_after_s > 0) retry_after_s = step.retry_after_s;
        else if (p_.retry_after == retry_after_style::whole_seconds)
            retry_after_s = limit > 0 ? std::max(1.0, std::ceil((1.0 - tokens_) / limit)) : 1.0;
        return false;
    }

private:
    const limit_step& current(ns t) const {
        const limit_step* s = &p_.schedule.front();
        for (const auto& step : p_.schedule)
            if (to_ns(step.from_s) <= t) s = &step;
        return *s;
    }
    const sim_server& p_;
    double tokens_ = 0;
    ns last_ = 0;
    bool started_ = false;
};

struct client_state {
    client_state(const sim_client& s, std::uint64_t seed) : spec(s), ctl(s.rate, at(0)), random(seed) {}
    const sim_client& spec;
    rate_controller ctl;
    rng random;
    std::deque<std::uint64_t> queue;
    std::vector<std::uint32_t> accepted;  // per call
    std::uint64_t in_flight = 0;
    std::uint64_t remaining = 0;          // backlog calls not yet accepted
    ns wake_at = -1;                      // a wake event is pending for this time
    sim_client_result result;
};

class simulation {
public:
    simulation(const sim_server& server, const std::vector<sim_client>& clients, double duration_s, std::uint64_t seed)
        : server_(server), end_(to_ns(duration_s)), latency_rng_(seed * 7919 + 1) {
        for (std::size_t i = 0; i < clients.size(); ++i) {
            clients_.push_back(std::make_unique<client_state>(clients[i], seed * 104729 + i + 1));
            client_state& c = *clients_.back();
            for (std::uint64_t k = 0; k < clients[i].backlog; ++k) c.queue.push_back(new_call(c));
            c.remaining = clients[i].backlog;
            if (clients[i].offered > 0) {
                open_ = true;
                push({.t = 0, .what = kind::arrival, .client = i});
            }
            push({.t = 0, .what = kind::wake, .client = i});
            push({.t = 0, .what = kind::tick, .client = i});
        }
    }

    sim_result run() {
        while (!queue_.empty()) {
            event e = queue_.top();
            queue_.pop();
            if (e.t > end_) break;
            ++result_.events;
            now_ = e.t;
            client_state& c = *clients_[e.client];
            switch (e.what) {
                case kind::arrival:
                    c.queue.push_back(new_call(c));
                    push({.t = e.t + to_ns(1.0 / c.spec.offered), .what = kind::arrival, .client = e.client});
                    pump(e.client);
                    break;
                case kind::wake:
                    if (c.wake_at == e.t) c.wake_at = -1;
                    pump(e.client);
                    break;
                case kind::tick: {
                    metrics_snapshot m;
                    c.ctl.fill(m, at(e.t));
                    c.result.allowed_rate.push_back(m.rate_allowed);
                    push({.t = e.t + ns_per_s, .what = kind::tick, .client = e.client});
                    break;
                }
                case kind::reach_server: {
                    double ra = 0;
                    const bool ok = server_model_.admit(e.t, ra);
                    count(c, e.t).sent++;
                    count(c, e.t).throttled += ok ? 0 : 1;
                    count(c, e.t).accepted += ok ? 1 : 0;
                    event a = e;
                    a.what = kind::answer;
                    a.t = e.sent + e.latency;
                    a.accepted = ok;
                    a.retry_after_s = ra;
                    push(a);
                    break;
                }
                case kind::answer: on_answer(e); break;
            }
            if (!open_ && all_done()) break;
        }
        // Totals per second over every client.
        for (auto& c : clients_) {
            auto& r = c->result;
            r.counts = c->ctl.counts();
            r.final_concurrency_cap = c->ctl.concurrency_cap();
            if (result_.total.size() < r.seconds.size()) result_.total.resize(r.seconds.size());
            for (std::size_t s = 0; s < r.seconds.size(); ++s) {
                result_.total[s].sent += r.seconds[s].sent;
                result_.total[s].accepted += r.seconds[s].accepted;
                result_.total[s].throttled += r.seconds[s].throttled;
            }
            result_.clients.push_back(std::move(r));
        }
        return std::move(result_);
    }

private:
    void push(event e) {
        e.seq = seq_++;
        queue_.push(e);
    }

    std::uint64_t new_call(client_state& c) {
        c.accepted.push_back(0);
        ++c.result.calls;
        return c.accepted.size() - 1;
    }

    second_counts& count(client_state& c, ns t) {
        const auto s = static_cast<std::size_t>(t / ns_per_s);
        if (c.result.seconds.size() <= s) c.result.seconds.resize(s + 1);
        return c.result.seconds[s];
    }

    bool all_done() const {
        for (const auto& c : clients_)
            if (c->remaining > 0) return false;
        return true;
    }

    void note(client_state& c, const rate_decision_event& e) { ++c.result.decisions[static_cast<std::size_t>(e.decision)]; }

    // The shard's part: send what the controller lets through, wait for what it does not.
    void pump(std::size_t index) {
        client_state& c = *clients_[index];
        const auto t = at(now_);
        while (!c.queue.empty() && c.in_flight < c.ctl.concurrency_cap()) {
            const auto got = c.ctl.try_acquire(t, c.random.uniform(), c.random.uniform());
            if (got.event) note(c, *got.event);
            if (got.what == rate_controller::verdict::reject) continue;  // the same call asks again
            if (got.what == rate_controller::verdict::wait) {
                const ns next = std::max<ns>(now_ + 1000, (c.ctl.next_slot(t) - origin).count());
                if (c.wake_at < 0 || next < c.wake_at) {
                    c.wake_at = next;
                    push({.t = next, .what = kind::wake, .client = index});
                }
                return;
            }
            const std::uint64_t call = c.queue.front();
            c.queue.pop_front();
            ++c.in_flight;
            c.result.max_in_flight = std::max(c.result.max_in_flight, c.in_flight);
            if (c.spec.record_sends) c.result.sends.push_back(to_s(now_));
            const double span = c.spec.latency_max_s - c.spec.latency_min_s;
            const ns latency = to_ns(c.spec.latency_min_s + span * latency_rng_.uniform());
            push({.t = now_ + latency / 2, .what = kind::reach_server, .client = index, .call = call, .sent = now_,
                  .latency = latency});
        }
    }

    void on_answer(const event& e) {
        client_state& c = *clients_[e.client];
        --c.in_flight;
        if (e.accepted) {
            if (auto d = c.ctl.on_accepted(at(e.sent), at(e.t))) note(c, *d);
            if (c.accepted[e.call]++ > 0) {
                ++c.result.duplicates;
            } else {
                ++c.result.accepted_calls;
                if (e.call < c.spec.backlog && --c.remaining == 0) c.result.all_done_s = to_s(e.t);
            }
        } else {
            std::optional<std::chrono::milliseconds> ra;
            if (e.retry_after_s > 0) ra = std::chrono::milliseconds(std::llround(e.retry_after_s * 1000));
            note(c, c.ctl.on_throttled(at(e.sent), at(e.t), ra, c.random.uniform()));
            c.queue.push_front(e.call);
        }
        pump(e.client);
    }

    const sim_server& server_;
    server_model server_model_{server_};
    ns end_;
    ns now_ = 0;
    bool open_ = false;
    std::uint64_t seq_ = 0;
    rng latency_rng_;
    std::vector<std::unique_ptr<client_state>> clients_;
    std::priority_queue<event, std::vector<event>, std::greater<>> queue_;
    sim_result result_;
};

}  // namespace

std::uint64_t sim_client_result::sum(std::uint64_t second_counts::*field, std::size_t from_s, std::size_t to_s) const {
    std::uint64_t n = 0;
    for (std::size_t s = from_s; s < to_s && s < seconds.size(); ++s) n += seconds[s].*field;
    return n;
}

sim_result simulate(const sim_server& server, const std::vector<sim_client>& clients, double duration_s,
                    std::uint64_t seed) {
    return simulation(server, clients, duration_s, seed).run();
}

rate_params adaptive_defaults() {
    rate_params p;
    p.mode = rate_mode::adaptive;
    return p;
}

}  // namespace catalyst::test
