#ifndef CATALYST_CLIENT_HPP
#define CATALYST_CLIENT_HPP

#include <catalyst/client_params.hpp>
#include <catalyst/diagnostics.hpp>
#include <catalyst/error.hpp>
#include <catalyst/error_with_diagnostics.hpp>
#include <catalyst/export.hpp>
#include <catalyst/logging.hpp>
#include <catalyst/metrics.hpp>
#include <catalyst/session.hpp>
#include <catalyst/session_request.hpp>
#include <catalyst/with_diagnostics.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace catalyst {

/// Per-call options.
struct request_options {
    /// Sent as `Idempotency-Key` on every attempt. "" = a random UUID v4 when the policy is
    /// `automatic`, none otherwise. At most 255 visible ASCII characters (else the call fails
    /// with `validation_failed`, field "idempotency_key"). The batch tool derives one per
    /// input line. Never logged.
    std::string idempotency_key;
    /// Overall deadline for this call (all attempts); 0 = `client_params::overall_timeout`.
    milliseconds deadline{0};
    /// Replaces `client_params::retry` for this call.
    std::optional<retry_params> retry;
    /// Extra headers sent with every attempt of this call, in this order (a W3C `traceparent`,
    /// say). Checked before anything is sent: a name must be an HTTP token, a value must hold
    /// no CR, LF or other control character (TAB aside), at most 64 headers and 8 KiB in all,
    /// and the headers the client writes itself or that change the framing are refused
    /// (Host, Authorization, Content-Length, Content-Type, Transfer-Encoding, Connection,
    /// Keep-Alive, Upgrade, TE, Trailer, Expect, Idempotency-Key, User-Agent, Accept): the
    /// call then fails with `validation_failed`, field "headers[i].name" or
    /// "headers[i].value". Never logged, never in diagnostics.
    std::vector<std::pair<std::string, std::string>> headers;
    /// Opaque text handed to the client's observer with every event of this call (a trace id,
    /// say; see `client_observer`). Never sent, never logged.
    std::string observer_context;
};

namespace detail {
class client_impl;
}

/// Completion signatures (a comma inside a macro argument needs a name).
using create_session_signature = void(boost::system::error_code, session);
using shutdown_signature = void(boost::system::error_code);
using create_session_into_signature = void(boost::system::error_code);
using create_session_handler = boost::asio::any_completion_handler<create_session_signature>;
using create_session_into_handler = boost::asio::any_completion_handler<create_session_into_signature>;
using shutdown_handler = boost::asio::any_completion_handler<shutdown_signature>;

/// An asynchronous HTTPS client of the CatalystPay session API: a pool of keep-alive TLS
/// connections to the origin of `client_params::base_url`, with timeouts, safe retries and
/// backpressure. Create one per process (or per API key) and share it.
///
/// Threading. `client(executor, ...)` and `client(io_context&, ...)` run the client on the
/// caller's event loop: all its state is confined to a strand of that executor, so the
/// io_context may be run by any number of threads. `client(params)` owns `params.threads`
/// threads (at least one), each with its own io_context and its own share of
/// `max_connections` (rounded up); calls are handed to them round-robin. Every member
/// function is safe to call from any thread, except the destructor, which must not run
/// on one of the client's own threads.
///
/// Handlers run on their associated executor, which defaults to the executor the caller
/// gave (`client(executor)`: that executor itself, not the client's internal strand, so a
/// slow callback never stalls the pool; `client(params)`: the owned thread that served the
/// request); `bind_executor` or a coroutine's executor with `use_awaitable` choose another.
/// Never inline. A handler that throws: with `client(executor)` the exception leaves the
/// caller's `run()` as with any Asio handler (the client's state is consistent; call `run()`
/// again); with owned threads it is caught, logged (level error) and the thread goes on.
///
/// Timeouts (see `client_params`): connect (per address, default 5 s), TLS handshake
/// (5 s), each attempt (15 s), and one overall deadline across attempts (60 s, or
/// `request_options::deadline`). Every I/O step (resolve, connect, handshake, write, each
/// read) must end by the sooner of its own limit and the overall deadline, enforced by a
/// timer; nothing is written after the overall deadline. A call completes by its overall
/// deadline plus a few milliseconds of scheduling slack (see docs/client.md).
///
/// Lifetime: the client must outlive no operation: the destructor completes every pending
/// operation with `errc::shutting_down` (when its executor still runs) and closes the
/// connections; `async_shutdown` first is the graceful way.
class CATALYST_DECL client {
public:
    using executor_type = boost::asio::any_io_executor;

    /// Runs on `ex` (through a strand of it). Throws `config_error` for invalid params
    /// (`check()`), naming the field: a `base_url` that is not an absolute `https://` URL,
    /// an API key with control characters, an unreadable CA file.
    client(executor_type ex, client_params params);
    client(boost::asio::io_context& ctx, client_params params);
    /// The client owns `params.threads` threads (at least one), started here and joined by
    /// the destructor.
    explicit client(client_params params);
    /// Hard stop: pending operations complete with `errc::shutting_down` (if their executor
    /// runs), connections are closed; owned threads are joined.
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    /// The executor handlers default to: the one given to the constructor (for owned threads:
    /// the first thread's).
    executor_type get_executor() const noexcept;

