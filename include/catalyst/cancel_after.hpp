#ifndef CATALYST_CANCEL_AFTER_HPP
#define CATALYST_CANCEL_AFTER_HPP

// catalyst::cancel_after(duration, token): a completion token adapter that cancels the
// operation when `duration` passes before it completes. Asio 1.26 (Boost 1.81) has no
// asio::cancel_after; this one works with any token (a callback, use_future, use_awaitable,
// deferred, or another adapter) and any operation whose initiation object exposes
// `get_executor()` (every catalyst operation does) and that honours cancellation slots.
//
//   co_await c.async_create_session(req, catalyst::cancel_after(2s, net::use_awaitable));
//   c.async_create_session(req, catalyst::cancel_after(500ms, [](auto ec, auto s) { ... }));
//
// How: a steady_timer on the handler's associated executor (else the operation's executor)
// emits `type` (terminal by default) on a cancellation_signal bound to the handler the
// operation sees. If the caller's own handler has a cancellation slot (a coroutine's, say),
// cancellation emitted there is forwarded too. The handler completes on the timer's executor
// (the handler's own, else the operation's), where the operation may clear the slot. The timer is cancelled when the operation
// completes; the completion itself is unchanged (the operation decides what a cancellation
// means: `errc::cancelled` for catalyst).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/system_executor.hpp>

#include <chrono>
#include <memory>
#include <type_traits>
#include <utility>

namespace catalyst {

/// The token made by `cancel_after`.
template <class Token>
struct cancel_after_t {
    std::chrono::steady_clock::duration timeout;
    boost::asio::cancellation_type_t type;
    Token token;
};

/// Wraps `token` so that the operation is cancelled (with `type`) after `timeout`.
template <class Token>
cancel_after_t<std::decay_t<Token>> cancel_after(std::chrono::steady_clock::duration timeout, Token&& token,
                                                 boost::asio::cancellation_type_t type =
                                                     boost::asio::cancellation_type::terminal) {
    return {timeout, type, std::forward<Token>(token)};
}

namespace detail {

struct cancel_after_state {
    explicit cancel_after_state(boost::asio::any_io_executor ex) : timer(std::move(ex)) {}
    boost::asio::steady_timer timer;
    boost::asio::cancellation_signal signal;
};

// Forwards cancellation from the caller's own slot to the signal the operation listens to.
struct cancel_after_forwarder {
    std::weak_ptr<cancel_after_state> state;
    void operator()(boost::asio::cancellation_type_t t) const {
        if (auto s = state.lock()) s->signal.emit(t);
    }
};

template <class Handler>
class cancel_after_handler {
public:
    using cancellation_slot_type = boost::asio::cancellation_slot;

    cancel_after_handler(Handler h, std::shared_ptr<cancel_after_state> s)
        : handler_(std::move(h)), executor_(s->timer.get_executor()), state_(std::move(s)) {}

    /// The timer's executor: the handler completes where the cancellation is emitted, so that
    /// the operation clearing the slot at completion never races the timer emitting on it.
    const boost::asio::any_io_executor& executor() const noexcept { return executor_; }

    cancellation_slot_type get_cancellation_slot() const noexcept { return state_->signal.slot(); }

    template <class... Args>
    void operator()(Args&&... args) {
        auto state = std::move(state_);
        // The timer lives on its executor; cancel it there (inline when we already are).
        boost::asio::dispatch(state->timer.get_executor(), [state] { state->timer.cancel(); });
        auto outer = boost::asio::get_associated_cancellation_slot(handler_);
        if (outer.is_connected()) outer.clear();
        std::move(handler_)(std::forward<Args>(args)...);
    }

    Handler handler_;

private:
    boost::asio::any_io_executor executor_;
    std::shared_ptr<cancel_after_state> state_;
};

template <class Initiation>
struct cancel_after_initiation {
    Initiation initiation;
    std::chrono::steady_clock::duration timeout;
    boost::asio::cancellation_type_t type;

    template <class Handler, class... Args>
    void operator()(Handler&& handler, Args&&... args) {
        using handler_t = std::decay_t<Handler>;
        // (An initiation without get_executor() is only the archetype a completion-token
        // concept check instantiates this with; it is never run.)
        auto ex = [&] {
            if constexpr (requires { initiation.get_executor(); })
                return boost::asio::any_io_executor(boost::asio::get_associated_executor(handler, initiation.get_executor()));
            else
                return boost::asio::any_io_executor(boost::asio::get_associated_executor(handler, boost::asio::system_executor()));
        }();
        auto state = std::make_shared<cancel_after_state>(std::move(ex));
        auto outer = boost::asio::get_associated_cancellation_slot(handler);
        if (outer.is_connected()) outer.template emplace<cancel_after_forwarder>(cancel_after_forwarder{state});
        // Start the operation first, the timer second: the operation has installed its
        // cancellation handler before the timer can fire on another thread.
        std::move(initiation)(cancel_after_handler<handler_t>(std::forward<Handler>(handler), state),
                              std::forward<Args>(args)...);
        state->timer.expires_after(timeout);
        state->timer.async_wait([state, t = type](const boost::system::error_code& ec) {
            if (!ec) state->signal.emit(t);
        });
    }
};

}  // namespace detail
}  // namespace catalyst

namespace boost::asio {

template <class Token, class... Signatures>
struct async_result<catalyst::cancel_after_t<Token>, Signatures...> {
    template <class Initiation, class RawToken, class... Args>
    static auto initiate(Initiation&& init, RawToken&& token, Args&&... args) {
        return async_initiate<Token, Signatures...>(
            catalyst::detail::cancel_after_initiation<std::decay_t<Initiation>>{std::forward<Initiation>(init),
                                                                                token.timeout, token.type},
            token.token, std::forward<Args>(args)...);
    }
};

template <class Handler, class Executor>
struct associated_executor<catalyst::detail::cancel_after_handler<Handler>, Executor> {
    // The handler's own executor when it has one (the timer runs there), else the
    // operation's at initiation: in both cases the timer's.
    using type = any_io_executor;
    static type get(const catalyst::detail::cancel_after_handler<Handler>& h, const Executor& = Executor()) noexcept {
        return h.executor();
    }
};

template <class Handler, class Allocator>
struct associated_allocator<catalyst::detail::cancel_after_handler<Handler>, Allocator> {
    using type = associated_allocator_t<Handler, Allocator>;
    static type get(const catalyst::detail::cancel_after_handler<Handler>& h, const Allocator& a = Allocator()) noexcept {
        return associated_allocator<Handler, Allocator>::get(h.handler_, a);
    }
};

}  // namespace boost::asio

#endif
