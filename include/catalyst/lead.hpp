#ifndef CATALYST_LEAD_HPP
#define CATALYST_LEAD_HPP

#include <optional>
#include <string>

namespace catalyst {

/// The customer a payment session is created for (the `lead` object of the API).
///
/// Required by the contract: `first_name` (doc), `last_name`, `email`, `country` (ours).
/// Every string is at most 255 characters; `country` is ISO 3166-1 alpha-2, upper case.
/// The optional fields are absent from the JSON when empty optionals, never sent as null.
///
/// Personal data: none of these fields is ever written to a log by catalyst.
struct lead {
    std::string first_name;
    std::string last_name;
    std::string email;
    std::string country;
    std::optional<std::string> address;
    std::optional<std::string> city;
    std::optional<std::string> postal_code;  ///< always a string, never a number
    std::optional<std::string> phone;

    friend bool operator==(const lead&, const lead&) = default;
};

}  // namespace catalyst

#endif