    /// Creates a payment session: `POST <base_url>/payment-sessions/`.
    ///
    /// The token defaults to the executor's default completion token, as Asio's own
    /// operations do (with `any_io_executor` in Boost 1.81 there is none: pass a token).
    ///
    /// Signature: `void(boost::system::error_code, catalyst::session)`; on error the session
    /// is empty and `ec` is a `catalyst::errc`. The request is validated (`catalyst::validate`)
    /// and encoded on the calling thread before this returns; an invalid request completes
    /// with `errc::validation_failed` (field errors in `*diag`) without touching the network,
    /// and like every completion it is posted, never run inline.
    ///
    /// Errors: `validation_failed` (client side, or HTTP 400 with the field errors),
    /// `unauthorized`, `forbidden`, `not_found`, `duplicate_lead`, `idempotency_conflict`,
    /// `payload_too_large`, `unsupported_media_type`, `rate_limited` and `server_error`
    /// (retries exhausted), `unexpected_status`, `timeout`, `connect_failed`, `tls_failed`
    /// (never retried), `protocol_error`, `outcome_unknown` (sent, then no complete answer,
    /// or a 500/502/504 without an idempotency key: not safe to retry, the session may
    /// exist), `cancelled`, `queue_full`, `shutting_down`.
    ///
    /// Retries follow `retry_params` and `client_params::idempotency` (see docs/api.md and
    /// docs/client.md): 429 and 503 always (not processed); 500/502/504, answers cut short,
    /// resets and timeouts after sending only with an idempotency key; connect and
    /// TLS-transport failures (nothing sent); stale keep-alive connections (resent at once,
    /// not counted as an attempt). Every attempt carries the same `Idempotency-Key`.
    ///
    /// Tokens that throw (`use_future`, `use_awaitable`) throw a `system_error`; wrap them in
    /// `catalyst::with_diagnostics(token)` to get a `catalyst::error_with_diagnostics`
    /// carrying the call's diagnostics.
    ///
    /// Cancellation (the handler's cancellation slot, e.g. `catalyst::cancel_after`):
    /// `terminal` and `partial` cancel at any point: a queued or backing-off call completes
    /// with `errc::cancelled` at once; one in flight has its connection closed (its state is
    /// unknown) and completes with `errc::cancelled` (the session may exist). `total` is
    /// honoured only while nothing has been sent yet. Cancellation may be emitted from any
    /// thread. Completion happens exactly once, and the handler's cancellation slot is
    /// cleared just before it runs.
    ///
    /// Lifetimes: `req` and `opts` are read when the operation is initiated: at once for a
    /// callback or `use_future`, at the `co_await` for `use_awaitable`, when the deferred
    /// operation is launched for `deferred`; they must live until then. (With GCC 12, keep
    /// them in named variables rather than temporaries inside a `co_await` expression.)
    ///
    /// `diag`: when not null, filled with what is known (status, API detail and code, field
    /// errors, attempts, elapsed, each attempt's retry reason, why the last failure was not
    /// retried, a redacted excerpt of an unexpected body) before the handler runs; it must
    /// stay alive until then. It never holds the API key, the idempotency key or lead data.
    template <BOOST_ASIO_COMPLETION_TOKEN_FOR(create_session_signature) CompletionToken =
                  boost::asio::default_completion_token_t<executor_type>>
    auto async_create_session(const session_request& req, const request_options& opts, diagnostics* diag,
                              CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code, session)>(
            create_initiation{this}, token, std::cref(req), std::cref(opts), diag);
    }
    /// As above; `diag` must outlive the operation.
    template <BOOST_ASIO_COMPLETION_TOKEN_FOR(create_session_signature) CompletionToken =
                  boost::asio::default_completion_token_t<executor_type>>
    auto async_create_session(const session_request& req, const request_options& opts, diagnostics& diag,
                              CompletionToken&& token = {}) {
        return async_create_session(req, opts, &diag, std::forward<CompletionToken>(token));
    }
    /// As above, without diagnostics.
    template <BOOST_ASIO_COMPLETION_TOKEN_FOR(create_session_signature) CompletionToken =
                  boost::asio::default_completion_token_t<executor_type>>
    auto async_create_session(const session_request& req, const request_options& opts, CompletionToken&& token = {}) {
        return async_create_session(req, opts, static_cast<diagnostics*>(nullptr), std::forward<CompletionToken>(token));
    }
    /// As above, with default options.
    template <BOOST_ASIO_COMPLETION_TOKEN_FOR(create_session_signature) CompletionToken =
                  boost::asio::default_completion_token_t<executor_type>>
    auto async_create_session(const session_request& req, CompletionToken&& token = {}) {
        return async_create_session(req, default_options(), static_cast<diagnostics*>(nullptr),
                                    std::forward<CompletionToken>(token));
    }

    /// Creates a payment session into `out`: as above, but the session is written into `out`
    /// and the handler gets only the error code. Signature `void(boost::system::error_code)`.
    ///
    /// Why: a `session` returned by value is new strings on every call (the token and the
    /// payment URL are longer than the small-string buffer), whereas `out`'s strings keep
    /// their capacity from one call to the next. A caller that keeps one `session` per call
    /// in flight and calls from the client's threads (from its completion handlers, as a
    /// closed loop or a server does) makes no heap allocation per request in steady state
    /// (see docs/client.md, "Allocations").
    ///
    /// `out` is written before the handler runs (on the client's thread, or on the calling
    /// one for a request refused before the wire) and must be left alone (neither read nor
    /// written) from the call until then. On error it is cleared.
    ///
    /// (`Session` is `session`: a template parameter checked first, so that the other
    /// overloads' calls never ask whether their token suits this signature.)
    template <class Session, class CompletionToken = boost::asio::default_completion_token_t<executor_type>>
        requires std::is_same_v<Session, session> &&
                 boost::asio::completion_token_for<CompletionToken, create_session_into_signature>
    auto async_create_session(const session_request& req, const request_options& opts, Session& out, diagnostics* diag,
                              CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, create_session_into_signature>(
            create_into_initiation{this}, token, std::cref(req), std::cref(opts), std::ref(out), diag);
    }
    /// As above, without diagnostics.
    template <class Session, class CompletionToken = boost::asio::default_completion_token_t<executor_type>>
        requires std::is_same_v<Session, session> &&
                 boost::asio::completion_token_for<CompletionToken, create_session_into_signature>
    auto async_create_session(const session_request& req, const request_options& opts, Session& out,
                              CompletionToken&& token = {}) {
        return async_create_session(req, opts, out, static_cast<diagnostics*>(nullptr),
                                    std::forward<CompletionToken>(token));
    }

    /// Graceful stop. Signature `void(boost::system::error_code)` (always success). May be
    /// called more than once, concurrently: every call's handler runs (a shorter grace given
    /// later shortens the grace).
    /// New calls fail with `errc::shutting_down` from now on; calls already accepted (queued
    /// or in flight) may finish until `grace` has passed, then they are cancelled (they
    /// complete with `errc::shutting_down`); then every connection is closed and the handler
    /// runs. Not cancellable.
    template <BOOST_ASIO_COMPLETION_TOKEN_FOR(shutdown_signature) CompletionToken =
                  boost::asio::default_completion_token_t<executor_type>>
    auto async_shutdown(std::chrono::milliseconds grace, CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code)>(
            shutdown_initiation{this}, token, grace);
    }

    /// Counters, readable at any time from any thread (relaxed reads).
    metrics_snapshot metrics() const;

    /// Installs the logging hook (empty function: none). Called from the client's threads;
    /// it never receives the API key, an idempotency key or a lead's personal fields.
    void set_logger(log_function fn);

