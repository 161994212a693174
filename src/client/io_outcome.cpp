#include "client/io_outcome.hpp"

namespace catalyst::detail {

attempt_result classify(const io_event& e) noexcept {
    if (e.aborted) return attempt_result::cancelled;
    switch (e.step) {
    case io_step::resolve:
    case io_step::connect:
        return e.overall_passed ? attempt_result::overall_timeout : attempt_result::connect_failed;
    case io_step::handshake:
        if (e.overall_passed) return attempt_result::overall_timeout;
        if (e.deadline_passed) return attempt_result::tls_handshake_failed;
        return e.tls_refused ? attempt_result::tls_rejected : attempt_result::tls_handshake_failed;
    case io_step::before_send:
        return attempt_result::overall_timeout;
    case io_step::write:
        // The request did not fully leave: the server cannot have a complete request, but
        // a partial TLS record may be on the wire. A closed reused connection is the common
        // case (the server dropped it while idle): resent at once.
        if (e.deadline_passed) return attempt_result::attempt_timeout;
        if (e.reused && e.eof_like) return attempt_result::stale_connection;
        return attempt_result::ambiguous;
    case io_step::read:
        if (e.deadline_passed) return attempt_result::attempt_timeout;
        if (e.answer_bytes > 0) return attempt_result::answer_cut_short;
        // EOF before any byte on a reused connection is what a server closing an idle
        // connection looks like; it may also be a crash after processing, so it is resent
        // only when a key makes that safe.
        if (e.reused && e.eof_like && e.key_makes_retry_safe) return attempt_result::stale_connection;
        return attempt_result::ambiguous;
    }
    return attempt_result::ambiguous;
}

}  // namespace catalyst::detail
