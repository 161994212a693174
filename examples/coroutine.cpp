// C++20 coroutines: co_await a session; errors as exceptions or, with as_tuple, as values.
#include "example_env.hpp"

#include <catalyst/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <iostream>

namespace net = boost::asio;

net::awaitable<int> create_two(catalyst::client& client) {
    // Keep requests in named variables across co_await (see client.hpp about lifetimes).
    const auto first = example::example_request("ada@example.com");
    catalyst::session s = co_await client.async_create_session(first, net::use_awaitable);
    std::cout << "session " << s.token << "\n";

    auto invalid = example::example_request("not an email");
    catalyst::diagnostics diag;
    const catalyst::request_options opts;  // named: GCC 12 mishandles temporaries across co_await
    auto [ec, ignored] = co_await client.async_create_session(invalid, opts, diag, net::as_tuple(net::use_awaitable));
    std::cout << "invalid request refused locally: " << ec.message() << " (" << diag.to_string() << ")\n";
    co_await client.async_shutdown(std::chrono::seconds(1), net::use_awaitable);
    co_return ec == catalyst::errc::validation_failed ? 0 : 1;
}

int main() {
    auto target = example::make_target();
    net::io_context ioc;
    catalyst::client client(ioc, target.params);
    int status = 1;
    net::co_spawn(ioc, create_two(client), [&](std::exception_ptr e, int rc) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                std::cerr << "failed: " << x.what() << "\n";
            }
        } else {
            status = rc;
        }
    });
    ioc.run();
    return status;
}
