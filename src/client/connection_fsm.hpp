#ifndef CATALYST_SRC_CLIENT_CONNECTION_FSM_HPP
#define CATALYST_SRC_CLIENT_CONNECTION_FSM_HPP

// One pooled connection as a state machine without I/O: the driver (connection.cpp) carries
// out the action each input returns (resolve, connect, handshake, write, read, wait idle,
// close) and feeds the result back, with the time. The answer's bytes go through it: it owns
// the read buffer and the parser, so what happens to bytes nobody asked for is decided here.
//
//   resolving -> connecting -> handshaking -> writing -> reading -> reporting -> idle
//                                               ^                      │          │
//                                               ├──────── next call ───┘          │ (1)
//                                               │                                 v
//                                               └──── the check at reuse ───── settling
//   (1) a call, with a receive pending that may have completed (after an idle spell, or one
//       performed as it started)
//   any state -> closed (failure, the server's close, limits, a close request)
//
// Its rules:
// - every I/O step ends by the sooner of its own limit and the call's overall deadline; the
//   step's deadline is state (`deadline()`), checked before each step and each read; the
//   driver's watchdog only wakes the step up (`on_watchdog`);
// - an abort (cancel, stop) ends the step under way; no step starts after one;
// - any byte left after a complete answer, in the read buffer or inside the TLS layer, means
//   the server wrote what nobody asked for: the answer stands, the connection is closed. An
//   idle connection is watched (the driver's pending receive: `on_peer`), and one handed a
//   call is checked for such bytes (`check_peer`) before anything is written on it;
// - the check at reuse asks the socket itself (a peek) after an idle spell of `reuse_peek_after`
//   or more, in which the event loop may not have looked at the socket: bytes that came then
//   are in the socket. Handed a call sooner, nothing can have come since the answer's read but
//   in the microseconds any check leaves, and the hot path makes no system call;
// - the check trusts the stream and the socket only when no receive can have been performed
//   with its completion still queued behind the hand-over (its bytes out of the socket, not
//   yet in the stream). That is possible after an idle spell (the event loop ran meanwhile),
//   and for a receive performed as it started: the reactor does so unless the last receive
//   emptied the socket, and an `ask_first` receive is one. Then the check cancels the receive
//   and waits for its completion (`settling`) before it looks; the call it holds meanwhile is
//   written once or given back once, and an abort then ends it unsent. Right after a short
//   read (every small answer) the receive waits for a signal: nothing to settle;
// - a short receive empties the socket, and may take the peer's FIN along with its last
//   bytes; epoll signals that end no more, and the reactor waits for a signal before it reads
//   again (drained_receive.hpp). So the next receive asks the socket once before it waits
//   (`receive_start::ask_first`), except right after a complete answer (reporting): the
//   check at reuse or the next exchange's read finds such an end, and the hot path re-arms
//   its receive without a system call.

#include "client/connection_policy.hpp"
#include "client/http_response.hpp"
#include "client/io_outcome.hpp"
#include "client/retry_policy.hpp"
#include "core/origin.hpp"

#include <catalyst/client_params.hpp>
#include <catalyst/observer.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace catalyst::detail {

/// How an attempt ended, handed to the shard to decide on.
struct attempt_report {
    attempt_result result = attempt_result::response;
    const http_response* response = nullptr;  ///< for `response`: valid until the report returns
    std::string error;                        ///< for diagnostics: what went wrong on the wire
    // For the observer (filled by the driver only when there is one).
    connection_use connection = connection_use::none;
    std::size_t bytes_sent = 0;
    std::size_t bytes_received = 0;
    std::chrono::microseconds connect{0}, tls_handshake{0}, time_to_first_byte{0};
    std::string_view tls_cipher;  ///< the negotiated suite (OpenSSL's static name)
};

/// What the connection's current call contributes to its decisions.
struct call_facts {
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
    bool key_makes_retry_safe = false;
};

class connection_fsm {
  public:
    using time_point = std::chrono::steady_clock::time_point;

