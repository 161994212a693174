// The client's public front: construction, initiation on the caller's thread (validation,
// encoding, the call object), metrics, shutdown. The shards are in shard.cpp, the call objects
// in call.cpp, the connections in connection.cpp.
#include "client/client_impl.hpp"
#include "client/event_time.hpp"
#include "core/header_rules.hpp"

#include <catalyst/config.hpp>
#include <catalyst/json.hpp>
#include <catalyst/validation.hpp>

#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/detail/scheduler.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <cstdio>

namespace catalyst {
namespace detail {

namespace net = boost::asio;
using boost::system::error_code;

// --- client_impl ----------------------------------------------------------------------------
client_impl::client_impl(client_params p, std::vector<net::any_io_executor> executors,
                         net::any_io_executor handler_executor)
    : params_(std::move(p)), tls_(net::ssl::context::tls_client) {
    // check() holds the one base-URL rule and the one header-value rule: what it accepts,
    // the origin parser and the request head accept too.
    check(params_);
    if (auto why = parse_origin(params_.base_url, origin_); !why.empty()) throw config_error("base_url", why);
    configure_tls(tls_, params_);
    head_prefix_ = "POST " + origin_.path + " HTTP/1.1\r\nHost: " + origin_.host_header + "\r\n";
    if (!params_.api_key.empty()) head_prefix_ += "Authorization: Bearer " + params_.api_key + "\r\n";
    head_prefix_ += "Content-Type: application/json\r\nAccept: application/json\r\nUser-Agent: " +
                    params_.user_agent + "\r\n";
    const std::size_t n = executors.size();
    shard_count_ = n;
    const std::size_t per_conn = (params_.max_connections + n - 1) / n;
    const std::size_t per_queue = (params_.queue_limit + n - 1) / n;
    if (params_.rate.mode == rate_mode::adaptive) {
        rate_ = std::make_unique<rate_gate>(params_.rate, steady::now());
        // A shard the concurrency cap held back goes on when an attempt (of any shard) ends.
        rate_->set_wake([](const std::weak_ptr<shard>& w) {
            if (auto s = w.lock()) s->wake_from_gate();
        });
    }
    for (auto& ex : executors)
        shards_.push_back(std::make_shared<shard>(*this, ex, handler_executor ? handler_executor : ex, per_conn, per_queue));
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

void client_impl::log(log_level l, std::string_view msg) const noexcept {
    if (l < params_.min_log_level) return;
    try {
        log_function fn;
        {
            std::lock_guard lock(log_mutex_);
            fn = logger_;
        }
        if (fn) fn(l, msg);
    } catch (...) {
        // A logger that throws loses its message, nothing else.
    }
}

void client_impl::run_owned(net::io_context& ctx) noexcept {
    const call_pool::running_scope running(&ctx);  // its shard's calls come and go without a lock
    for (;;) {
        try {
            ctx.run();
            return;
        } catch (const std::exception& e) {
            log(log_level::error, std::string("a completion handler threw (the client goes on): ") + e.what());
        } catch (...) {
            log(log_level::error, "a completion handler threw a non-standard exception (the client goes on)");
        }
    }
}

}  // namespace detail

// --- client ---------------------------------------------------------------------------------
namespace net = boost::asio;
using boost::system::error_code;

namespace {
// One thread runs this io_context, by its concurrency hint: 1 (io_context(1): Asio then assumes
// one thread), or a hint without the scheduler's lock. Its executor is then a strand already
// (Asio's implicit strand).
bool run_by_one_thread(const net::io_context::executor_type& ex) {
    const int hint = net::use_service<net::detail::scheduler>(ex.context()).concurrency_hint();
    return hint == 1 || !BOOST_ASIO_CONCURRENCY_HINT_IS_LOCKING(SCHEDULER, hint);
}
}  // namespace

client::client(executor_type ex, client_params params) {
    // The state on a strand; handlers on `ex` itself, so that a slow callback does not hold
    // the strand (and the pool) while it runs.
    // A strand of an io_context's own executor fits any_io_executor's small buffer; a strand
    // of the type-erased executor does not, and every copy of the shard's executor (each
    // handler, each I/O operation) would then allocate.
    // An io_context made for one thread (io_context(1)) is a strand already (Asio's implicit
    // strand): the state goes on it as it is, as on an owned thread's; each handler of the
    // client skips a strand's queue, lock and dispatch, and completions run as on an owned
    // thread (shard::begin_answer_turn).
    net::any_io_executor state_ex;
    if (const auto* io = ex.target<net::io_context::executor_type>())
        state_ex = run_by_one_thread(*io) ? net::any_io_executor(*io) : net::any_io_executor(net::make_strand(*io));
    else
        state_ex = net::make_strand(ex);
    impl_ = std::make_shared<detail::client_impl>(std::move(params), std::vector<net::any_io_executor>{state_ex}, ex);
}

client::client(net::io_context& ctx, client_params params) : client(ctx.get_executor(), std::move(params)) {}

client::client(client_params params) {
    const unsigned n = std::max(1u, params.threads);
    std::vector<std::unique_ptr<net::io_context>> contexts;
    std::vector<net::any_io_executor> executors;
    for (unsigned i = 0; i < n; ++i) {
        // One thread runs each context, and only its shard's handlers touch its sockets and
        // timers (calls, cancellations and the shutdown come in as posts): the reactor's
        // per-socket locks, two per request, guard nothing. The scheduler's lock stays, for
        // those posts from other threads.
        contexts.push_back(std::make_unique<net::io_context>(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO));
        executors.push_back(contexts.back()->get_executor());
    }
    impl_ = std::make_shared<detail::client_impl>(std::move(params), executors);
    impl_->contexts = std::move(contexts);
    for (auto& ctx : impl_->contexts) {
        impl_->guards.push_back(net::make_work_guard(*ctx));
        impl_->threads.emplace_back([impl = impl_.get(), c = ctx.get()] { impl->run_owned(*c); });
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
    return impl_->shards().front()->handler_executor();
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
        m.queued += s.queued.load(std::memory_order_relaxed);
        m.rate_waits += rd(s.rate_waits);
        m.backing_off += s.backing_off.load(std::memory_order_relaxed);
    }
    m.open_connections = m.connections_opened > m.connections_closed ? m.connections_opened - m.connections_closed : 0;
    m.labels = impl_->params().metrics_labels;
    if (auto* rate = impl_->rate()) rate->fill(m, detail::steady::now());
    else m.rate_allowed = impl_->params().rate.rate_per_second;
    const auto done = m.successes + m.failures;
    m.in_flight = m.requests > done ? m.requests - done : 0;
    return m;
}

namespace {
// Installed in the caller's cancellation slot. It holds a reference to the call (call.hpp):
// the call object cannot be reused while a cancellation may still name it, and a cancellation
// that arrives after the completion finds the call done.
struct op_canceller {
    std::weak_ptr<detail::client_impl> impl;
    detail::call_ref c;
    void operator()(net::cancellation_type_t type) const {
        auto keep = impl.lock();
        if (!keep) return;
        // post, not dispatch: FIFO behind the submit posted by the initiation, so that a
        // cancellation emitted right after the call is never looked at before the call is known.
        detail::shard* s = c->owner_at_start;
        net::post(s->get_executor(), [keep, s, c = c, type] { s->cancel(c.get(), type); });
    }
};

// The per-call headers: checked against the one header rule, then written once as a block of
// lines that every attempt appends to its head.
constexpr std::size_t max_extra_headers = 64;
constexpr std::size_t max_extra_header_bytes = 8 * 1024;

void check_headers(const request_options& opts, field_errors& errors) {
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < opts.headers.size(); ++i) {
        const auto& [name, value] = opts.headers[i];
        const std::string field = "headers[" + std::to_string(i) + "]";
        if (!detail::header_name_token(name))
            errors.push_back({field + ".name", "must be an HTTP token (letters, digits, !#$%&'*+-.^_`|~)"});
        else if (detail::header_reserved(name))
            errors.push_back({field + ".name", "is written by the client itself and may not be set per call"});
        if (!detail::header_value_safe(value))
            errors.push_back({field + ".value", "must not contain CR, LF or other control characters"});
        bytes += name.size() + value.size() + 4;
    }
    if (opts.headers.size() > max_extra_headers)
        errors.push_back({"headers", "at most " + std::to_string(max_extra_headers) + " headers"});
    else if (bytes > max_extra_header_bytes)
        errors.push_back({"headers", "at most " + std::to_string(max_extra_header_bytes) + " bytes in all"});
}

void format_headers(const request_options& opts, std::string& out) {
    for (const auto& [name, value] : opts.headers) {
        out += name;
        out += ": ";
        // Leading and trailing blanks are not part of a field value (RFC 9110 5.5).
        const auto first = value.find_first_not_of(" \t");
        if (first != std::string::npos) out.append(value, first, value.find_last_not_of(" \t") - first + 1);
        out += "\r\n";
    }
}

bool valid_key(std::string_view k) {
    if (k.size() > 255) return false;
    for (char ch : k) {
        auto c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c >= 0x7f) return false;
    }
    return true;
}

// What both result styles share: the checks (a refused call gets `validation_failed` and no
// call object: nullptr) and the call object, minus its handler.
detail::call_ref prepare_call(detail::client_impl& impl, detail::shard& s, const session_request& req,
                              const request_options& opts, diagnostics* diag) {
    using namespace detail;
    const auto start = steady::now();
    s.stats().requests.fetch_add(1, std::memory_order_relaxed);
    if (diag) diag->clear();

    field_errors errors = validate(req);
    if (!opts.idempotency_key.empty() && !valid_key(opts.idempotency_key))
        errors.push_back({"idempotency_key", "must be 1 to 255 visible ASCII characters"});
    if (!opts.headers.empty()) check_headers(opts, errors);
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
        return {};
    }

