// Deadlines and cancellation: a per-call deadline, catalyst::cancel_after, and a
// cancellation_signal of your own. Against the embedded sandbox, a latency fault makes the
// server slow so that the timeouts fire.
#include "example_env.hpp"

#include <catalyst/cancel_after.hpp>
#include <catalyst/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <iostream>

namespace net = boost::asio;
using namespace std::chrono_literals;

net::awaitable<int> demo(catalyst::client& client) {
    int unexpected = 0;
    const auto req = example::example_request();

    // 1. A per-call overall deadline (all attempts included).
    catalyst::request_options opts;
    opts.deadline = 200ms;
    catalyst::diagnostics diag;
    auto [ec1, s1] = co_await client.async_create_session(req, opts, diag, net::as_tuple(net::use_awaitable));
    std::cout << "deadline 200 ms: " << ec1.message() << " after " << diag.attempts << " attempt(s)\n";
    unexpected += ec1 != catalyst::errc::timeout;

    // 2. cancel_after: cancels the operation when the time is up.
    auto [ec2, s2] = co_await client.async_create_session(req, catalyst::cancel_after(100ms, net::as_tuple(net::use_awaitable)));
    std::cout << "cancel_after 100 ms: " << ec2.message() << "\n";
    unexpected += ec2 != catalyst::errc::cancelled;

    // 3. Your own signal, e.g. the user closed the checkout page.
    net::cancellation_signal signal;
    net::steady_timer later(co_await net::this_coro::executor, 50ms);
    later.async_wait([&](boost::system::error_code) { signal.emit(net::cancellation_type::terminal); });
    auto [ec3, s3] = co_await client.async_create_session(
        req, net::bind_cancellation_slot(signal.slot(), net::as_tuple(net::use_awaitable)));
    std::cout << "cancelled by signal: " << ec3.message() << "\n";
    unexpected += ec3 != catalyst::errc::cancelled;

    co_await client.async_shutdown(0ms, net::use_awaitable);
    co_return unexpected;
}

int main() {
    auto target = example::make_target();
    if (target.sandbox) {
        catalyst::fault_params slow;
        slow.latency.every_nth = 1;
        slow.latency_min = 1500ms;
        target.sandbox->set_faults(slow);
    }
    target.params.attempt_timeout = 5s;
    net::io_context ioc;
    catalyst::client client(ioc, target.params);
    int status = 1;
    net::co_spawn(ioc, demo(client), [&](std::exception_ptr e, int rc) { status = e ? 1 : rc; });
    ioc.run();
    return target.sandbox ? status : 0;  // a real API may be fast enough to answer in time
}