    /// `settling`: a call was handed to the idle connection; the check at reuse waits for the
    /// cancelled receive's completion (on_received) before it looks.
    enum class state : std::uint8_t {
        resolving,
        connecting,
        handshaking,
        writing,
        reading,
        reporting,
        idle,
        settling,
        closed
    };

    enum class act : std::uint8_t {
        none,       ///< wait for the next input
        resolve,    ///< look the origin's host up; then on_resolved
        connect,    ///< connect to endpoint `endpoint`; then on_connected
        handshake,  ///< the TLS handshake; then on_handshake
        write,      ///< write the call's request (after `call_fsm::wire`); then on_written or
                    ///< on_write_refused
        read,  ///< read into read_buffer(); then on_read. `wait_first`: nothing can have arrived
               ///< yet
        cancel_io,   ///< end the I/O under way: its completion comes back with an error
        report,      ///< hand report() to the shard; then on_reported
        take_next,   ///< ask the shard for the next call; then assign, go_idle or close
        idle,        ///< arm the wake-up at `until` (then on_wake); `release`: an idle spell began,
                     ///< buffers may go
        check_peer,  ///< did the peer write while we were idle? (`ask_socket`: peek at the socket
                     ///< too) then on_peer_checked
        cancel_receive,  ///< cancel the pending receive (no system call); its completion, with what
                         ///< it took, then on_received
        give_back,       ///< the call goes back to the shard unsent; then the connection closes
        close,           ///< close the socket: the connection is done
    };

    struct action {
        act what = act::none;
        std::size_t endpoint = 0;  ///< connect
        bool wait_first = false;   ///< read
        bool release = false;      ///< idle
        bool ask_socket = false;   ///< check_peer
        time_point until{};        ///< idle
    };

    /// How the driver starts its pending receive (on_receive_started).
    enum class receive_start : std::uint8_t {
        wait,       ///< hand it to the reactor, which reads once the socket is signalled
        ask_first,  ///< try the socket once first (a short receive may have hidden its end)
    };
    /// How the pending receive completed (on_received).
    enum class receive_end : std::uint8_t {
        data,     ///< bytes (handed to the stream)
        ended,    ///< end of stream or an error (handed to the stream)
        aborted,  ///< cancelled before it took anything
    };

    /// `p` and `o` outlive the state machine.
    connection_fsm(const client_params& p, const origin& o);

    // --- opening, with its first call ---
    /// `endpoints`: addresses already known (an IP host, the DNS cache); 0 = resolve first.
    action start(const call_facts& c, std::size_t endpoints, time_point now);
    action on_resolved(boost::system::error_code ec, std::size_t endpoints, time_point now);
    /// `where`: the address tried, for the report.
    action on_connected(boost::system::error_code ec, std::string_view where, time_point now);
    /// `refused`: the certificate or the verified name was refused (never retried); `why`:
    /// the refusal's text, else the error's.
    action on_handshake(boost::system::error_code ec, bool refused, std::string_view why,
                        time_point now);

    // --- one exchange ---
    action on_write_refused(time_point now);
    action on_written(boost::system::error_code ec, std::size_t bytes, time_point now);
    /// The buffer the next read fills (valid until the next input).
    char* read_buffer() noexcept { return rbuf_.data() + rlen_; }
    std::size_t read_room() const noexcept { return rbuf_.size() - rlen_; }
    /// `tls_pending`: the TLS layer holds bytes it has not handed out (checked once the
    /// answer is complete).
    action on_read(boost::system::error_code ec, std::size_t bytes, bool tls_pending,
                   time_point now);
    /// The report of the attempt that just ended (valid until on_reported).
    attempt_report& report() noexcept { return report_; }
    action on_reported(time_point now);

    // --- between exchanges ---
    /// A call for this connection (from take_next, or while idle).
    action assign(const call_facts& c, time_point now);
    /// No call for now.
    action go_idle(time_point now);
    action on_wake(time_point now);
    /// While idle the peer wrote (the driver's watch of the socket saw it); `spoke`: data, a
    /// close_notify, a FIN or a reset (a TLS session ticket or key update is not).
    action on_peer(bool spoke, time_point now);
    action on_peer_checked(bool spoke, time_point now);

