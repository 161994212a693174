// The shard drives its calls' state machines: every input (submit, an attempt's end, a
// cancel, a timer, a requeue, a stop) goes to the call's `call_fsm`, and the shard carries out
// the action it returns. No socket code here (connection.cpp).
#include "client/shard.hpp"
#include "client/event_time.hpp"

#include "client/client_impl.hpp"
#include "client/connection.hpp"
#include "client/retry_after.hpp"

#include <catalyst/json.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include <openssl/ssl.h>

#include <optional>

#include <algorithm>

namespace catalyst::detail {

namespace net = boost::asio;
using boost::system::error_code;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

namespace {
// Free call objects kept per shard: enough for the peak a shard sees in practice; a burst
// beyond it allocates and frees.
std::size_t pool_cap(std::size_t max_connections) { return 1024 + 2 * max_connections; }

// Empties a caller's session without giving back its strings' capacity.
void clear_session(session& s) noexcept {
    s.token.clear();
    s.status_text.clear();
    s.payment_url.clear();
    s.status = session_status::unknown;
    s.replayed = s.reused = false;
}

// What one attempt alone amounts to, for the observer (the call may go on).
errc attempt_errc(attempt_result r, unsigned status, std::string_view api_code) {
    switch (r) {
    case attempt_result::response: return status_to_errc(status, api_code);
    case attempt_result::connect_failed: return errc::connect_failed;
    case attempt_result::tls_handshake_failed:
    case attempt_result::tls_rejected: return errc::tls_failed;
    case attempt_result::stale_connection:
    case attempt_result::ambiguous:
    case attempt_result::answer_cut_short: return errc::outcome_unknown;
    case attempt_result::attempt_timeout:
    case attempt_result::overall_timeout: return errc::timeout;
    case attempt_result::protocol_error: return errc::protocol_error;
    case attempt_result::cancelled: return errc::cancelled;
    }
    return errc::unexpected_status;
}

// A completion that came from a list keeps nothing of it.
bool waiting(call_phase p) { return p == call_phase::queued || p == call_phase::backing_off; }

// The shard whose posted completion handler runs on this thread now (may_submit_inline).
// Runs a call's handler: its cancellation slot is cleared first, on the executor where the
// cancellation is emitted (clearing it drops the canceller's reference to the call).
template <class Handler, class... Args>
void complete(Handler& h, Args&&... args) {
    auto slot = net::get_associated_cancellation_slot(h);
    if (slot.is_connected()) slot.clear();
    std::move(h)(std::forward<Args>(args)...);
}

thread_local shard* completing = nullptr;

struct completing_scope {
    shard* before;
    explicit completing_scope(shard* s) noexcept : before(std::exchange(completing, s)) {}
    ~completing_scope() { completing = before; }
};
}  // namespace

bool shard::may_submit_inline() const noexcept { return completing == this; }

shard::submit_scope::submit_scope() noexcept : completing_before(std::exchange(completing, nullptr)) {}

shard::submit_scope::~submit_scope() { completing = completing_before; }

shard::shard(client_impl& owner, net::any_io_executor ex, net::any_io_executor handler_ex, std::size_t max_connections,
             std::size_t queue_limit)
    : owner_(owner),
      ex_(std::move(ex)),
      handler_ex_(std::move(handler_ex)),
      // an io_context's executor fits any_executor's small buffer: copies then never allocate
      completion_ex_(handler_ex_.target<net::io_context::executor_type>()
                         ? net::any_completion_executor(*handler_ex_.target<net::io_context::executor_type>())
                         : net::any_completion_executor(handler_ex_)),
      pool_(std::make_shared<call_pool>(pool_cap(max_connections))),
      max_connections_(max_connections),
      queue_limit_(queue_limit),
      max_opening_(std::max<std::size_t>(1, owner.params().max_opening_connections / owner.shard_count())),
      timer_(ex_),
      shutdown_timer_(ex_),
      pacing_(owner.params().rate.mode == rate_mode::fixed
                  ? owner.params().rate.rate_per_second / static_cast<double>(owner.shard_count())
                  : 0,
              owner.params().rate.burst, steady::now()),
      rate_(owner.rate()),
      pacing_timer_(ex_),
      observer_(owner.params().observer.get()) {
    queue_.mirror = &metrics_.queued;
    backoff_.mirror = &metrics_.backing_off;
    // One thread runs the shard's io_context (client(params), or a caller's io_context made for
    // one thread; otherwise the shard is on a strand): completions posted to handler_ex_ run
    // where the shard runs.
    inline_submit_ = handler_ex_ == ex_ && ex_.target<net::io_context::executor_type>() != nullptr;
    if (inline_submit_) pool_->set_home(&ex_.target<net::io_context::executor_type>()->context());
}

shard::~shard() {
    // Handlers not run by now never will be (their io_context is gone): dropped, as Asio drops
    // the handlers of an io_context destroyed with work queued.
    while (call* c = completed_.pop_front()) call_ref::adopt(c).reset();
    if (tls_session_) SSL_SESSION_free(tls_session_);
}

// --- the call state machine's actions -----------------------------------------------------------

void shard::apply(call* c, call_phase before, const call_action& a) {
    // A call that left the queue or its backoff leaves its list and its timer.
    if (waiting(before) && c->fsm.phase() != before) {
        (before == call_phase::queued ? queue_ : backoff_).erase(c);
        timers_.remove(c);
    }
    switch (a.step) {
    case call_step::none:
        break;
    case call_step::enqueue:
        c->conn = nullptr;
        if (observer_) c->ready_at = event_time::now();
        if (a.front) queue_.push_front(c);
        else queue_.push_back(c);
        if (a.at != steady::time_point::max()) timers_.set(c, a.at);
        break;
    case call_step::back_off:
        backoff_.push_back(c);
        timers_.set(c, a.at);
        break;
    case call_step::send:  // dispatch() hands it over
        break;
    case call_step::abort:
        if (c->conn) c->conn->abort(a.error);
        break;
    case call_step::complete:
        if (a.error == errc::queue_full && c->diag) c->diag->detail = a.why;
        else if (a.error == errc::shutting_down && before == call_phase::idle && c->diag) c->diag->detail = a.why;
        else if (a.error != errc{} && c->diag && !a.why.empty()) c->diag->no_retry_reason = std::string(a.why);
        finish(c, a.error, a.why);
        break;
    }
}

void shard::submit(call_ref ref) {
    const event_time::scope event;
    call* c = ref.release();  // the shard's reference until the call completes
    ++active_requests_;
    c->owner = this;
    c->ready_at = c->start;
    const auto a = c->fsm.submit(!shutting_down_);
    apply(c, call_phase::idle, a);
    if (a.step != call_step::enqueue) return;
    // Refer to the call by its reference count from here: dispatch() may complete it.
    const call_ref hold(c);
    dispatch();
    if (c->fsm.phase() != call_phase::queued) return;
    // It waits: the queue is bounded.
    if (queue_.size > queue_limit_) {
        apply(c, call_phase::queued, c->fsm.overflow());
        return arm_timer();
    }
    metrics_.queue_waits.fetch_add(1, std::memory_order_relaxed);
}

void shard::cancel(call* c, net::cancellation_type_t type) {
    if (c->owner != this) return;
    const auto before = c->fsm.phase();
    apply(c, before, c->fsm.cancel(type));
    arm_timer();
}

void shard::requeue(call* c) {
    c->conn = nullptr;
    leave_rate_wire(c, nullptr, event_time::now());
    // The attempt ends unsent; the call is sent again at once (or ends: cancelled, stopped,
    // past its deadline).
    if (c->attempt_open)
        attempt_ended(c, nullptr, 0, errc{}, true, retry_reason::stale_connection, milliseconds(0), {});
    const auto before = c->fsm.phase();
    apply(c, before, c->fsm.requeue(event_time::now()));
    dispatch();
}

// Called once an input has been handled, not per change: a call that is queued and sent in the
// same handler costs no timer operation (no system call).
void shard::arm_timer() {
    const auto next = timers_.next();
    if (next == steady::time_point::max()) {
        // Nothing waits: a timer left armed would keep the executor's run() busy for nothing.
        if (timer_at_ != steady::time_point::max()) {
            timer_at_ = steady::time_point::max();
            timer_.cancel();
        }
        return;
    }
    if (next >= timer_at_) return;  // it fires early and re-arms
    timer_at_ = next;
    timer_.expires_at(next);
    timer_.async_wait([weak = weak_from_this()](const error_code& ec) {
        if (ec) return;
        if (auto self = weak.lock()) self->on_timer();
    });
}

void shard::on_timer() {
    const event_time::scope event;
    timer_at_ = steady::time_point::max();
    const auto now = event_time::now();
    bool requeued = false;
    while (call* c = timers_.pop_due(now)) {
        const auto before = c->fsm.phase();
        const auto a = c->fsm.timer(now);
        apply(c, before, a);
        if (a.step == call_step::enqueue) requeued = true;
        // Still waiting (a spurious wake-up): back in the heap at its own time.
        if (c->fsm.phase() == before && waiting(before) && c->timer_slot == static_cast<std::size_t>(-1))
            timers_.set(c, c->fsm.wake_at());
    }
    arm_timer();
    if (requeued) dispatch();
}

// --- from the queue to the wire -----------------------------------------------------------------

shard::admission shard::admit(call* c, steady::time_point now) {
    (void)c;
    if (rate_) {
        const auto a = rate_->admit(now, uniform01(), uniform01(), weak_from_this());
        switch (a.what) {
        case rate_gate::verdict::send:
            return admission::send;
        case rate_gate::verdict::wait:
            // A time when the rate gives a slot; none when only an attempt's end frees a
            // place (wake_from_gate comes then).
            if (a.retry_at != steady::time_point::max()) wait_for_slot(a.retry_at);
            return admission::wait;
        case rate_gate::verdict::reject:
            if (a.event) rate_event(*a.event);
            return admission::reject;
        }
    }
    if (!pacing_.enabled() || pacing_.try_take(now)) return admission::send;
    metrics_.rate_waits.fetch_add(1, std::memory_order_relaxed);
    wait_for_slot(now + pacing_.wait(now));
    return admission::wait;
}

void shard::wait_for_slot(steady::time_point at) {
    if (at >= pacing_at_) return;  // an earlier wake-up is armed: it asks again
    pacing_at_ = at;
    pacing_timer_.expires_at(at);
    pacing_timer_.async_wait([weak = weak_from_this()](const error_code& ec) {
        if (ec) return;
        if (auto self = weak.lock()) {
            const event_time::scope event;
            self->pacing_at_ = steady::time_point::max();
            self->dispatch();
        }
    });
}

void shard::wake_from_gate() {
    net::post(ex_, [keep = owner_.shared_from_this(), weak = weak_from_this()] {
        const event_time::scope event;
        if (auto self = weak.lock()) self->dispatch();
    });
}

void shard::rate_event(const rate_decision_event& e) {
    if (!observer_) return;
    try {
        observer_->on_rate_decision(e);
    } catch (...) {
        owner_.log(log_level::warning, "the observer's on_rate_decision threw (ignored)");
    }
}

void shard::leave_rate_wire(call* c, const attempt_outcome* answer, steady::time_point now) {
    if (!c->on_rate_wire) return;
    c->on_rate_wire = false;
    if (!answer) return rate_->released(now);
    const bool throttled = answer->status == 429 || answer->status == 503;
    if (auto e = rate_->answered(c->sent_at, now, throttled, answer->retry_after, uniform01())) rate_event(*e);
}

call* shard::pop_ready(steady::time_point now) {
    while (queue_.size > 0) {
        call* c = queue_.head;
        // A call past its deadline completes (dispatch says so) whatever the rate says.
        if (now < c->fsm.deadline()) {
            const auto adm = admit(c, now);
            if (adm == admission::wait) return nullptr;
            if (adm == admission::reject) {
                if (c->diag)
                    c->diag->detail = "refused by client-side throttling: the API has turned most calls away lately";
                apply(c, call_phase::queued, c->fsm.refuse(errc::rate_limited, "client-side throttling"));
                continue;
            }
        }
        const auto a = c->fsm.dispatch(now);
        if (a.step == call_step::send) c->on_rate_wire = rate_ != nullptr;
        apply(c, call_phase::queued, a);
        if (a.step == call_step::send) return c;
    }
    return nullptr;
}

void shard::dispatch() {
    if (dispatching_) {
        dispatch_again_ = true;
        return;
    }
    dispatching_ = true;
    try {
        do {
            dispatch_again_ = false;
            dispatch_loop();
        } while (dispatch_again_);
    } catch (...) {
        dispatching_ = false;
        throw;
    }
    dispatching_ = false;
    arm_timer();
}

void shard::dispatch_loop() {
    while (queue_.size > 0) {
        if (idle_.empty() && !may_open(event_time::now())) return;
        call* c = pop_ready(event_time::now());
        if (!c) return;
        // pop_ready may have completed calls on the way (deadlines), which can close idle
        // connections: what is free is looked at again.
        if (!idle_.empty()) {
            if (observer_) attempt_started(c, true);
            connection* conn = idle_.back();
            idle_.pop_back();
            c->conn = conn;
            conn->assign(c);
        } else if (may_open(event_time::now())) {
            if (observer_) attempt_started(c, false);
            open_connection(c);
        } else {
            leave_rate_wire(c, nullptr, event_time::now());
            apply(c, call_phase::dispatched, c->fsm.requeue(event_time::now()));
            return;
        }
    }
}

// How long a cold start's other connections wait for the first one's ticket at most: its TCP
// and TLS handshakes and half a round trip more, 2.5 round trips, take 125 ms at 50 ms a round
// trip; a first handshake that stalls (a bad backend) holds the others up no longer than this.
constexpr std::chrono::milliseconds ticket_wait{200};

bool shard::may_open(steady::time_point now) {
    return all_.size() < max_connections_ && opening_ < max_opening_ && !stopped_ && !waits_for_ticket(now);
}

bool shard::waits_for_ticket(steady::time_point now) {
    if (warm_done_) return false;
    if (tls_session_ || !owner_.params().tls.session_resumption) {
        warm_done_ = true;
        return false;
    }
    if (!warming_) return false;  // the connection about to open is the one
    if (now < warm_until_) {
        wait_for_slot(warm_until_);
        return true;
    }
    warm_done_ = true;  // no ticket in time: the others open with full handshakes
    return false;
}

void shard::open_connection(call* c) {
    auto conn = std::make_shared<connection>(owner_.shared_from_this(), *this);
    if (!warm_done_ && !warming_) {
        warming_ = conn.get();
        warm_until_ = event_time::now() + ticket_wait;
    }
    all_.push_back(conn.get());
    ++opening_;
    c->conn = conn.get();
    conn->start(c);
}

call* shard::next_call(connection* conn, bool& close) {
    close = false;
    if (call* c = pop_ready(event_time::now())) {
        c->conn = conn;
        if (observer_) attempt_started(c, true);
        return c;
    }
    if (shutting_down_ && queue_.size == 0) {
        close = true;
        return nullptr;
    }
    idle_.push_back(conn);
    return nullptr;
}

void shard::remove_idle(connection* conn) noexcept {
    auto it = std::find(idle_.begin(), idle_.end(), conn);
    if (it != idle_.end()) idle_.erase(it);
}

void shard::connection_opened() {
    --opening_;
    dispatch();
}

void shard::answered_without_ticket(const connection* conn) {
    if (conn != warming_ || warm_done_) return;
    warm_done_ = true;
    wake_from_gate();
}

void shard::forget(connection* conn) noexcept {
    remove_idle(conn);
    if (conn == warming_) warming_ = nullptr;  // failed or closed: the next connection opens alone
    auto it = std::find(all_.begin(), all_.end(), conn);
    if (it == all_.end()) return;
    *it = all_.back();
    all_.pop_back();
}

void shard::connection_closed(connection* conn) noexcept {
    const std::size_t before = all_.size();
    forget(conn);
    if (all_.size() == before) return;
    try {
        dispatch();
        check_shutdown_done();
    } catch (...) {
        owner_.log(log_level::error, "dispatch after a connection closed failed");
    }
}

// --- an attempt's end -----------------------------------------------------------------------------

void shard::read_answer(call* c, const http_response& resp, attempt_outcome& o, std::string& api_code, session& s) {
    o.status = resp.status;
    if (!resp.retry_after.empty()) o.retry_after = parse_retry_after(resp.retry_after, std::chrono::system_clock::now());
    diagnostics* d = c->diag;
    if (resp.status == 200 || resp.status == 201) {
        // Into the caller's session when it gave one: its strings keep their capacity.
        session& into = c->out ? *c->out : s;
        if (c->out) clear_session(into);
        if (auto ec = decode(resp.body, into)) {
            o.result = attempt_result::protocol_error;
            if (d) {
                d->http_status = resp.status;
                d->detail = "the answer is not a valid session: " + ec.message();
                d->body_excerpt = bounded_excerpt(resp.body, 256);
                d->request_id = std::string(resp.request_id);
            }
            return;
        }
        into.replayed = resp.replayed;
        into.reused = resp.status == 200;
        if (d) {
            d->http_status = resp.status;
            d->request_id = std::string(resp.request_id);
        }
        return;
    }
    // Error answers: their body is read when someone will look (diagnostics) or when the
    // decision depends on it (409 in-progress).
    if (d || resp.status == 409) {
        diagnostics scratch;
        diagnostics& target = d ? *d : scratch;
        target.detail.clear();
        target.api_code.clear();
        target.fields.clear();
        target.body_excerpt.clear();
        read_error_body(resp, target, api_code);
        target.http_status = resp.status;
        target.request_id = std::string(resp.request_id);
    }
    o.api_code = api_code;
}

void shard::attempt_done(call* c, const attempt_report& r) {
    c->conn = nullptr;
    const auto now = event_time::now();
    attempt_outcome o;
    o.result = r.result;
    std::string api_code;
    session local;
    if (r.result == attempt_result::response) read_answer(c, *r.response, o, api_code, local);
    leave_rate_wire(c, r.result == attempt_result::response ? &o : nullptr, now);
    const auto before = c->fsm.phase();
    const bool budget = retry_budget_allows(c->retry, active_requests_, active_retries_ - (c->retrying ? 1 : 0));
    const auto a = c->fsm.attempt_ended(o, now, budget, uniform01());
    record_attempt(c, r, o, a);
    if (a.step == call_step::back_off && !c->retrying) {
        c->retrying = true;
        ++active_retries_;
    }
    if (a.step == call_step::complete && a.error == errc{}) return finish(c, errc{}, {}, std::move(local));
    apply(c, before, a);
    if (a.step == call_step::enqueue) dispatch();
    else arm_timer();
}

void shard::record_attempt(call* c, const attempt_report& r, const attempt_outcome& o, const call_action& a) {
    const bool success = a.step == call_step::complete && a.error == errc{};
    const bool retried = a.step == call_step::enqueue || a.step == call_step::back_off;
    const milliseconds wait = a.step == call_step::back_off ? duration_cast<milliseconds>(a.at - event_time::now()) : milliseconds(0);
    const std::string_view request_id =
        r.result == attempt_result::response ? r.response->request_id : std::string_view();
    if (diagnostics* d = c->diag) {
        attempt_record rec;
        rec.http_status = o.status;
        if (!success) rec.error = r.error;
        if (o.result == attempt_result::protocol_error && r.result == attempt_result::response) rec.error = "malformed body";
        rec.reason = a.reason;
        rec.backoff = a.step == call_step::back_off ? std::max(wait, milliseconds(0)) : milliseconds(0);
        d->history.push_back(std::move(rec));
        if (!r.error.empty() && o.status == 0) d->detail = r.error;
        if (o.status == 0) d->http_status = 0;
    }
    if (observer_) {
        const errc e = success ? errc{}
                       : retried ? attempt_errc(o.result, o.status, o.api_code)
                                 : a.error;
        attempt_ended(c, &r, o.status, e, retried, a.reason, retried ? std::max(wait, milliseconds(0)) : milliseconds(0),
                      request_id);
    }
    if (retried) {
        metrics_.retries.fetch_add(1, std::memory_order_relaxed);
        metrics_.retries_by_reason[static_cast<std::size_t>(a.reason)].fetch_add(1, std::memory_order_relaxed);
        if (a.step == call_step::enqueue) {
            if (owner_.logs(log_level::debug))
                owner_.log(log_level::debug, "stale keep-alive connection: resending on another connection");
        } else if (owner_.logs(log_level::info)) {
            owner_.log(log_level::info, "retrying (" + std::string(to_string(a.reason)) +
                                            (o.status ? ", HTTP " + std::to_string(o.status) : std::string()) +
                                            ") after attempt " + std::to_string(c->fsm.attempts()) + ", backoff " +
                                            std::to_string(std::max(wait, milliseconds(0)).count()) + " ms" +
                                            (request_id.empty() ? std::string() : ", request id " + std::string(request_id)));
        }
    } else if (!success && a.step == call_step::complete && owner_.logs(log_level::info)) {
        if (o.status == 0)
            owner_.log(log_level::info, "request failed (" + std::string(to_string(a.error)) + "): " + r.error);
        else
            owner_.log(log_level::info, "request failed (" + std::string(to_string(a.error)) + ", HTTP " +
                                            std::to_string(o.status) + ") after attempt " + std::to_string(c->fsm.attempts()) +
                                            (request_id.empty() ? std::string() : ", request id " + std::string(request_id)));
    }
}

void shard::attempt_started(call* c, bool reused) {
    const auto now = event_time::now();
    c->attempt_start = now;
    c->attempt_open = true;
    attempt_start_event e;
    e.attempt = c->fsm.attempts() + 1;
    e.connection = reused ? connection_use::reused : connection_use::new_connection;
    e.queue_wait = duration_cast<std::chrono::microseconds>(now - c->ready_at);
    e.context = c->observer_context;
    try {
        observer_->on_attempt_start(e);
    } catch (...) {
        owner_.log(log_level::warning, "the observer's on_attempt_start threw (ignored)");
    }
}

void shard::attempt_ended(call* c, const attempt_report* r, unsigned status, errc error, bool retried,
                          retry_reason reason, milliseconds backoff, std::string_view request_id) {
    c->attempt_open = false;
    attempt_end_event e;
    // The state machine has counted this attempt already (a stale resend is not counted).
    e.attempt = c->fsm.attempts() + ((r && r->result != attempt_result::stale_connection) ? 0 : 1);
    e.http_status = status;
    if (error != errc{}) e.error = error;
    e.retried = retried;
    e.reason = reason;
    e.backoff = backoff;
    if (r) {
        e.connection = r->connection;
        e.bytes_sent = r->bytes_sent;
        e.bytes_received = r->bytes_received;
        e.connect = r->connect;
        e.tls_handshake = r->tls_handshake;
        e.time_to_first_byte = r->time_to_first_byte;
        e.tls_cipher = r->tls_cipher;
    }
    e.queue_wait = duration_cast<std::chrono::microseconds>(c->attempt_start - c->ready_at);
    e.total = duration_cast<std::chrono::microseconds>(event_time::now() - c->attempt_start);
    e.request_id = request_id;
    e.context = c->observer_context;
    try {
        observer_->on_attempt_end(e);
    } catch (...) {
        owner_.log(log_level::warning, "the observer's on_attempt_end threw (ignored)");
    }
}

// --- completion -----------------------------------------------------------------------------------

void shard::finish(call* c, errc e, std::string_view why, session s) {
    (void)why;
    const auto now = event_time::now();
    leave_rate_wire(c, nullptr, now);
    const error_code ec = e == errc{} ? error_code{} : make_error_code(e);
    if (c->attempt_open) attempt_ended(c, nullptr, 0, e, false, retry_reason::none, milliseconds(0), {});
    --active_requests_;
    if (c->retrying) --active_retries_;
    c->retrying = false;
    const auto elapsed = now - c->start;
    const auto us = duration_cast<std::chrono::microseconds>(elapsed).count();
    if (ec) {
        metrics_.failures.fetch_add(1, std::memory_order_relaxed);
        if (static_cast<std::size_t>(e) < metrics_errc_slots)
            metrics_.failures_by_errc[static_cast<std::size_t>(e)].fetch_add(1, std::memory_order_relaxed);
    } else {
        metrics_.successes.fetch_add(1, std::memory_order_relaxed);
    }
    std::size_t bucket = 0;
    const double secs = static_cast<double>(us) / 1e6;
    while (bucket < latency_bucket_bounds.size() && secs > latency_bucket_bounds[bucket]) ++bucket;
    metrics_.latency[bucket].fetch_add(1, std::memory_order_relaxed);
    metrics_.latency_sum_us.fetch_add(static_cast<std::uint64_t>(us), std::memory_order_relaxed);
    if (diagnostics* d = c->diag) {
        d->attempts = c->fsm.attempts();
        d->elapsed = duration_cast<milliseconds>(elapsed);
        if (ec && d->detail.empty()) d->detail = std::string(to_string(e));
    }
    auto work = std::move(c->handler_work);  // released after the post has taken over
    if (session* out = c->out) {
        if (ec) clear_session(*out);  // what a malformed answer left there
    }
    if (!work) {
        // The handler runs on the client's executor (the owned thread's, or the one the caller
        // gave): at the end of the answer's handler (begin_answer_turn), or with the other
        // calls completed in this turn of the event loop from one posted function (a post per
        // turn, not per call). The call keeps the shard's reference until then.
        c->result = ec;
        if (!c->out) c->answer = std::move(s);
        bool post = false;
        {
            const completed_lock lock(*this);
            completed_.push_back(c);
            if (!answer_turn_) post = !std::exchange(completions_posted_, true);
        }
        if (post) post_completions();
        if (shutting_down_) check_shutdown_done();
        return;
    }
    // A handler bound to an executor of its own: posted to it alone, through this shard first
    // (what this handler of the shard still does, closing the connection that failed, say,
    // happens before the caller sees the completion). A plain function is posted: posting the
    // any_completion_handler itself would look up and wrap its executor, two allocations per
    // call.
    if (c->out) {
        auto handler = std::move(c->into_handler);
        call_ref::adopt(c).reset();  // the shard's reference
        post_to_bound_executor(std::move(work), [h = std::move(handler), ec]() mutable { complete(h, ec); });
    } else {
        auto handler = std::move(c->handler);
        call_ref::adopt(c).reset();
        post_to_bound_executor(std::move(work),
                               [h = std::move(handler), ec, s = std::move(s)]() mutable { complete(h, ec, std::move(s)); });
    }
    if (shutting_down_) check_shutdown_done();
}

bool shard::begin_answer_turn() noexcept {
    if (!inline_submit_ || answer_turn_) return false;
    answer_turn_ = true;
    return true;
}

void shard::end_answer_turn() {
    // Turns open only where one thread runs the shard and its handlers: the list needs no
    // lock, and calls left there by an earlier post's wait run now, before it, in order.
    answer_turn_ = false;
    if (completed_.head) run_completions();
}

void shard::post_completions() {
    // The client's state keeps the shard alive until the batch ran (the caller's io_context
    // may outlive the client).
    net::post(handler_ex_, [keep = owner_.shared_from_this(), self = this] { self->run_completions(); });
}

void shard::run_completions() {
    // This batch only: calls completed while its handlers run (a call refused at once, say)
    // wait for the next post, so that a chain of such calls cannot hold the event loop.
    call_list batch;
    {
        const completed_lock lock(*this);
        completions_posted_ = false;
        batch = std::exchange(completed_, call_list{});
    }
    struct keep_the_rest {
        shard& s;
        call_list& batch;
        ~keep_the_rest() {
            if (batch.head) s.keep_completions(batch);
        }
    } guard{*this, batch};
    // On the shard's own thread a call a handler starts is handed to the shard at once.
    std::optional<completing_scope> scope;
    if (inline_submit_) scope.emplace(this);
    while (call* c = batch.pop_front()) {
        const error_code ec = c->result;
        // The call goes back to its pool first: a call the handler starts reuses it.
        if (c->out) {
            auto h = std::move(c->into_handler);
            call_ref::adopt(c).reset();
            complete(h, ec);
        } else {
            auto h = std::move(c->handler);
            session s = std::move(c->answer);
            call_ref::adopt(c).reset();
            complete(h, ec, std::move(s));
        }
    }
}

void shard::keep_completions(call_list& rest) noexcept {
    bool post = false;
    {
        const completed_lock lock(*this);
        while (call* c = rest.tail) {
            rest.erase(c);
            completed_.push_front(c);
        }
        post = !std::exchange(completions_posted_, true);
    }
    if (!post) return;
    try {
        post_completions();
    } catch (...) {
        // No memory for the post: the next completion posts one for these too.
        const completed_lock lock(*this);
        completions_posted_ = false;
    }
}

template <class Run>
void shard::post_to_bound_executor(net::any_completion_executor work, Run run) {
    net::post(ex_, [run = std::move(run), work = std::move(work)]() mutable { net::dispatch(work, std::move(run)); });
}

// --- shutdown -------------------------------------------------------------------------------------

void shard::begin_shutdown(steady::time_point grace_deadline, std::function<void()> done) {
    const bool first = !shutdown_armed_;
    shutting_down_ = true;
    shutdown_done_.push_back(std::move(done));
    // A second shutdown with a shorter grace shortens it; a longer one does not extend it.
    if (first || grace_deadline < shutdown_timer_.expiry()) {
        shutdown_armed_ = true;
        shutdown_timer_.expires_at(grace_deadline);
        shutdown_timer_.async_wait([weak = weak_from_this()](const error_code& ec) {
            if (ec) return;
            if (auto self = weak.lock()) {
                self->stopped_ = true;
                self->stop_everything();
                self->arm_timer();
                self->check_shutdown_done();
            }
        });
    }
    for (auto* conn : std::vector<connection*>(idle_)) conn->close_idle();
    check_shutdown_done();
}

void shard::hard_stop() {
    shutting_down_ = true;
    stopped_ = true;
    // Nothing is sent any more: a wake-up for the rate or a ticket would only keep the
    // executor's run() busy until it fires.
    pacing_at_ = steady::time_point::max();
    pacing_timer_.cancel();
    stop_everything();
    arm_timer();
    check_shutdown_done();
}

void shard::stop_everything() {
    while (call* c = queue_.head) apply(c, call_phase::queued, c->fsm.stop());
    while (call* c = backoff_.head) apply(c, call_phase::backing_off, c->fsm.stop());
    for (auto* conn : std::vector<connection*>(all_)) {
        // The connection may close (and go) while an earlier one is stopped.
        if (std::find(all_.begin(), all_.end(), conn) == all_.end()) continue;
        if (call* c = conn->current()) apply(c, c->fsm.phase(), c->fsm.stop());
        else conn->close_idle();
    }
}

void shard::check_shutdown_done() {
    if (!shutting_down_) return;
    if (active_requests_ == 0) {
        for (auto* conn : std::vector<connection*>(idle_)) conn->close_idle();
    }
    if (active_requests_ == 0 && all_.empty()) {
        if (shutdown_armed_) shutdown_timer_.cancel();
        auto waiting_callers = std::move(shutdown_done_);
        shutdown_done_.clear();
        for (auto& done : waiting_callers) done();
    }
}

// --- shared by the connections -----------------------------------------------------------------

std::vector<net::ip::tcp::endpoint> shard::cached_endpoints(steady::time_point now) const {
    if (now >= dns_expiry_) return {};
    return dns_;
}

void shard::cache_endpoints(std::vector<net::ip::tcp::endpoint> eps, steady::time_point now) {
    dns_ = std::move(eps);
    dns_expiry_ = now + owner_.params().dns_cache_ttl;
}

void shard::store_tls_session(SSL_SESSION* s) {
    if (tls_session_) SSL_SESSION_free(tls_session_);
    tls_session_ = s;
    if (!warm_done_) {
        // The calls waiting for this ticket may open their connections (from a post: this
        // runs inside a connection's read).
        warm_done_ = true;
        if (warming_) wake_from_gate();
    }
}

}  // namespace catalyst::detail
