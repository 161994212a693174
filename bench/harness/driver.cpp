#include "driver.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

namespace catalyst::bench {
namespace {

namespace net = boost::asio;
using clock = std::chrono::steady_clock;

/// Counts of one thread. Each completion records into the recorder of the thread it runs on,
/// so that no counter is shared between threads and nothing is locked per request.
struct recorder {
    histogram latency;
    std::uint64_t succeeded = 0;
    std::uint64_t failed = 0;
    std::map<std::string, std::uint64_t> errors;

    void record(const boost::system::error_code& ec, nanos elapsed) {
        latency.record(elapsed.count() > 0 ? static_cast<std::uint64_t>(elapsed.count()) : 0);
        if (!ec) {
            ++succeeded;
            return;
        }
        ++failed;
        // the error path may allocate: it is not the path being measured
        ++errors[ec.category() == catalyst_category() ? std::string(to_string(static_cast<errc>(ec.value())))
                                                       : ec.message()];
    }
};

class recorders {
public:
    recorders() : id_(next_id_.fetch_add(1) + 1) {}

    recorder& local() {
        // cached per thread; a new phase has a new id, so a stale cache is never used
        thread_local std::uint64_t cached_id = 0;
        thread_local recorder* cached = nullptr;
        if (cached_id != id_) {
            std::lock_guard lock(mutex_);
            all_.push_back(std::make_unique<recorder>());
            cached = all_.back().get();
            cached_id = id_;
        }
        return *cached;
    }

    void merge_into(phase_result& out) {
        std::lock_guard lock(mutex_);
        for (const auto& r : all_) {
            out.latency.merge(r->latency);
            out.succeeded += r->succeeded;
            out.failed += r->failed;
            for (const auto& [k, n] : r->errors) out.errors[k] += n;
        }
    }

private:
    static inline std::atomic<std::uint64_t> next_id_{0};
    std::uint64_t id_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<recorder>> all_;
};

/// Lets the thread running `ioc` see that the phase is over, whichever thread ends it.
struct finish_flag {
    net::io_context& ioc;
    std::atomic<bool> claimed{false};
    std::atomic<bool> done{false};
    clock::time_point end{};

    void set(clock::time_point t) {
        if (claimed.exchange(true, std::memory_order_acq_rel)) return;  // two paths may both see the end
        end = t;
        done.store(true, std::memory_order_release);
        // Ends run() in wait(); posted, so that a set() before wait() runs is not lost.
        net::post(ioc, [&c = ioc] { c.stop(); });
    }
    void wait() {
        // run(), not a run_one() loop: Asio's per-thread cache of handler memory lives for one
        // run*() call, and a run_one() loop would make every handler on this thread allocate
        // (with --threads 0 the client runs here). A previous phase left the context stopped.
        while (!done.load(std::memory_order_acquire)) {
            if (ioc.stopped()) ioc.restart();
            ioc.run();
        }
    }
};

// ---------------------------------------------------------------- closed loop

struct closed_state;

struct closed_worker {
    closed_state* state = nullptr;
    session_request req;  // one copy per chain: the client may keep a reference while it works
    session out;          // the result, its strings reused by every request of the chain
    clock::time_point sent{};

    void send();
    void on_done(const boost::system::error_code& ec);
};

struct closed_state {
    closed_state(client& cl, const closed_loop_plan& p, net::io_context& ioc) : c(cl), plan(p), finish{ioc} {}
    client& c;
    closed_loop_plan plan;
    clock::time_point start{};
    std::atomic<std::uint64_t> started{0};
    std::atomic<unsigned> active{0};
    recorders rec;
    finish_flag finish;
    request_options opts;
};

struct closed_completion {
    closed_worker* w;
    void operator()(boost::system::error_code ec) const { w->on_done(ec); }
};

void closed_worker::send() {
    sent = clock::now();
    // Into the chain's session: the client's path without a heap allocation per request.
    state->c.async_create_session(req, state->opts, out, nullptr, closed_completion{this});
}

void closed_worker::on_done(const boost::system::error_code& ec) {
    const auto now = clock::now();
    state->rec.local().record(ec, now - sent);
    // claim the next request before sending it, so that --sessions N sends exactly N
    auto& st = *state;
    std::uint64_t n = st.started.load(std::memory_order_relaxed);
    while (st.plan.may_start(n, now - st.start)) {
        if (st.started.compare_exchange_weak(n, n + 1, std::memory_order_relaxed)) {
            send();
            return;
        }
    }
    if (st.active.fetch_sub(1, std::memory_order_acq_rel) == 1) st.finish.set(now);
}

// ---------------------------------------------------------------- open loop

struct open_state;

struct open_slot {
    open_state* state = nullptr;
    session_request req;
    session out;  // reused by the slot's requests
    clock::time_point intended{};
};

struct open_state {
    client& c;
    open_loop_schedule schedule;
    std::size_t max_in_flight;
    std::uint64_t total = 0;  // requests the run sends
    clock::time_point start;
    recorders rec;
    finish_flag finish;
    request_options opts;
    const session_request& prototype;

