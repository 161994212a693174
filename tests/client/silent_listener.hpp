#ifndef CATALYST_TESTS_CLIENT_SILENT_LISTENER_HPP
#define CATALYST_TESTS_CLIENT_SILENT_LISTENER_HPP

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace catalyst::test {

/// A TCP listener on 127.0.0.1 that accepts and holds connections but never says a word (a
/// server stalled before the TLS handshake), on its own thread until destroyed.
class silent_listener {
  public:
    silent_listener() {
        accept();
        thread_ = std::thread([this] { ctx_.run_for(std::chrono::seconds(30)); });
    }
    ~silent_listener() {
        ctx_.stop();
        thread_.join();
    }
    silent_listener(const silent_listener&) = delete;
    silent_listener& operator=(const silent_listener&) = delete;

    std::string base_url() const {
        return "https://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/api/v1";
    }

  private:
    void accept() {
        acceptor_.async_accept(
            [this](boost::system::error_code ec, boost::asio::ip::tcp::socket s) {
                if (ec) return;
                held_.push_back(std::move(s));
                accept();
            });
    }
    boost::asio::io_context ctx_;
    boost::asio::ip::tcp::acceptor acceptor_{ctx_, {boost::asio::ip::make_address("127.0.0.1"), 0}};
    std::vector<boost::asio::ip::tcp::socket> held_;
    std::thread thread_;
};

}  // namespace catalyst::test

#endif
