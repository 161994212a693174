#ifndef CATALYST_SESSION_HPP
#define CATALYST_SESSION_HPP

#include <catalyst/export.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace catalyst {

/// A payment session's status. The API spells them in upper case; they compare
/// case-insensitively. `unknown` keeps the client working when the API adds one.
enum class session_status {
    unknown,
    pending,
    payment_in_progress,
    awaiting_verification,
    completed,
    failed,
    expired,
};

/// Upper-case wire spelling ("PENDING"); "UNKNOWN" for `unknown`.
CATALYST_DECL std::string_view to_string(session_status s) noexcept;
/// Case-insensitive; `session_status::unknown` for anything not in the contract.
CATALYST_DECL session_status parse_session_status(std::string_view s) noexcept;

/// A created (or replayed, or reused) payment session.
struct session {
    std::string token;        ///< `session_token`, starts with "ps_"
    session_status status = session_status::unknown;
    std::string status_text;  ///< the status exactly as the API spelled it
    std::string payment_url;
    /// The server answered from its idempotency record: this logical request had already
    /// created the session (a retry, or a rerun of the batch tool). Header `Idempotent-Replayed: true`.
    bool replayed = false;
    /// The campaign's duplicate policy returned an existing session for this lead (HTTP 200
    /// instead of 201).
    bool reused = false;

    friend bool operator==(const session&, const session&) = default;
};

}  // namespace catalyst

#endif
