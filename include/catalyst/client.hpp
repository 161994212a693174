#ifndef CATALYST_CLIENT_HPP
#define CATALYST_CLIENT_HPP

// OWNER: client issue (#4). The names below are what the batch tool, the bench harness and
// users compile against; the owner may add, must not rename.

#include <catalyst/client_params.hpp>
#include <catalyst/diagnostics.hpp>
#include <catalyst/error.hpp>
#include <catalyst/logging.hpp>
#include <catalyst/metrics.hpp>
#include <catalyst/session.hpp>
#include <catalyst/session_request.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>

#include <memory>
#include <optional>
#include <string>

namespace catalyst {

/// Per-call options.
struct request_options {
    /// Sent as `Idempotency-Key` on every attempt. "" = a random UUID when the policy is
    /// `automatic`, none otherwise. The batch tool derives one per input line.
    std::string idempotency_key;
    /// Overall deadline for this call (all attempts); 0 = `client_params::overall_timeout`.
    milliseconds deadline{0};
    /// Replaces `client_params::retry` for this call.
    std::optional<retry_params> retry;
};

namespace detail {
class client_impl;
}

using create_session_handler = boost::asio::any_completion_handler<void(boost::system::error_code, session)>;

/// (documentation: see the implementation issue; the owner fills this in)
class client {
public:
    using executor_type = boost::asio::any_io_executor;

    client(executor_type ex, client_params params);
    client(boost::asio::io_context& ctx, client_params params);
    /// The client owns `params.threads` threads (at least one).
    explicit client(client_params params);
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    executor_type get_executor() const noexcept;

    template <class CompletionToken>
    auto async_create_session(const session_request& req, const request_options& opts,
                              diagnostics* diag, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code, session)>(
            [this](auto handler, const session_request& r, const request_options& o, diagnostics* d) {
                create_session_erased(r, o, d, create_session_handler(std::move(handler)));
            },
            token, std::cref(req), std::cref(opts), diag);
    }
    // + overloads without opts / diag (owner)

    metrics_snapshot metrics() const;

private:
    void create_session_erased(const session_request& req, const request_options& opts,
                               diagnostics* diag, create_session_handler handler);
    std::shared_ptr<detail::client_impl> impl_;
};

}  // namespace catalyst

#endif