    std::mutex free_mutex;  // completions may come from the client's threads
    std::vector<open_slot*> free_slots;
    std::vector<std::unique_ptr<open_slot>> slots;  // grows up to max_in_flight, then reused
    std::atomic<std::uint64_t> in_flight{0};
    std::uint64_t issued = 0;  // only the timer's thread touches it
    std::atomic<bool> sending_done{false};

    open_state(client& cl, const open_loop_schedule& s, std::size_t mif, const session_request& proto,
               net::io_context& ioc)
        : c(cl), schedule(s), max_in_flight(mif), finish{ioc}, prototype(proto) {}

    open_slot* take_slot() {
        {
            std::lock_guard lock(free_mutex);
            if (!free_slots.empty()) {
                auto* s = free_slots.back();
                free_slots.pop_back();
                return s;
            }
        }
        if (slots.size() >= max_in_flight) return nullptr;
        slots.push_back(std::make_unique<open_slot>(open_slot{this, prototype, {}, {}}));
        return slots.back().get();
    }

    void give_back(open_slot* s) {
        std::lock_guard lock(free_mutex);
        free_slots.push_back(s);
    }
};

struct open_completion {
    open_slot* slot;
    void operator()(boost::system::error_code ec) const {
        auto& st = *slot->state;
        const auto now = clock::now();
        st.rec.local().record(ec, now - slot->intended);
        st.give_back(slot);
        if (st.in_flight.fetch_sub(1, std::memory_order_acq_rel) == 1 && st.sending_done.load(std::memory_order_acquire))
            st.finish.set(now);
    }
};

class open_pacer {
public:
    open_pacer(open_state& st, net::io_context& ioc) : st_(st), timer_(ioc) {}

    void tick() {
        const auto now = clock::now();
        const std::uint64_t due = std::min<std::uint64_t>(st_.schedule.due_by(now - st_.start), st_.total);
        bool starved = false;
        while (st_.issued < due) {
            open_slot* s = st_.take_slot();
            if (!s) {
                starved = true;
                break;
            }
            s->intended = st_.start + st_.schedule.intended(st_.issued);
            ++st_.issued;
            st_.in_flight.fetch_add(1, std::memory_order_relaxed);
            st_.c.async_create_session(s->req, st_.opts, s->out, nullptr, open_completion{s});
        }
        if (st_.issued >= st_.total) {
            st_.sending_done.store(true, std::memory_order_release);
            // the last completion may have run before sending_done was set
            if (st_.in_flight.load(std::memory_order_acquire) == 0) st_.finish.set(clock::now());
            return;
        }
        // all slots busy: look again soon; else sleep until the next intended time
        timer_.expires_at(starved ? now + std::chrono::microseconds(200)
                                  : st_.start + st_.schedule.intended(st_.issued));
        timer_.async_wait([this](boost::system::error_code ec) {
            if (!ec) tick();
        });
    }

private:
    open_state& st_;
    net::steady_timer timer_;
};

}  // namespace

phase_result run_closed_loop(net::io_context& ioc, client& c, const session_request& req, unsigned concurrency,
                             const closed_loop_plan& plan) {
    auto work = net::make_work_guard(ioc);
    auto st = std::make_unique<closed_state>(c, plan, ioc);
    std::vector<closed_worker> workers(concurrency);
    for (auto& w : workers) {
        w.state = st.get();
        w.req = req;
    }
    st->start = clock::now();
    // claim the first requests before sending any: completions on other threads must not see
    // `active` reach zero while chains are still being started
    unsigned chains = 0;
    for (; chains < concurrency && plan.may_start(chains, nanos(0)); ++chains) {}
    st->started.store(chains);
    st->active.store(chains);
    for (unsigned i = 0; i < chains; ++i) workers[i].send();
    if (chains == 0) st->finish.set(clock::now());
    st->finish.wait();

    phase_result out;
    st->rec.merge_into(out);
    out.started = st->started.load();
    out.wall = st->finish.end - st->start;
    return out;
}

phase_result run_open_loop(net::io_context& ioc, client& c, const session_request& req,
                           const open_loop_schedule& schedule, nanos duration, std::size_t max_in_flight) {
    auto work = net::make_work_guard(ioc);
    open_state st(c, schedule, max_in_flight, req, ioc);
    st.total = duration.count() > 0 ? schedule.due_before(duration) : schedule.limit();
    if (schedule.limit() != 0 && st.total > schedule.limit()) st.total = schedule.limit();
    st.start = clock::now();
    open_pacer pacer(st, ioc);
    pacer.tick();
    st.finish.wait();

    phase_result out;
    st.rec.merge_into(out);
    out.started = st.issued;
    out.wall = st.finish.end - st.start;
    return out;
}

}  // namespace catalyst::bench
