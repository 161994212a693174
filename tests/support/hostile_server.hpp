#ifndef CATALYST_TESTS_SUPPORT_HOSTILE_SERVER_HPP
#define CATALYST_TESTS_SUPPORT_HOSTILE_SERVER_HPP

// A hostile HTTPS server for client tests: it listens on 127.0.0.1 (an ephemeral port) with a
// development certificate, reads HTTP/1.1 requests the way the API would, and then does what
// the test asks, per connection and per request: answer properly, answer with an error status,
// refuse the TLS handshake with a fatal alert, stall in the TLS handshake, after the request, in the middle of the head or of the body,
// trickle bytes forever, reset, cut the body short, or close idle keep-alive connections
// silently. It never closes a stalled connection itself (the client must give up first).
//
// A ledger records every request it read completely (when, with which Idempotency-Key), so a
// test can count duplicates and check that nothing was written after a call's deadline.
//
// It runs on its own thread(s) with its own io_context; `stop()` (also run by the destructor)
// closes everything and joins within a bounded time.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace catalyst::test {

/// What the server does once it has read a request completely (or, for `stall_handshake` and
/// `alert_handshake`, instead of the TLS handshake).
enum class hostile_action {
    answer,               ///< 201 with a session body (per the contract), connection kept alive
    status,               ///< `hostile_reply::status` with a small JSON error body, kept alive
    stall_handshake,      ///< never answer the ClientHello (only from `hostile_options::on_connect`)
    /// Answer the ClientHello with a fatal internal_error alert and close, as a server that
    /// fails for a moment does (only from `hostile_options::on_connect`).
    alert_handshake,
    stall_after_request,  ///< read the request, never answer
    stall_partial_head,   ///< send the status line and half a header, then nothing
    stall_in_body,        ///< send the whole head and half the body, then nothing
    trickle,              ///< send an endless head one byte every `trickle_interval`, never finishing
    reset_after_request,  ///< read the request, then reset the connection (TCP RST)
    eof_mid_body,         ///< send the head and half the body, then close the connection
    /// Answer, and right behind it, in the same write, a second 201 nobody asked for (its
    /// token starts with `ps_unsolicited`): a proxy or API bug. Connection kept alive.
    answer_then_extra,
    /// The same, the extra answer in a TLS record of its own (the answer is padded to 512
    /// bytes, the smallest record size OpenSSL allows, and records are cut at 512 for this
    /// write), still one write: the extra record sits behind the answer's inside the client's
    /// TLS layer.
    answer_then_extra_record,
    /// Answer, then `hostile_options::extra_delay` later (the client's connection idle by
    /// then) the unsolicited answer; `extras_sent()` counts them once the client has
    /// acknowledged their bytes (they are in its socket).
    answer_then_late_extra,
};

struct hostile_reply {
    hostile_action action = hostile_action::answer;
    unsigned status = 201;    ///< for `status` (500, 502, 503, 504, 429, ...)
    std::string retry_after;  ///< `Retry-After` value sent with `status`; "" = none
};

/// One request read by the server.
struct hostile_request {
    std::chrono::steady_clock::time_point read_at;  ///< when its last byte was read
    std::string idempotency_key;                    ///< "" when the request had none
    std::string head;                               ///< the request line and headers, as read
    std::size_t connection = 0;                     ///< accept order, from 0
    std::size_t index_on_connection = 0;            ///< 0 for the first request on it
    std::size_t seq = 0;                            ///< order among all requests, from 0
};

struct hostile_options {
    /// Called (on a server thread) for every request read; empty: always `answer`.
    std::function<hostile_reply(const hostile_request&)> on_request;
    /// Called with the accept index of each new connection: `stall_handshake` or
    /// `alert_handshake` instead of the TLS handshake; anything else (or empty): a handshake.
    std::function<hostile_action(std::size_t connection)> on_connect;
    std::chrono::milliseconds trickle_interval{10};
    /// Close a connection on which no request byte arrived for this long (no `Connection:
    /// close`, no TLS close_notify: a FIN, as a server's keep-alive timeout does). 0 = never.
    std::chrono::milliseconds idle_close{0};
    /// After each answer, wait this long and send a TLS 1.3 session ticket (a record with no
    /// data, as servers send after a handshake or a resumption). 0 = never.
    std::chrono::milliseconds ticket_after_answer{0};
    /// Session tickets after each handshake (OpenSSL's default, two); false: none, as a
    /// server without session resumption.
    bool handshake_tickets = true;
    /// Sent as `Keep-Alive: <value>` on answers (e.g. "timeout=1"); "" = no such header.
    std::string keep_alive_header;
    /// For `answer_then_late_extra`: how long after the answer the extra one comes.
    std::chrono::milliseconds extra_delay{20};
    /// Keep the ledger (a long memory test turns it off so that it does not grow).
    bool keep_ledger = true;
    unsigned threads = 1;
};

class hostile_server {
public:
    explicit hostile_server(hostile_options o = {});
    ~hostile_server();
    hostile_server(const hostile_server&) = delete;
    hostile_server& operator=(const hostile_server&) = delete;

    unsigned short port() const noexcept;
    /// "https://127.0.0.1:<port>/api/v1"
    std::string base_url() const;
    /// The CA that signed the server's certificate (trust it in `tls_params::ca_pem`).
    const std::string& ca_pem() const noexcept;

    /// Replaces the per-request behaviour (thread-safe; applies to requests read from now on).
    void set_on_request(std::function<hostile_reply(const hostile_request&)> fn);

    /// Every request read so far, in order.
    std::vector<hostile_request> ledger() const;
    std::size_t requests() const noexcept;          ///< counted even when the ledger is off
    std::size_t connections_accepted() const noexcept;
    std::size_t connections_open() const noexcept;
    /// Unsolicited answers written so far (the `answer_then_*extra*` actions).
    std::size_t extras_sent() const noexcept;

    /// Closes the listener and every connection and joins the threads. Bounded (a few
    /// seconds at most); idempotent.
    void stop();

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace catalyst::test

#endif
