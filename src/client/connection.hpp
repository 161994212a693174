#ifndef CATALYST_SRC_CLIENT_CONNECTION_HPP
#define CATALYST_SRC_CLIENT_CONNECTION_HPP

// One pooled connection: the driver of its state machine (connection_fsm.hpp). It carries out
// the actions (DNS, connect, the TLS handshake, write, read, idle waits) with callbacks, no
// coroutine, and feeds each result back. Every handler holds a shared_ptr to the connection;
// the connection holds the client (and through it its shard) alive.

#include "client/connection_fsm.hpp"
#include "client/drained_receive.hpp"
#include "tls/tls_stream.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <string>
#include <vector>

namespace catalyst::detail {

class client_impl;
class shard;
struct call;
using steady = std::chrono::steady_clock;

class connection : public std::enable_shared_from_this<connection> {
  public:
    connection(std::shared_ptr<client_impl> impl, shard& s);
    ~connection();
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    /// Opens the connection for its first call (registered with the shard beforehand).
    void start(call* first);
    /// An idle connection gets a call.
    void assign(call* c);
    /// Close when idle (at once) or after the exchange under way.
    void close_idle();
    /// End the exchange under way: the call is reported with the state machine's verdict.
    void abort(errc why);
    /// The call this connection holds (connecting or exchanging), if any.
    call* current() const noexcept { return call_; }

  private:
    using action = connection_fsm::action;
    using act = connection_fsm::act;
    /// Where an I/O step goes on after a wait for the socket (or a yield).
    enum class resume_at : std::uint8_t { handshake, write, read };

    /// Carries out actions until one waits; the one way into the state machine.
    void run(action a) noexcept;
    action step(const action& a);
    action do_resolve();
    action do_connect(std::size_t index);
    action do_handshake();
    action handshake_result(boost::system::error_code ec);
    action do_write();
    action do_read();
    action do_report();
    action do_take_next();
    void do_idle(const action& a);
    /// Waits for the socket (or yields to the executor), then goes on at `at`.
    void wait_socket(tls_next next, resume_at at);
    void on_socket(boost::system::error_code ec, resume_at at) noexcept;
    /// An I/O step ended with `ec` while waiting: the state machine hears it from that step.
    action io_failed(boost::system::error_code ec, resume_at at);
    /// Keeps one receive pending on the socket once reads are fed (after the handshake): it
    /// brings the answers, and on an idle connection it is the watch for the server's close.
    void arm_receive();
    void on_received(boost::system::error_code ec, std::size_t n) noexcept;
    /// A timer that wakes the state machine (its step deadline, or an idle connection's next
    /// look); re-armed only when an earlier expiry is needed.
    struct fsm_timer {
        boost::asio::steady_timer timer;
        steady::time_point at = steady::time_point::max();
        bool armed = false;
        std::uint64_t gen = 0;  ///< a wait that a re-arm or stop() replaced is ignored
        void stop() noexcept;
    };
    /// Arms the watchdog for the state machine's step deadline when it needs an earlier expiry.
    void guard();
    /// Arms `t` for `at`; when it fires the state machine gets `input` with the time.
    void arm(fsm_timer& t, steady::time_point at,
             action (connection_fsm::*input)(steady::time_point));
    void cancel_io() noexcept;
    void save_tls_session();
    /// Closes the socket and tells the shard, once.
    void finish() noexcept;
    /// The driver itself failed (an exception): the call it holds is reported, the
    /// connection closes.
    void fail(const char* what) noexcept;
    call_facts facts_of(const call* c) const noexcept;
    /// Tells the shard, once, that this connection is no longer being opened.
    void opened() noexcept;

    std::shared_ptr<client_impl> impl_;
    shard& shard_;
    const client_params& params_;
    connection_fsm fsm_;
    tls_stream stream_;
    boost::asio::ip::tcp::resolver resolver_;
    fsm_timer watchdog_;
    fsm_timer wake_;
    std::vector<boost::asio::ip::tcp::endpoint> endpoints_;
    reactor_type* reactor_ = nullptr;  ///< for the pending receive (drained_receive.hpp)
    call* call_ = nullptr;
    std::string wbuf_;
    std::size_t written_ = 0;
    bool tcp_open_ = false;
    bool opening_ = true;  ///< counted in the shard's connections being opened
    bool finished_ = false;
    bool session_saved_ = false;
    bool read_waiting_ = false;  ///< a read waits for the receive's bytes

    // For the observer: what opening this connection took, and how.
    const bool observed_;
    bool tls_resumed_ = false;
    std::chrono::microseconds connect_time_{0}, tls_time_{0};
    steady::time_point began_{}, write_at_{};
    std::string_view tls_cipher_;  ///< OpenSSL's static name of the negotiated suite
};

}  // namespace catalyst::detail

#endif
