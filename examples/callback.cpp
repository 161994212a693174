// Callbacks on your own io_context: the client lives inside an existing Asio application.
#include "example_env.hpp"

#include <catalyst/client.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <iostream>

int main() {
    auto target = example::make_target();
    boost::asio::io_context ioc;
    catalyst::client client(ioc, target.params);

    const auto req = example::example_request();
    catalyst::diagnostics diag;  // must outlive the operation
    int status = 1;
    client.async_create_session(req, catalyst::request_options{}, diag,
                                [&](boost::system::error_code ec, catalyst::session s) {
                                    if (ec) {
                                        std::cerr << "failed: " << ec.message() << " - " << diag.to_string() << "\n";
                                    } else {
                                        std::cout << "session " << s.token << " " << s.status_text << " " << s.payment_url
                                                  << "\n";
                                        status = 0;
                                    }
                                    // The pool keeps idle connections (and so the io_context busy):
                                    // shut down to let run() return.
                                    client.async_shutdown(std::chrono::seconds(1), [](boost::system::error_code) {});
                                });
    ioc.run();
    return status;
}
