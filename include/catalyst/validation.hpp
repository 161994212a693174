#ifndef CATALYST_VALIDATION_HPP
#define CATALYST_VALIDATION_HPP

#include <catalyst/export.hpp>
#include <catalyst/field_error.hpp>
#include <catalyst/session_request.hpp>

#include <string_view>

namespace catalyst {

/// Checks a request against every rule of the contract and returns every problem at once
/// (empty when the request is valid), each with its field path and a reason:
/// required fields per mode, UUIDs (lower-case, hyphenated), the IP literal, ISO 3166-1
/// country and ISO 4217 currency, decimal(10,2) strings, ranges, lengths (255 characters,
/// counted as Unicode code points; invalid UTF-8 is an error), a plausible email.
///
/// Messages are Django REST framework's wording (the sandbox returns them in its 400 bodies):
/// "This field is required.", "Ensure this field has no more than 255 characters.",
/// "Enter a valid email address.", "Must be a valid UUID.", "Enter a valid IPv4 or IPv6
/// address.", "A valid number is required.", "Ensure this value is greater than or equal to 1."...
/// One error per field at most, in the contract's field order; no message quotes the value.
///
/// Pure function, thread-safe. The client and the batch tool call it before anything
/// reaches the wire.
CATALYST_DECL field_errors validate(const session_request& req);

/// The single rules, for callers (the sandbox, the batch tool) that check raw values.
namespace rules {
CATALYST_DECL bool is_uuid(std::string_view s) noexcept;           ///< lower-case, hyphenated 8-4-4-4-12
CATALYST_DECL bool is_ip_literal(std::string_view s) noexcept;     ///< IPv4 dotted quad or IPv6 literal
CATALYST_DECL bool is_country_code(std::string_view s) noexcept;   ///< assigned ISO 3166-1 alpha-2
CATALYST_DECL bool is_currency_code(std::string_view s) noexcept;  ///< ISO 4217 active code
CATALYST_DECL bool is_decimal_10_2(std::string_view s) noexcept;   ///< >= 0, <= 8 integer + 2 fraction digits
CATALYST_DECL bool is_plausible_email(std::string_view s) noexcept;
}  // namespace rules

}  // namespace catalyst

#endif
