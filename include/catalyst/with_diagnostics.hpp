#ifndef CATALYST_WITH_DIAGNOSTICS_HPP
#define CATALYST_WITH_DIAGNOSTICS_HPP

// catalyst::with_diagnostics(token): for tokens that turn errors into exceptions
// (use_future, use_awaitable, a coroutine library's), the exception of a failed
// `async_create_session` is a `catalyst::error_with_diagnostics` carrying the call's
// diagnostics, instead of a bare system_error.
//
//   try {
//       session s = co_await c.async_create_session(req, catalyst::with_diagnostics(net::use_awaitable));
//   } catch (const catalyst::error_with_diagnostics& e) {
//       log(e.code(), e.get_diagnostics().to_string());
//   }
//
// How: the operation completes the wrapped token with `void(std::exception_ptr, session)`
// (which use_future and use_awaitable rethrow); the diagnostics are the caller's `diag` when
// given, else owned by the handler until it runs. Composes with `cancel_after` either way round.

#include <catalyst/error_with_diagnostics.hpp>
#include <catalyst/session.hpp>

#include <boost/asio/associator.hpp>
#include <boost/asio/async_result.hpp>

#include <exception>
#include <memory>
#include <type_traits>
#include <utility>

namespace catalyst {

/// The token made by `with_diagnostics`.
template <class Token>
struct with_diagnostics_t {
    Token token;
};

/// Wraps `token`: a failure completes it with an `error_with_diagnostics` exception.
template <class Token>
with_diagnostics_t<std::decay_t<Token>> with_diagnostics(Token&& token) {
    return {std::forward<Token>(token)};
}

namespace detail {

template <class Handler>
struct with_diagnostics_handler {
    Handler handler_;
    std::unique_ptr<diagnostics> owned_;  // when the caller passed none
    diagnostics* diag_;

    void operator()(boost::system::error_code ec, session s) {
        std::exception_ptr ex;
        if (ec) ex = std::make_exception_ptr(error_with_diagnostics(ec, *diag_));
        owned_.reset();
        std::move(handler_)(std::move(ex), ec ? session{} : std::move(s));
    }
};

template <class Initiation>
struct with_diagnostics_initiation {
    Initiation initiation;

    template <class I = Initiation>
    auto get_executor() const noexcept -> decltype(std::declval<const I&>().get_executor()) {
        return initiation.get_executor();
    }

    template <class Handler, class Request, class Options>
    void operator()(Handler&& handler, Request&& req, Options&& opts, diagnostics* diag) {
        std::unique_ptr<diagnostics> owned;
        if (!diag) {
            owned = std::make_unique<diagnostics>();
            diag = owned.get();
        }
        std::move(initiation)(
            with_diagnostics_handler<std::decay_t<Handler>>{std::forward<Handler>(handler), std::move(owned), diag},
            std::forward<Request>(req), std::forward<Options>(opts), diag);
    }
    // Only the archetype of a completion-token concept check calls this; never run.
    template <class Handler>
    void operator()(Handler&& handler) {
        std::move(initiation)(with_diagnostics_handler<std::decay_t<Handler>>{std::forward<Handler>(handler), nullptr, nullptr});
    }
};

}  // namespace detail
}  // namespace catalyst

namespace boost::asio {

template <class Token>
struct async_result<catalyst::with_diagnostics_t<Token>, void(boost::system::error_code, catalyst::session)> {
    template <class Initiation, class RawToken, class... Args>
    static auto initiate(Initiation&& init, RawToken&& token, Args&&... args) {
        return async_initiate<Token, void(std::exception_ptr, catalyst::session)>(
            catalyst::detail::with_diagnostics_initiation<std::decay_t<Initiation>>{std::forward<Initiation>(init)},
            token.token, std::forward<Args>(args)...);
    }
};

template <template <typename, typename> class Associator, typename Handler, typename DefaultCandidate>
struct associator<Associator, catalyst::detail::with_diagnostics_handler<Handler>, DefaultCandidate>
    : Associator<Handler, DefaultCandidate> {
    static typename Associator<Handler, DefaultCandidate>::type get(
        const catalyst::detail::with_diagnostics_handler<Handler>& h) noexcept {
        return Associator<Handler, DefaultCandidate>::get(h.handler_);
    }
    static auto get(const catalyst::detail::with_diagnostics_handler<Handler>& h, const DefaultCandidate& c) noexcept
        -> decltype(Associator<Handler, DefaultCandidate>::get(h.handler_, c)) {
        return Associator<Handler, DefaultCandidate>::get(h.handler_, c);
    }
};

}  // namespace boost::asio

#endif
