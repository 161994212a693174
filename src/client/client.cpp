// The client's front (initiation on the caller's thread) and the shards' bookkeeping:
// queue, retries, completion, shutdown. No socket code here (see connection.cpp).
#include "client/client_impl.hpp"
#include "client/retry_after.hpp"

#include <catalyst/config.hpp>
#include <catalyst/json.hpp>
#include <catalyst/validation.hpp>

#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <openssl/ssl.h>

#include <algorithm>

namespace catalyst {
namespace detail {

namespace net = boost::asio;
using boost::system::error_code;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

// --- recycled ops --------------------------------------------------------------------------
// A free list per thread: an op is taken on the caller's thread and returned on the shard's,
// which in the common case (the next call is made from a completion handler) is the same
// thread. Ops are never deleted before their thread ends: a late cancellation may still
// look at one, and its generation tells it the op has moved on.
namespace {
struct op_free_list {
    std::vector<request_op*> ops;
    ~op_free_list() {
        for (auto* op : ops) delete op;
    }
};
thread_local op_free_list free_ops;
}  // namespace

request_op* acquire_op() {
    if (free_ops.ops.empty()) return new request_op;
    auto* op = free_ops.ops.back();
    free_ops.ops.pop_back();
    return op;
}

void release_op(request_op* op) {
    op->gen.fetch_add(1, std::memory_order_relaxed);
    op->timer.reset();
    op->handler_work = nullptr;
    op->diag = nullptr;
    op->body.clear();
    op->key.clear();
    op->state = op_state::idle;
    op->conn = nullptr;
    op->prev = op->next = nullptr;
    op->retrying = op->sent = false;
    op->attempts = op->stale_retries = 0;
    op->owner = nullptr;
    free_ops.ops.push_back(op);
}

// --- op_list ------------------------------------------------------------------------------
void op_list::push_back(request_op* op) noexcept {
    op->next = nullptr;
    op->prev = tail;
    (tail ? tail->next : head) = op;
    tail = op;
    ++size;
}
void op_list::push_front(request_op* op) noexcept {
    op->prev = nullptr;
    op->next = head;
    (head ? head->prev : tail) = op;
    head = op;
    ++size;
}
request_op* op_list::pop_front() noexcept {
    auto* op = head;
    if (op) erase(op);
    return op;
}
void op_list::erase(request_op* op) noexcept {
    (op->prev ? op->prev->next : head) = op->next;
    (op->next ? op->next->prev : tail) = op->prev;
    op->prev = op->next = nullptr;
    --size;
}

// --- cancellation ---------------------------------------------------------------------------
namespace {
struct op_canceller {
    std::weak_ptr<client_impl> impl;
    shard* s;
    request_op* op;
    std::uint32_t gen;
    void operator()(net::cancellation_type_t type) const {
        auto keep = impl.lock();
        if (!keep) return;
        // post, not dispatch: FIFO behind the submit posted by the initiation, so that a
        // cancellation emitted right after the call is never looked at before the op is known.
        net::post(s->get_executor(), [keep, s = s, op = op, gen = gen, type] { s->cancel(op, gen, type); });
    }
};

bool has(net::cancellation_type_t set, net::cancellation_type_t t) {
    return (set & t) != net::cancellation_type::none;
}
}  // namespace

// --- shard ----------------------------------------------------------------------------------
shard::shard(client_impl& owner, net::any_io_executor ex, std::size_t max_connections, std::size_t queue_limit)
    : owner_(owner),
      ex_(std::move(ex)),
      // an io_context's executor fits any_executor's small buffer: copies then never allocate
      completion_ex_(ex_.target<net::io_context::executor_type>()
                         ? net::any_completion_executor(*ex_.target<net::io_context::executor_type>())
                         : net::any_completion_executor(ex_)),
      max_connections_(max_connections),
      queue_limit_(queue_limit),
      pacing_(owner.params().pacing.rate_per_second / static_cast<double>(owner.shard_count()),
              owner.params().pacing.burst, steady::now()) {}

bool shard::take_token() {
    if (!pacing_.enabled()) return true;
    const auto now = steady::now();
    if (pacing_.try_take(now)) return true;
    if (!pacing_armed_) {
        if (!pacing_timer_) pacing_timer_ = std::make_unique<net::steady_timer>(ex_);
        pacing_armed_ = true;
        pacing_timer_->expires_at(now + pacing_.wait(now));
        pacing_timer_->async_wait([this](const error_code& ec) {
            pacing_armed_ = false;
            if (!ec) dispatch();
        });
    }
    return false;
}

shard::~shard() {
    if (tls_session_) SSL_SESSION_free(tls_session_);
}

void shard::submit(request_op* op) {
    ++active_requests_;
    op->owner = this;
    if (shutting_down_) {
        if (op->diag) op->diag->detail = "the client is shutting down";
        return finish(op, errc::shutting_down);
    }
    if (!idle_.empty() && queue_.size == 0 && take_token()) {
        auto* c = idle_.back();
        idle_.pop_back();
        op->state = op_state::in_flight;
        op->conn = c;
        assign(c, op);
        return;
    }
    if (queue_.size >= queue_limit_) {
        if (op->diag) op->diag->detail = "the wait queue is full (queue_limit)";
        return finish(op, errc::queue_full);
    }
    op->state = op_state::queued;
    queue_.push_back(op);
    metrics_.queue_waits.fetch_add(1, std::memory_order_relaxed);
    if (op->deadline != steady::time_point::max()) arm_op_timer(op, op->deadline);
    dispatch();
}

void shard::requeue_front(request_op* op) {
    op->conn = nullptr;
    op->state = op_state::queued;
    queue_.push_front(op);
    if (op->deadline != steady::time_point::max()) arm_op_timer(op, op->deadline);
    dispatch();
}

void shard::dispatch() {
    while (queue_.size > 0 && !idle_.empty() && take_token()) {
        auto* op = queue_.pop_front();
        auto* c = idle_.back();
        idle_.pop_back();
        if (op->timer) op->timer->cancel();
        op->state = op_state::in_flight;
        op->conn = c;
        assign(c, op);
    }
    while (queue_.size > 0 && idle_.empty() && all_.size() < max_connections_ && !stopped_ && take_token()) {
        auto* op = queue_.pop_front();
        if (op->timer) op->timer->cancel();
        open_connection(op);
    }
}

void shard::open_connection(request_op* first) {
    first->state = op_state::in_flight;
    spawn_connection(shared_from_this(), first);
}

void shard::arm_op_timer(request_op* op, steady::time_point at) {
    if (!op->timer) op->timer = std::make_unique<net::steady_timer>(ex_);
    op->timer->expires_at(at);
    op->timer->async_wait([this, op, gen = op->gen.load(std::memory_order_relaxed)](const error_code& ec) {
        if (!ec) on_op_timer(op, gen);
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
        op->state = op_state::queued;
        queue_.push_front(op);
        if (op->deadline != steady::time_point::max()) arm_op_timer(op, op->deadline);
        dispatch();
    }
}

void shard::cancel(request_op* op, std::uint32_t gen, net::cancellation_type_t type) {
    if (op->gen.load(std::memory_order_relaxed) != gen || op->owner != this) return;
    const bool any_time = has(type, net::cancellation_type::terminal) || has(type, net::cancellation_type::partial);
    if (!any_time && !(has(type, net::cancellation_type::total) && !op->sent)) return;
    switch (op->state) {
    case op_state::queued:
        queue_.erase(op);
        break;
    case op_state::backoff:
        backoff_.erase(op);
        break;
    case op_state::in_flight:
        if (!any_time) return;
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
            session s;
            if (auto ec = decode(resp.body, s)) {
                if (d) {
                    d->http_status = resp.status;
                    d->detail = "the answer is not a valid session: " + ec.message();
                    d->body_excerpt = bounded_excerpt(resp.body, 256);
                    d->request_id = std::string(resp.request_id);
                    d->no_retry_reason = "malformed answer is final";
                    d->history.push_back({resp.status, "malformed body", retry_reason::none, milliseconds(0)});
                }
                return finish(op, errc::protocol_error);
            }
            s.replayed = resp.replayed;
            s.reused = resp.status == 200;
            if (d) {
                d->http_status = resp.status;
                d->request_id = std::string(resp.request_id);
                d->history.push_back({resp.status, {}, retry_reason::none, milliseconds(0)});
            }
            return finish(op, {}, std::move(s));
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

    switch (decision.action) {
    case next_action::succeed:  // handled above
    case next_action::fail:
        if (d && !decision.no_retry_reason.empty()) d->no_retry_reason = std::string(decision.no_retry_reason);
        if (owner_.logging() && decision.action == next_action::fail && o.status == 0) {
            owner_.log(log_level::info, "request failed (" + std::string(to_string(decision.error)) + "): " + r.error);
        }
        return finish(op, decision.error);
    case next_action::retry_now:
        ++op->stale_retries;
        metrics_.retries.fetch_add(1, std::memory_order_relaxed);
        metrics_.retries_by_reason[static_cast<std::size_t>(decision.reason)].fetch_add(1, std::memory_order_relaxed);
        if (owner_.logging()) owner_.log(log_level::debug, "stale keep-alive connection: resending on another connection");
        op->state = op_state::queued;
        queue_.push_front(op);
        dispatch();
        return;
    case next_action::retry:
        if (!op->retrying) {
            op->retrying = true;
            ++active_retries_;
        }
        metrics_.retries.fetch_add(1, std::memory_order_relaxed);
        metrics_.retries_by_reason[static_cast<std::size_t>(decision.reason)].fetch_add(1, std::memory_order_relaxed);
        if (owner_.logging()) {
            owner_.log(log_level::info, "retrying (" + std::string(to_string(decision.reason)) +
                                            (o.status ? ", HTTP " + std::to_string(o.status) : std::string()) +
                                            ") after attempt " + std::to_string(op->attempts) + ", backoff " +
                                            std::to_string(decision.wait.count()) + " ms");
        }
        op->state = op_state::backoff;
        backoff_.push_back(op);
        arm_op_timer(op, now + decision.wait);
        return;
    }
    (void)reused;
}

request_op* shard::next_request(connection* c, bool& close) {
    close = false;
    if (queue_.size > 0 && take_token()) {
        auto* op = queue_.pop_front();
        if (op->timer) op->timer->cancel();
        op->state = op_state::in_flight;
        op->conn = c;
        return op;
    }
    if (shutting_down_ && queue_.size == 0) {
        close = true;
        return nullptr;
    }
    idle_.push_back(c);
    return nullptr;
}

void shard::remove_idle(connection* c) {
    auto it = std::find(idle_.begin(), idle_.end(), c);
    if (it != idle_.end()) idle_.erase(it);
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
    auto handler = std::move(op->handler);
    auto work = std::move(op->handler_work);  // released after the post has taken over
    release_op(op);
    if (!work) {
        // The handler runs on this shard's executor (see create_session_erased): post a plain
        // function. Posting the any_completion_handler itself would look up and wrap its
        // executor, two allocations per call.
        net::post(ex_, [h = std::move(handler), ec, s = std::move(s)]() mutable { std::move(h)(ec, std::move(s)); });
    } else {
        net::post(ex_, net::append(std::move(handler), ec, std::move(s)));
    }
    if (shutting_down_) check_shutdown_done();
}

void shard::begin_shutdown(steady::time_point grace_deadline, std::function<void()> done) {
    shutting_down_ = true;
    shutdown_done_ = std::move(done);
    if (!shutdown_timer_) shutdown_timer_ = std::make_unique<net::steady_timer>(ex_);
    shutdown_timer_->expires_at(grace_deadline);
    shutdown_timer_->async_wait([this](const error_code& ec) {
        if (!ec) {
            stopped_ = true;
            cancel_everything(errc::shutting_down);
        }
    });
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
        if (shutdown_done_) {
            auto done = std::move(shutdown_done_);
            shutdown_done_ = nullptr;
            done();
        }
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

// --- client_impl ----------------------------------------------------------------------------
namespace {
std::string checked_header_value(std::string_view v, const char* field) {
    for (char ch : v) {
        auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7f) throw config_error(field, "contains a control character");
    }
    return std::string(v);
}
}  // namespace

client_impl::client_impl(client_params p, std::vector<net::any_io_executor> executors)
    : params_(std::move(p)), tls_(net::ssl::context::tls_client) {
    check(params_);
    if (auto why = parse_origin(params_.base_url, origin_); !why.empty()) throw config_error("base_url", why);
    if (!params_.tls.server_name.empty()) checked_header_value(params_.tls.server_name, "tls.server_name");
    configure_tls(tls_, params_);
    head_prefix_ = "POST " + origin_.path + " HTTP/1.1\r\nHost: " + origin_.host_header + "\r\n";
    if (!params_.api_key.empty())
        head_prefix_ += "Authorization: Bearer " + checked_header_value(params_.api_key, "api_key") + "\r\n";
    head_prefix_ += "Content-Type: application/json\r\nAccept: application/json\r\nUser-Agent: " +
                    checked_header_value(params_.user_agent, "user_agent") + "\r\n";
    const std::size_t n = executors.size();
    shard_count_ = n;
    const std::size_t per_conn = (params_.max_connections + n - 1) / n;
    const std::size_t per_queue = (params_.queue_limit + n - 1) / n;
    for (auto& ex : executors) shards_.push_back(std::make_shared<shard>(*this, ex, per_conn, per_queue));
}

client_impl::~client_impl() = default;

shard& client_impl::pick_shard() noexcept {
    if (shards_.size() == 1) return *shards_.front();
    return *shards_[next_shard_.fetch_add(1, std::memory_order_relaxed) % shards_.size()];
}

void client_impl::set_logger(log_function fn) {
    std::lock_guard lock(log_mutex_);
    logger_ = std::move(fn);
    has_logger_.store(static_cast<bool>(logger_), std::memory_order_relaxed);
}

void client_impl::log(log_level l, std::string_view msg) const {
    log_function fn;
    {
        std::lock_guard lock(log_mutex_);
        fn = logger_;
    }
    if (fn) fn(l, msg);
}

}  // namespace detail

// --- client ---------------------------------------------------------------------------------
namespace net = boost::asio;
using boost::system::error_code;

client::client(executor_type ex, client_params params) {
    impl_ = std::make_shared<detail::client_impl>(std::move(params),
                                                  std::vector<net::any_io_executor>{net::make_strand(ex)});
}

client::client(net::io_context& ctx, client_params params) : client(ctx.get_executor(), std::move(params)) {}

client::client(client_params params) {
    const unsigned n = std::max(1u, params.threads);
    std::vector<std::unique_ptr<net::io_context>> contexts;
    std::vector<net::any_io_executor> executors;
    for (unsigned i = 0; i < n; ++i) {
        contexts.push_back(std::make_unique<net::io_context>(1));
        executors.push_back(contexts.back()->get_executor());
    }
    impl_ = std::make_shared<detail::client_impl>(std::move(params), executors);
    impl_->contexts = std::move(contexts);
    for (auto& ctx : impl_->contexts) {
        impl_->guards.push_back(net::make_work_guard(*ctx));
        impl_->threads.emplace_back([c = ctx.get()] { c->run(); });
    }
}

client::~client() {
    if (!impl_) return;
    for (auto& s : impl_->shards()) {
        net::post(s->get_executor(), [keep = impl_, s] { s->hard_stop(); });
    }
    if (!impl_->threads.empty()) {
        // hard_stop completes every operation and closes every connection; once the work
        // guards are gone, each context runs until that is done (handlers included).
        impl_->guards.clear();
        for (auto& t : impl_->threads) t.join();
        auto contexts = std::move(impl_->contexts);
        impl_.reset();
        contexts.clear();
    }
}

client::executor_type client::get_executor() const noexcept {
    return impl_->shards().front()->get_executor();
}

void client::set_logger(log_function fn) {
    impl_->set_logger(std::move(fn));
}

metrics_snapshot client::metrics() const {
    metrics_snapshot m;
    auto rd = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
    for (auto& sp : impl_->shards()) {
        auto& s = sp->stats();
        m.requests += rd(s.requests);
        m.successes += rd(s.successes);
        m.failures += rd(s.failures);
        m.retries += rd(s.retries);
        m.connections_opened += rd(s.connections_opened);
        m.connections_closed += rd(s.connections_closed);
        m.tls_handshakes_full += rd(s.tls_full);
        m.tls_handshakes_resumed += rd(s.tls_resumed);
        m.queue_waits += rd(s.queue_waits);
        for (std::size_t i = 0; i < m.failures_by_errc.size(); ++i) m.failures_by_errc[i] += rd(s.failures_by_errc[i]);
        for (std::size_t i = 0; i < m.retries_by_reason.size(); ++i) m.retries_by_reason[i] += rd(s.retries_by_reason[i]);
        for (std::size_t i = 0; i < m.latency_buckets.size(); ++i) {
            m.latency_buckets[i] += rd(s.latency[i]);
            m.latency_count += rd(s.latency[i]);
        }
        m.latency_sum_seconds += static_cast<double>(rd(s.latency_sum_us)) / 1e6;
    }
    const auto done = m.successes + m.failures;
    m.in_flight = m.requests > done ? m.requests - done : 0;
    return m;
}

namespace {
bool valid_key(std::string_view k) {
    if (k.size() > 255) return false;
    for (char ch : k) {
        auto c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c >= 0x7f) return false;
    }
    return true;
}
}  // namespace

void client::create_session_erased(const session_request& req, const request_options& opts, diagnostics* diag,
                                   create_session_handler handler) {
    using namespace detail;
    const auto start = steady::now();
    auto& impl = *impl_;
    shard& s = impl.pick_shard();
    s.stats().requests.fetch_add(1, std::memory_order_relaxed);
    if (diag) diag->clear();

    field_errors errors = validate(req);
    if (!opts.idempotency_key.empty() && !valid_key(opts.idempotency_key))
        errors.push_back({"idempotency_key", "must be 1 to 255 visible ASCII characters"});
    if (!errors.empty()) {
        if (diag) {
            diag->detail = "the request was refused before sending: " + std::to_string(errors.size()) +
                           (errors.size() == 1 ? " invalid field" : " invalid fields");
            diag->fields = std::move(errors);
            diag->no_retry_reason = "invalid request";
        }
        auto& m = s.stats();
        m.failures.fetch_add(1, std::memory_order_relaxed);
        m.failures_by_errc[static_cast<std::size_t>(errc::validation_failed)].fetch_add(1, std::memory_order_relaxed);
        m.latency[0].fetch_add(1, std::memory_order_relaxed);
        net::post(s.get_executor(), net::append(std::move(handler), error_code(errc::validation_failed), session{}));
        return;
    }

    request_op* op = acquire_op();
    op->start = start;
    op->diag = diag;
    const auto& p = impl.params();
    op->retry = opts.retry ? *opts.retry : p.retry;
    if (op->retry.max_attempts == 0) op->retry.max_attempts = 1;
    const auto overall = opts.deadline.count() > 0 ? opts.deadline : p.overall_timeout;
    op->deadline = overall.count() > 0 ? start + overall : steady::time_point::max();
    switch (p.idempotency) {
    case idempotency_policy::automatic:
        if (opts.idempotency_key.empty()) uuid_v4(op->key);
        else op->key = opts.idempotency_key;
        op->ambiguous_retry_ok = true;
        break;
    case idempotency_policy::caller_keys_only:
        op->key = opts.idempotency_key;
        op->ambiguous_retry_ok = !op->key.empty();
        break;
    case idempotency_policy::disabled:
        op->ambiguous_retry_ok = false;
        break;
    }
    encode(req, op->body);
    // Not `op->handler = std::move(handler)`: Asio 1.26's move assignment of
    // any_completion_handler wraps the handler in itself, recursively.
    handler.swap(op->handler);
    {
        const auto& own = s.completion_executor();
        auto ex = net::get_associated_executor(op->handler, own);
        if (ex != own) op->handler_work = net::prefer(ex, net::execution::outstanding_work.tracked);
    }
    auto slot = net::get_associated_cancellation_slot(op->handler);
    if (slot.is_connected()) {
        slot.template emplace<op_canceller>(
            op_canceller{impl_, &s, op, op->gen.load(std::memory_order_relaxed)});
    }
    net::post(s.get_executor(), [keep = impl_, sp = &s, op] { sp->submit(op); });
}

void client::shutdown_erased(std::chrono::milliseconds grace, shutdown_handler handler) {
    using namespace detail;
    struct state {
        std::atomic<std::size_t> left;
        shutdown_handler handler;
        net::any_io_executor ex;
    };
    auto st = std::make_shared<state>();
    st->left = impl_->shards().size();
    st->ex = get_executor();
    handler.swap(st->handler);
    const auto deadline = steady::now() + grace;
    for (auto& s : impl_->shards()) {
        net::post(s->get_executor(), [keep = impl_, s, st, deadline] {
            s->begin_shutdown(deadline, [st] {
                if (st->left.fetch_sub(1) == 1) net::post(st->ex, net::append(std::move(st->handler), error_code{}));
            });
        });
    }
}

}  // namespace catalyst