private:
    /// Shared, immutable defaults, so that deferred initiations never refer to a temporary.
    static const request_options& default_options() noexcept {
        static const request_options defaults;
        return defaults;
    }
    struct create_initiation {
        client* self;
        using executor_type = client::executor_type;
        executor_type get_executor() const noexcept { return self->get_executor(); }
        template <class Handler>
        void operator()(Handler&& h, const session_request& r, const request_options& o, diagnostics* d) const {
            self->create_session_erased(r, o, d, create_session_handler(std::forward<Handler>(h)));
        }
    };
    struct create_into_initiation {
        client* self;
        using executor_type = client::executor_type;
        executor_type get_executor() const noexcept { return self->get_executor(); }
        template <class Handler>
        void operator()(Handler&& h, const session_request& r, const request_options& o, session& out,
                        diagnostics* d) const {
            self->create_session_into_erased(r, o, out, d, create_session_into_handler(std::forward<Handler>(h)));
        }
    };
    struct shutdown_initiation {
        client* self;
        using executor_type = client::executor_type;
        executor_type get_executor() const noexcept { return self->get_executor(); }
        template <class Handler>
        void operator()(Handler&& h, std::chrono::milliseconds grace) const {
            self->shutdown_erased(grace, shutdown_handler(std::forward<Handler>(h)));
        }
    };

    void create_session_erased(const session_request& req, const request_options& opts, diagnostics* diag,
                               create_session_handler handler);
    void create_session_into_erased(const session_request& req, const request_options& opts, session& out,
                                    diagnostics* diag, create_session_into_handler handler);
    void shutdown_erased(std::chrono::milliseconds grace, shutdown_handler handler);
    std::shared_ptr<detail::client_impl> impl_;
};

}  // namespace catalyst

#endif
