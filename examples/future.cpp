// Futures for code without an event loop: the client owns its threads.
#include "example_env.hpp"

#include <catalyst/client.hpp>

#include <boost/asio/use_future.hpp>

#include <iostream>
#include <vector>

int main() {
    auto target = example::make_target();
    target.params.threads = 2;  // the client runs its own event loops
    catalyst::client client(target.params);

    std::vector<std::future<catalyst::session>> pending;
    for (int i = 0; i < 5; ++i) {
        const auto req = example::example_request("customer" + std::to_string(i) + "@example.com");
        pending.push_back(client.async_create_session(req, boost::asio::use_future));
    }
    int failures = 0;
    for (auto& f : pending) {
        try {
            auto s = f.get();
            std::cout << "session " << s.token << "\n";
        } catch (const boost::system::system_error& e) {
            // e.code() is a catalyst::errc: compare with catalyst::errc::rate_limited etc.
            std::cerr << "failed: " << e.code().message() << "\n";
            ++failures;
        }
    }
    std::cout << client.metrics().to_prometheus().substr(0, 200) << "...\n";
    return failures == 0 ? 0 : 1;
}