    // --- the driver's pending receive (the stream's feed; the watch of an idle connection) ---
    /// The driver starts its receive, of up to `room` bytes: how it starts.
    receive_start on_receive_started(std::size_t room) noexcept;
    /// The receive completed, after its bytes or its end went to the stream: `bytes` of the
    /// room it was given. Settling, the check at reuse goes on; otherwise nothing to do here.
    action on_received(receive_end how, std::size_t bytes, time_point now);
    /// A receive is pending.
    bool receiving() const noexcept { return receiving_; }

    // --- at any time ---
    /// The shard asks the connection to close (idle: at once; busy: after the exchange).
    action close_requested();
    /// End the exchange under way (cancel, stop). Nothing more is sent for this call.
    action abort(errc why);
    /// The driver's watchdog fired.
    action on_watchdog(time_point now);
    /// The connection must close without more I/O (an unexpected failure of the driver).
    void fail() noexcept;

    state current() const noexcept { return state_; }
    /// The current step's deadline; max when no step runs.
    time_point deadline() const noexcept { return deadline_; }
    /// An abort or a timeout interrupted the step under way (its completion is not trusted).
    bool interrupted() const noexcept { return abort_.has_value() || timed_out_; }
    bool has_call() const noexcept { return has_call_; }
    bool reused() const noexcept { return reused_; }
    /// Opening is over (established or failed).
    bool opened() const noexcept {
        return state_ != state::resolving && state_ != state::connecting &&
               state_ != state::handshaking;
    }
    const connection_facts& facts() const noexcept { return facts_; }
    /// The bytes of the current answer read so far.
    std::size_t answer_bytes() const noexcept { return rlen_; }
    /// The last answer was followed by bytes nobody asked for.
    bool saw_unsolicited() const noexcept { return unsolicited_; }

  private:
    /// Starts a step that must end by now + limit (and the call's deadline): false when it
    /// must not start (aborted, or the deadline passed).
    bool begin_step(time_point now, std::chrono::milliseconds limit);
    /// An I/O step may be under way (resolving, connecting, handshaking, writing, reading).
    bool in_io_step() const noexcept;
    bool expired(time_point now) const noexcept { return timed_out_ || now >= deadline_; }
    io_event facts_of(io_step step, time_point now) const;
    action fail_step(io_step step, time_point now, std::string error, bool eof_like = false,
                     bool refused = false);
    action finish_attempt(attempt_result r, std::string error);
    action connect_next(time_point now);
    action begin_exchange(time_point now);
    action next_read(time_point now);
    action idle_action(time_point now) const;
    action check_peer(bool ask_socket);
    action give_back();
    action closed();

    const client_params& p_;
    const origin& origin_;
    state state_ = state::resolving;
    call_facts call_;
    bool has_call_ = false;
    bool reused_ = false;
    bool close_after_ = false;
    bool long_idle_ = false;  ///< idle for `idle_release_delay` at least
    bool unsolicited_ = false;
    bool receiving_ = false;          ///< the driver's receive is pending
    std::size_t receive_room_ = 0;    ///< the room it was given
    bool drained_ = false;            ///< the last receive was short: it emptied the socket
    bool receive_at_once_ = false;    ///< the pending receive may have been performed as it started
    bool check_asks_socket_ = false;  ///< the check under way peeks at the socket
    std::optional<errc> abort_;
    bool timed_out_ = false;
    time_point deadline_ = time_point::max();
    std::size_t endpoints_ = 0;
    std::size_t next_endpoint_ = 0;
    std::string last_connect_error_;
    connection_facts facts_;
    std::vector<char> rbuf_;
    std::size_t rlen_ = 0;
    http_response resp_;
    response_progress progress_;
    attempt_report report_;
};

std::string_view state_name(connection_fsm::state s) noexcept;

/// How long a connection stays idle before its buffers go back to the heap: in a busy pool a
/// connection gets its next call within microseconds, and buffers released and allocated
/// again per request cost more than keeping them.
inline constexpr std::chrono::milliseconds idle_release_delay{50};

/// The idle spell after which the check at reuse peeks at the socket.
inline constexpr std::chrono::milliseconds reuse_peek_after{1};

}  // namespace catalyst::detail

#endif
