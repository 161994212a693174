#ifndef CATALYST_SESSION_REQUEST_HPP
#define CATALYST_SESSION_REQUEST_HPP

#include <catalyst/lead.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace catalyst {

/// `billing_type`: required in direct mode.
enum class billing_type { one_off, recurring, trial_recurring };
/// `billing_frequency`: optional.
enum class billing_frequency { weekly, biweekly, monthly, quarterly, semiannually, yearly };
/// `trial_interval_unit`: optional, lower case on the wire.
enum class trial_interval_unit { day, week, month };

/// Wire spelling of each enum value (`"ONE_OFF"`, `"MONTHLY"`, `"day"`).
std::string_view to_string(billing_type v) noexcept;
std::string_view to_string(billing_frequency v) noexcept;
std::string_view to_string(trial_interval_unit v) noexcept;
/// Parses the exact wire spelling; std::nullopt for anything else.
std::optional<billing_type> parse_billing_type(std::string_view s) noexcept;
std::optional<billing_frequency> parse_billing_frequency(std::string_view s) noexcept;
std::optional<trial_interval_unit> parse_trial_interval_unit(std::string_view s) noexcept;

/// The body of `POST /api/v1/payment-sessions/`.
///
/// Two modes (see `docs/api.md`):
/// - campaign mode: `campaign_id` is set; the pricing fields are optional overrides;
/// - direct mode: no `campaign_id`; `gateway_id`, `amount`, `currency`, `billing_type` required.
///
/// Every optional field is left out of the JSON when unset. Money is a decimal string with at
/// most 8 integer and 2 fraction digits ("29.99"). UUIDs are lower-case and hyphenated.
/// Nothing is checked on assignment: call `validate()` (the client always does).
struct session_request {
    std::optional<std::string> campaign_id;
    catalyst::lead lead;
    std::optional<std::string> customer_ip;  ///< IPv4 or IPv6 literal
    std::optional<std::string> amount;       ///< decimal(10,2) as a string
    std::optional<std::string> currency;     ///< ISO 4217, "EUR"
    std::optional<catalyst::billing_type> billing_type;
    std::optional<catalyst::billing_frequency> billing_frequency;
    std::optional<catalyst::trial_interval_unit> trial_interval_unit;
    std::optional<long long> trial_period;  ///< >= 1
    std::optional<std::string> trial_price;  ///< decimal(10,2) as a string
    std::optional<std::string> gateway_id;
    std::optional<long long> max_payment_attempts;  ///< 1..10
    std::optional<std::string> webhook_profile_id;
    std::optional<std::string> hosted_page_id;

    /// True when `campaign_id` is set (campaign mode), false in direct mode.
    bool campaign_mode() const noexcept { return campaign_id.has_value(); }

    friend bool operator==(const session_request&, const session_request&) = default;
};

}  // namespace catalyst

#endif
