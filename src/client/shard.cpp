// A shard: its wait queue, the calls backing off, retries, completion and shutdown. All of a
// shard's state is touched only on its executor. No socket code here (see connection.cpp).
#include "client/client_impl.hpp"
#include "client/retry_after.hpp"

#include <catalyst/json.hpp>

#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include <openssl/ssl.h>

#include <algorithm>

namespace catalyst::detail {

namespace net = boost::asio;
using boost::system::error_code;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

namespace {
bool has(net::cancellation_type_t set, net::cancellation_type_t t) {
    return (set & t) != net::cancellation_type::none;
}
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
}  // namespace

shard::shard(client_impl& owner, net::any_io_executor ex, net::any_io_executor handler_ex, std::size_t max_connections,
             std::size_t queue_limit)
    : owner_(owner),
      ex_(std::move(ex)),
      handler_ex_(std::move(handler_ex)),
      // an io_context's executor fits any_executor's small buffer: copies then never allocate
      completion_ex_(handler_ex_.target<net::io_context::executor_type>()
                         ? net::any_completion_executor(*handler_ex_.target<net::io_context::executor_type>())
                         : net::any_completion_executor(handler_ex_)),
      max_connections_(max_connections),
      queue_limit_(queue_limit),
      max_opening_(std::max<std::size_t>(1, owner.params().max_opening_connections / owner.shard_count())),
      pacing_(owner.params().pacing.rate_per_second / static_cast<double>(owner.shard_count()),
              owner.params().pacing.burst, steady::now()),
      observer_(owner.params().observer.get()),
      pool_(pool_cap(max_connections)) {
    queue_.mirror = &metrics_.queued;
    backoff_.mirror = &metrics_.backing_off;
}

shard::~shard() {
    if (tls_session_) SSL_SESSION_free(tls_session_);
}

bool shard::take_token() {
    if (!pacing_.enabled()) return true;
    const auto now = steady::now();
    if (pacing_.try_take(now)) return true;
    if (!pacing_armed_) {
        if (!pacing_timer_) pacing_timer_ = std::make_unique<net::steady_timer>(ex_);
        pacing_armed_ = true;
        pacing_timer_->expires_at(now + pacing_.wait(now));
        pacing_timer_->async_wait([this](const error_code& ec) {
            // ec first: an aborted wait may run after the shard (and its timer) are gone.
            if (ec) return;
            pacing_armed_ = false;
            dispatch();
        });
    }
    return false;
}

void shard::submit(request_op* op) {
    ++active_requests_;
    op->owner = this;
    op->ready_at = op->start;
    if (shutting_down_) {
        if (op->diag) op->diag->detail = "the client is shutting down";
        return finish(op, errc::shutting_down);
    }
    const auto gen = op->gen.load(std::memory_order_relaxed);
    op->state = op_state::queued;
    queue_.push_back(op);
    dispatch();
    if (op->gen.load(std::memory_order_relaxed) != gen || op->state != op_state::queued) return;
    // It waits: bounded queue, and its deadline armed.
    if (queue_.size > queue_limit_) {
        queue_.erase(op);
        if (op->diag) op->diag->detail = "the wait queue is full (queue_limit)";
        return finish(op, errc::queue_full);
    }
    metrics_.queue_waits.fetch_add(1, std::memory_order_relaxed);
    if (op->deadline != steady::time_point::max()) arm_op_timer(op, op->deadline);
}

void shard::enqueue(request_op* op, bool front) {
    op->conn = nullptr;
    op->state = op_state::queued;
    if (observer_) op->ready_at = steady::now();
    if (front) queue_.push_front(op);
    else queue_.push_back(op);
    if (op->deadline != steady::time_point::max()) arm_op_timer(op, op->deadline);
}

void shard::requeue_front(request_op* op) {
    // Handed to a connection that found itself closed before writing: that attempt ends
    // unsent, and the call is sent again at once.
    if (op->attempt_open)
        attempt_ended(op, nullptr, 0, errc{}, true, retry_reason::stale_connection, milliseconds(0), {});
    enqueue(op, true);
    dispatch();
}

request_op* shard::pop_ready() {
    while (queue_.size > 0) {
        auto* op = queue_.head;
        if (op->deadline != steady::time_point::max() && steady::now() >= op->deadline) {
            queue_.erase(op);
            if (op->diag) op->diag->no_retry_reason = "overall deadline passed while waiting for a connection";
            finish(op, errc::timeout);
            continue;
        }
        if (!take_token()) return nullptr;
        queue_.erase(op);
        if (op->timer) op->timer->cancel();
        op->state = op_state::in_flight;
        return op;
    }
    return nullptr;
}

void shard::dispatch() {
    while (queue_.size > 0) {
        const bool reuse = !idle_.empty();
        if (!reuse && (all_.size() >= max_connections_ || opening_ >= max_opening_ || stopped_)) return;
        auto* op = pop_ready();
        if (!op) return;
        if (observer_) attempt_started(op, reuse);
        if (reuse) {
            auto* c = idle_.back();
            idle_.pop_back();
            op->conn = c;
            assign(c, op);
        } else {
            spawn_connection(shared_from_this(), op);
        }
    }
}

request_op* shard::next_request(connection* c, bool& close) {
    close = false;
    if (auto* op = pop_ready()) {
        op->conn = c;
        if (observer_) attempt_started(op, true);
        return op;
    }
    if (shutting_down_ && queue_.size == 0) {
        close = true;
        return nullptr;
    }
    idle_.push_back(c);
    return nullptr;
}

void shard::arm_op_timer(request_op* op, steady::time_point at) {
    if (!op->timer) op->timer = std::make_unique<net::steady_timer>(ex_);
    op->timer->expires_at(at);
    op->timer->async_wait([this, op, alive = std::weak_ptr<const bool>(op->alive),
                           gen = op->gen.load(std::memory_order_relaxed)](const error_code& ec) {
        // ec first (the shard may be gone), then whether the op still exists at all.
        if (!ec && !alive.expired()) on_op_timer(op, gen);
    });
}

void shard::on_op_timer(request_op* op, std::uint32_t gen) {
    if (op->gen.load(std::memory_order_relaxed) != gen) return;
    const auto now = steady::now();
    if (op->state == op_state::queued) {
        if (now < op->deadline) return arm_op_timer(op, op->deadline);
        queue_.erase(op);
        if (op->diag) op->diag->no_retry_reason = "overall deadline passed while waiting for a connection";
        return finish(op, errc::timeout);
    }
    if (op->state == op_state::backoff) {
        backoff_.erase(op);
        if (now >= op->deadline) {
            if (op->diag) op->diag->no_retry_reason = "overall deadline passed";
            return finish(op, errc::timeout);
        }
        enqueue(op, true);
        dispatch();
    }
}

void shard::cancel(request_op* op, net::cancellation_type_t type) {
    if (op->owner != this) return;
    const bool any_time = has(type, net::cancellation_type::terminal) || has(type, net::cancellation_type::partial);
    // `total`: only while nothing was sent (connecting, queued, backing off before a first send).
    if (!any_time && !(has(type, net::cancellation_type::total) && !op->sent)) return;
    switch (op->state) {
    case op_state::queued:
        queue_.erase(op);
        break;
    case op_state::backoff:
        backoff_.erase(op);
        break;
    case op_state::in_flight:
        if (op->conn) abort_exchange(op->conn, errc::cancelled);
        return;
    default:
        return;
    }
    if (op->diag) op->diag->no_retry_reason = "cancelled by the caller";
    finish(op, errc::cancelled);
}

void shard::attempt_done(request_op* op, const attempt_report& r, bool reused) {
    op->conn = nullptr;
    const auto now = steady::now();
    if (r.result != attempt_result::stale_connection) ++op->attempts;

    attempt_outcome o;
    o.result = r.result;
    std::string api_code;
    diagnostics* d = op->diag;
    if (r.result == attempt_result::response) {
        const auto& resp = *r.response;
        o.status = resp.status;
        if (!resp.retry_after.empty()) {
            o.retry_after = parse_retry_after(resp.retry_after, std::chrono::system_clock::now());
        }
        if (resp.status == 200 || resp.status == 201) {
            // Into the caller's session when it gave one: its strings keep their capacity.
            session local;
            session& s = op->out ? *op->out : local;
            if (op->out) clear_session(s);
            if (auto ec = decode(resp.body, s)) {
                if (d) {
                    d->http_status = resp.status;
                    d->detail = "the answer is not a valid session: " + ec.message();
                    d->body_excerpt = bounded_excerpt(resp.body, 256);
                    d->request_id = std::string(resp.request_id);
                    d->no_retry_reason = "malformed answer is final";
                    d->history.push_back({resp.status, "malformed body", retry_reason::none, milliseconds(0)});
                }
                if (observer_)
                    attempt_ended(op, &r, resp.status, errc::protocol_error, false, retry_reason::none, milliseconds(0),
                                  resp.request_id);
                return finish(op, errc::protocol_error);
            }
            s.replayed = resp.replayed;
            s.reused = resp.status == 200;
            if (d) {
                d->http_status = resp.status;
                d->request_id = std::string(resp.request_id);
                d->history.push_back({resp.status, {}, retry_reason::none, milliseconds(0)});
            }
            if (observer_)
                attempt_ended(op, &r, resp.status, errc{}, false, retry_reason::none, milliseconds(0), resp.request_id);
            return finish(op, {}, std::move(local));
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

    retry_state st;
    st.attempts = op->attempts;
    st.stale_retries = op->stale_retries;
    st.has_idempotency_key = op->ambiguous_retry_ok;
    if (op->deadline != steady::time_point::max())
        st.remaining = op->deadline > now ? duration_cast<milliseconds>(op->deadline - now) : milliseconds(0);
    st.budget_allows = retry_budget_allows(op->retry, active_requests_, active_retries_ - (op->retrying ? 1 : 0));
    auto decision = decide(o, st, op->retry, uniform01());
    if (r.forced) {
        decision = {};
        decision.action = next_action::fail;
        decision.error = *r.forced;
        decision.no_retry_reason = *r.forced == errc::cancelled ? "cancelled by the caller" : "the client is shutting down";
    }
    if (shutting_down_ && stopped_ && decision.action != next_action::fail) {
        decision.action = next_action::fail;
        decision.error = errc::shutting_down;
        decision.no_retry_reason = "the client is shutting down";
    }

    if (d) {
        attempt_record rec;
        rec.http_status = o.status;
        rec.error = r.error;
        rec.reason = decision.action == next_action::fail ? retry_reason::none : decision.reason;
        rec.backoff = decision.action == next_action::retry ? decision.wait : milliseconds(0);
        if (decision.action == next_action::fail && rec.reason == retry_reason::none) rec.reason = decision.reason;
        d->history.push_back(std::move(rec));
        if (!r.error.empty() && (o.status == 0)) d->detail = r.error;
        if (o.status == 0) d->http_status = 0;
    }

    const std::string_view request_id =
        r.result == attempt_result::response ? r.response->request_id : std::string_view();
    if (observer_) {
        const bool retried = decision.action != next_action::fail;
        attempt_ended(op, &r, o.status, retried ? attempt_errc(r.result, o.status, o.api_code) : decision.error,
                      retried, decision.reason, decision.action == next_action::retry ? decision.wait : milliseconds(0),
                      request_id);
    }

    switch (decision.action) {
    case next_action::succeed:  // handled above
    case next_action::fail:
        if (d && !decision.no_retry_reason.empty()) d->no_retry_reason = std::string(decision.no_retry_reason);
        if (decision.action == next_action::fail && owner_.logs(log_level::info)) {
            if (o.status == 0)
                owner_.log(log_level::info, "request failed (" + std::string(to_string(decision.error)) + "): " + r.error);
            else
                owner_.log(log_level::info, "request failed (" + std::string(to_string(decision.error)) + ", HTTP " +
                                                std::to_string(o.status) + ") after attempt " + std::to_string(op->attempts) +
                                                (request_id.empty() ? std::string() : ", request id " + std::string(request_id)));
        }
        return finish(op, decision.error);
    case next_action::retry_now:
        ++op->stale_retries;
        metrics_.retries.fetch_add(1, std::memory_order_relaxed);
        metrics_.retries_by_reason[static_cast<std::size_t>(decision.reason)].fetch_add(1, std::memory_order_relaxed);
        if (owner_.logs(log_level::debug)) owner_.log(log_level::debug, "stale keep-alive connection: resending on another connection");
        // Back at the front with its deadline timer: pop_ready() refuses it once the
        // deadline has passed, and the timer completes it if no connection comes.
        enqueue(op, true);
        dispatch();
        return;
    case next_action::retry:
        if (!op->retrying) {
            op->retrying = true;
            ++active_retries_;
        }
        metrics_.retries.fetch_add(1, std::memory_order_relaxed);
        metrics_.retries_by_reason[static_cast<std::size_t>(decision.reason)].fetch_add(1, std::memory_order_relaxed);
        if (owner_.logs(log_level::info)) {
            owner_.log(log_level::info, "retrying (" + std::string(to_string(decision.reason)) +
                                            (o.status ? ", HTTP " + std::to_string(o.status) : std::string()) +
                                            ") after attempt " + std::to_string(op->attempts) + ", backoff " +
                                            std::to_string(decision.wait.count()) + " ms" +
                                            (request_id.empty() ? std::string() : ", request id " + std::string(request_id)));
        }
        op->state = op_state::backoff;
        backoff_.push_back(op);
        arm_op_timer(op, now + decision.wait);
        return;
    }
    (void)reused;
}

void shard::attempt_started(request_op* op, bool reused) {
    const auto now = steady::now();
    op->attempt_start = now;
    op->attempt_open = true;
    attempt_start_event e;
    e.attempt = op->attempts + 1;
    e.connection = reused ? connection_use::reused : connection_use::new_connection;
    e.queue_wait = duration_cast<std::chrono::microseconds>(now - op->ready_at);
    e.context = op->observer_context;
    try {
        observer_->on_attempt_start(e);
    } catch (...) {
        owner_.log(log_level::warning, "the observer's on_attempt_start threw (ignored)");
    }
}

void shard::attempt_ended(request_op* op, const attempt_report* r, unsigned status, errc error, bool retried,
                          retry_reason reason, milliseconds backoff, std::string_view request_id) {
    op->attempt_open = false;
    attempt_end_event e;
    // attempt_done() has counted this attempt already (a stale resend is not counted).
    e.attempt = op->attempts + ((r && r->result != attempt_result::stale_connection) ? 0 : 1);
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
    e.queue_wait = duration_cast<std::chrono::microseconds>(op->attempt_start - op->ready_at);
    e.total = duration_cast<std::chrono::microseconds>(steady::now() - op->attempt_start);
    e.request_id = request_id;
    e.context = op->observer_context;
    try {
        observer_->on_attempt_end(e);
    } catch (...) {
        owner_.log(log_level::warning, "the observer's on_attempt_end threw (ignored)");
    }
}

void shard::remove_idle(connection* c) {
    auto it = std::find(idle_.begin(), idle_.end(), c);
    if (it != idle_.end()) idle_.erase(it);
}

void shard::connection_opened() {
    --opening_;
    dispatch();
}

void shard::connection_closed(connection* c) {
    remove_idle(c);
    auto it = std::find(all_.begin(), all_.end(), c);
    if (it != all_.end()) {
        *it = all_.back();
        all_.pop_back();
    }
    dispatch();
    check_shutdown_done();
}

void shard::finish(request_op* op, error_code ec, session s) {
    if (op->attempt_open) {  // only with an observer: an attempt never left without its end
        const errc e = ec && ec.category() == catalyst_category() ? static_cast<errc>(ec.value()) : errc{};
        attempt_ended(op, nullptr, 0, e, false, retry_reason::none, milliseconds(0), {});
    }
    op->state = op_state::done;
    --active_requests_;
    if (op->retrying) --active_retries_;
    const auto elapsed = steady::now() - op->start;
    const auto us = duration_cast<std::chrono::microseconds>(elapsed).count();
    if (ec) {
        metrics_.failures.fetch_add(1, std::memory_order_relaxed);
        if (ec.category() == catalyst_category() && ec.value() > 0 &&
            static_cast<std::size_t>(ec.value()) < metrics_errc_slots)
            metrics_.failures_by_errc[static_cast<std::size_t>(ec.value())].fetch_add(1, std::memory_order_relaxed);
    } else {
        metrics_.successes.fetch_add(1, std::memory_order_relaxed);
    }
    std::size_t bucket = 0;
    const double secs = static_cast<double>(us) / 1e6;
    while (bucket < latency_bucket_bounds.size() && secs > latency_bucket_bounds[bucket]) ++bucket;
    metrics_.latency[bucket].fetch_add(1, std::memory_order_relaxed);
    metrics_.latency_sum_us.fetch_add(static_cast<std::uint64_t>(us), std::memory_order_relaxed);
    if (auto* d = op->diag) {
        d->attempts = op->attempts;
        d->elapsed = duration_cast<milliseconds>(elapsed);
        if (ec && d->detail.empty()) d->detail = std::string(to_string(static_cast<errc>(ec.value())));
    }
    if (op->link) op->link->op = nullptr;  // a late cancellation finds nothing
    auto work = std::move(op->handler_work);  // released after the post has taken over
    // The handler runs on its associated executor (the default one unless it binds another),
    // never inline. A plain function is posted: posting the any_completion_handler itself
    // would look up and wrap its executor, two allocations per call. The cancellation slot is
    // cleared there, just before the handler runs, on the executor where cancellation is
    // emitted.
    if (session* out = op->out) {
        if (ec) clear_session(*out);  // what a malformed answer left there
        auto handler = std::move(op->into_handler);
        pool_.release(op);
        post_completion(std::move(work), [h = std::move(handler), ec]() mutable {
            auto slot = net::get_associated_cancellation_slot(h);
            if (slot.is_connected()) slot.clear();
            std::move(h)(ec);
        });
    } else {
        auto handler = std::move(op->handler);
        pool_.release(op);
        post_completion(std::move(work), [h = std::move(handler), ec, s = std::move(s)]() mutable {
            auto slot = net::get_associated_cancellation_slot(h);
            if (slot.is_connected()) slot.clear();
            std::move(h)(ec, std::move(s));
        });
    }
    if (shutting_down_) check_shutdown_done();
}

template <class Run>
void shard::post_completion(net::any_completion_executor work, Run run) {
    if (!work) {
        net::post(handler_ex_, std::move(run));
    } else {
        // Through this shard first: what this handler of the shard still does (closing the
        // connection that failed, say) happens before the caller sees the completion.
        net::post(ex_, [run = std::move(run), work = std::move(work)]() mutable { net::dispatch(work, std::move(run)); });
    }
}

void shard::begin_shutdown(steady::time_point grace_deadline, std::function<void()> done) {
    const bool first = !shutting_down_ || !shutdown_timer_;
    shutting_down_ = true;
    shutdown_done_.push_back(std::move(done));
    if (!shutdown_timer_) shutdown_timer_ = std::make_unique<net::steady_timer>(ex_);
    // A second shutdown with a shorter grace shortens it; a longer one does not extend it.
    if (first || grace_deadline < shutdown_timer_->expiry()) {
        shutdown_timer_->expires_at(grace_deadline);
        shutdown_timer_->async_wait([this](const error_code& ec) {
            if (ec) return;
            stopped_ = true;
            cancel_everything(errc::shutting_down);
        });
    }
    for (auto* c : std::vector<connection*>(idle_)) close_idle(c);
    check_shutdown_done();
}

void shard::cancel_everything(errc why) {
    while (auto* op = queue_.pop_front()) {
        if (op->diag) op->diag->no_retry_reason = "the client is shutting down";
        finish(op, why);
    }
    while (auto* op = backoff_.pop_front()) {
        if (op->diag) op->diag->no_retry_reason = "the client is shutting down";
        finish(op, why);
    }
    for (auto* c : std::vector<connection*>(all_)) {
        if (has_op(c)) abort_exchange(c, why);
        else close_idle(c);
    }
}

void shard::hard_stop() {
    shutting_down_ = true;
    stopped_ = true;
    cancel_everything(errc::shutting_down);
    check_shutdown_done();
}

void shard::check_shutdown_done() {
    if (!shutting_down_) return;
    if (active_requests_ == 0) {
        for (auto* c : std::vector<connection*>(idle_)) close_idle(c);
    }
    if (active_requests_ == 0 && all_.empty()) {
        if (shutdown_timer_) shutdown_timer_->cancel();
        auto waiting = std::move(shutdown_done_);
        shutdown_done_.clear();
        for (auto& done : waiting) done();
    }
}

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
}

}  // namespace catalyst::detail