    call_ref c = s.pool().acquire();
    c->start = start;
    c->diag = diag;
    c->owner_at_start = &s;
    const auto& p = impl.params();
    c->retry = opts.retry ? *opts.retry : p.retry;
    if (c->retry.max_attempts == 0) c->retry.max_attempts = 1;
    const auto overall = opts.deadline.count() > 0 ? opts.deadline : p.overall_timeout;
    const auto deadline = overall.count() > 0 ? start + overall : steady::time_point::max();
    // Whether an idempotency key makes a retry after an ambiguous failure safe: the key is
    // sent on every attempt, and the policy lets ambiguous failures be retried with it.
    bool key_makes_retry_safe = false;
    switch (p.idempotency) {
    case idempotency_policy::automatic:
        if (opts.idempotency_key.empty()) uuid_v4(c->key);
        else c->key = opts.idempotency_key;
        key_makes_retry_safe = true;
        break;
    case idempotency_policy::caller_keys_only:
        c->key = opts.idempotency_key;
        key_makes_retry_safe = !c->key.empty();
        break;
    case idempotency_policy::disabled:
        break;
    }
    c->fsm.reset(deadline, &c->retry, key_makes_retry_safe, p.rate.mode == rate_mode::adaptive);
    encode(req, c->body);
    if (!opts.headers.empty()) format_headers(opts, c->extra_headers);
    if (!opts.observer_context.empty()) c->observer_context = opts.observer_context;
    return c;
}

