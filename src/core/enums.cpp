// Wire spellings of the model's enums, and their parsers.
#include <catalyst/diagnostics.hpp>
#include <catalyst/logging.hpp>
#include <catalyst/observer.hpp>
#include <catalyst/session.hpp>
#include <catalyst/session_request.hpp>

#include "core/text.hpp"

#include <array>
#include <cstddef>
#include <utility>

namespace catalyst {
namespace {

template <class E, std::size_t N>
std::optional<E> find_exact(const std::array<std::pair<std::string_view, E>, N>& table,
                            std::string_view s) noexcept {
    for (const auto& [name, value] : table)
        if (name == s) return value;
    return std::nullopt;
}

constexpr std::array<std::pair<std::string_view, billing_type>, 3> billing_types{{
    {"ONE_OFF", billing_type::one_off},
    {"RECURRING", billing_type::recurring},
    {"TRIAL_RECURRING", billing_type::trial_recurring},
}};

constexpr std::array<std::pair<std::string_view, billing_frequency>, 6> billing_frequencies{{
    {"WEEKLY", billing_frequency::weekly},
    {"BIWEEKLY", billing_frequency::biweekly},
    {"MONTHLY", billing_frequency::monthly},
    {"QUARTERLY", billing_frequency::quarterly},
    {"SEMIANNUALLY", billing_frequency::semiannually},
    {"YEARLY", billing_frequency::yearly},
}};

constexpr std::array<std::pair<std::string_view, trial_interval_unit>, 3> trial_units{{
    {"day", trial_interval_unit::day},
    {"week", trial_interval_unit::week},
    {"month", trial_interval_unit::month},
}};

constexpr std::array<std::pair<std::string_view, session_status>, 6> statuses{{
    {"PENDING", session_status::pending},
    {"PAYMENT_IN_PROGRESS", session_status::payment_in_progress},
    {"AWAITING_VERIFICATION", session_status::awaiting_verification},
    {"COMPLETED", session_status::completed},
    {"FAILED", session_status::failed},
    {"EXPIRED", session_status::expired},
}};

template <class E, std::size_t N>
std::string_view name_of(const std::array<std::pair<std::string_view, E>, N>& table,
                         E v) noexcept {
    for (const auto& [name, value] : table)
        if (value == v) return name;
    return {};
}

}  // namespace

std::string_view to_string(billing_type v) noexcept { return name_of(billing_types, v); }
std::string_view to_string(billing_frequency v) noexcept { return name_of(billing_frequencies, v); }
std::string_view to_string(trial_interval_unit v) noexcept { return name_of(trial_units, v); }

std::optional<billing_type> parse_billing_type(std::string_view s) noexcept {
    return find_exact(billing_types, s);
}
std::optional<billing_frequency> parse_billing_frequency(std::string_view s) noexcept {
    return find_exact(billing_frequencies, s);
}
std::optional<trial_interval_unit> parse_trial_interval_unit(std::string_view s) noexcept {
    return find_exact(trial_units, s);
}

std::string_view to_string(session_status s) noexcept {
    if (s == session_status::unknown) return "UNKNOWN";
    return name_of(statuses, s);
}

session_status parse_session_status(std::string_view s) noexcept {
    // As the API spells them (every answer), then in any case.
    for (const auto& [name, value] : statuses)
        if (name == s) return value;
    for (const auto& [name, value] : statuses)
        if (detail::iequals(name, s)) return value;
    return session_status::unknown;
}

std::string_view to_string(log_level l) noexcept {
    switch (l) {
        case log_level::trace: return "trace";
        case log_level::debug: return "debug";
        case log_level::info: return "info";
        case log_level::warning: return "warning";
        case log_level::error: return "error";
    }
    return "unknown";
}

std::optional<log_level> parse_log_level(std::string_view s) noexcept {
    static constexpr std::array<std::pair<std::string_view, log_level>, 5> levels = {{
        {"trace", log_level::trace},
        {"debug", log_level::debug},
        {"info", log_level::info},
        {"warning", log_level::warning},
        {"error", log_level::error},
    }};
    return find_exact(levels, s);
}

std::string_view to_string(connection_use u) noexcept {
    switch (u) {
        case connection_use::none: return "none";
        case connection_use::new_connection: return "new";
        case connection_use::new_resumed: return "new_resumed";
        case connection_use::reused: return "reused";
    }
    return "unknown";
}

std::string_view to_string(rate_decision d) noexcept {
    switch (d) {
        case rate_decision::increase: return "increase";
        case rate_decision::decrease: return "decrease";
        case rate_decision::throttle_ignored: return "throttle_ignored";
        case rate_decision::local_reject: return "local_reject";
    }
    return "unknown";
}

std::string_view to_string(retry_reason r) noexcept {
    switch (r) {
        case retry_reason::none: return "none";
        case retry_reason::rate_limited: return "rate_limited";
        case retry_reason::server_error: return "server_error";
        case retry_reason::connect_failed: return "connect_failed";
        case retry_reason::tls_failed_handshake: return "tls_failed_handshake";
        case retry_reason::stale_connection: return "stale_connection";
        case retry_reason::ambiguous_failure: return "ambiguous_failure";
        case retry_reason::attempt_timeout: return "attempt_timeout";
    }
    return "unknown";
}

}  // namespace catalyst
