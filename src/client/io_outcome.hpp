#ifndef CATALYST_SRC_CLIENT_IO_OUTCOME_HPP
#define CATALYST_SRC_CLIENT_IO_OUTCOME_HPP

// How an attempt's I/O ended, as a pure function (no sockets, no clocks): the connection
// gathers the facts of the step that ended the attempt, `classify` names the outcome, and
// `decide` (retry_policy.hpp) turns it into a retry or an errc. The one question that decides
// whether a retry could duplicate a session is answered here: was the request (maybe) seen?

#include "client/retry_policy.hpp"

#include <chrono>
#include <cstddef>

namespace catalyst::detail {

/// The I/O steps of one attempt, in order.
enum class io_step {
    resolve,      ///< DNS
    connect,      ///< TCP connect
    handshake,    ///< TLS handshake
    before_send,  ///< the request was about to be written (nothing on the wire yet)
    write,        ///< writing the request
    read,         ///< reading the answer
};

/// The facts of the step that ended an attempt without a complete answer.
struct io_event {
    io_step step = io_step::read;
    bool aborted = false;            ///< the caller cancelled or the client stops
    bool deadline_passed = false;    ///< the step's deadline (attempt or overall) passed
    bool overall_passed = false;     ///< the call's overall deadline passed
    bool reused = false;             ///< the connection had served a request before
    bool eof_like = false;           ///< EOF, reset, broken pipe or TLS truncation
    bool tls_refused = false;        ///< the server's identity refused (verification_refused, tls_identity.hpp)
    std::size_t answer_bytes = 0;    ///< bytes of the answer read before the end
    bool key_makes_retry_safe = false;  ///< an idempotency key is sent and retries may use it
};

/// The outcome of the attempt:
/// - nothing sent (resolve, connect, handshake, before_send): `connect_failed`,
///   `tls_handshake_failed`, `tls_rejected`, or `overall_timeout` when the call's deadline
///   passed; never a risk of a duplicate.
/// - sent, no answer: `ambiguous`, or `stale_connection` for a reused connection that was
///   closed under us (EOF/reset before any byte of the answer; on a read only with a key);
/// - answer cut short: `answer_cut_short`;
/// - timed out after sending: `attempt_timeout` (whichever deadline passed);
/// - aborted: `cancelled`.
attempt_result classify(const io_event& e) noexcept;

/// The deadline of the next I/O step: the sooner of the step's own limit and the call's
/// overall deadline. Every step of a connection asks this one function.
inline std::chrono::steady_clock::time_point step_deadline(std::chrono::steady_clock::time_point step_limit,
                                                           std::chrono::steady_clock::time_point overall) noexcept {
    return step_limit < overall ? step_limit : overall;
}

}  // namespace catalyst::detail

#endif