// The handler's executor (work kept on it when it is not the default one), its cancellation
// slot, then the hand-over to the shard.
template <class Handler>
void launch_call(const std::shared_ptr<detail::client_impl>& impl, detail::shard& s, detail::call_ref c,
                 const Handler& handler) {
    using namespace detail;
    {
        const auto& own = s.completion_executor();
        auto ex = net::get_associated_executor(handler, own);
        if (ex != own) c->handler_work = net::prefer(ex, net::execution::outstanding_work.tracked);
    }
    auto slot = net::get_associated_cancellation_slot(handler);
    if (slot.is_connected()) slot.template emplace<op_canceller>(op_canceller{impl, c});
    // Started from a completion handler the shard itself runs (the next call of a chain): the
    // shard takes it now, one post and one turn of the event loop less per call.
    if (s.may_submit_inline()) {
        shard::submit_scope scope;
        const event_time::scope event(c->start);  // read microseconds ago, in prepare_call
        s.submit(std::move(c));
        return;
    }
    net::post(s.get_executor(), [keep = impl, sp = &s, c = std::move(c)]() mutable { sp->submit(std::move(c)); });
}
}  // namespace

void client::create_session_erased(const session_request& req, const request_options& opts, diagnostics* diag,
                                   create_session_handler handler) {
    detail::shard& s = impl_->pick_shard();
    detail::call_ref c = prepare_call(*impl_, s, req, opts, diag);
    if (!c) {
        net::post(s.handler_executor(), net::append(std::move(handler), error_code(errc::validation_failed), session{}));
        return;
    }
    // Not `c->handler = std::move(handler)`: Asio 1.26's move assignment of
    // any_completion_handler wraps the handler in itself, recursively.
    handler.swap(c->handler);
    const auto& h = c->handler;
    launch_call(impl_, s, std::move(c), h);
}

void client::create_session_into_erased(const session_request& req, const request_options& opts, session& out,
                                        diagnostics* diag, create_session_into_handler handler) {
    detail::shard& s = impl_->pick_shard();
    detail::call_ref c = prepare_call(*impl_, s, req, opts, diag);
    if (!c) {
        out = session{};
        net::post(s.handler_executor(), net::append(std::move(handler), error_code(errc::validation_failed)));
        return;
    }
    c->out = &out;
    handler.swap(c->into_handler);
    const auto& h = c->into_handler;
    launch_call(impl_, s, std::move(c), h);
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
