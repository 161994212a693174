#ifndef CATALYST_FIELD_ERROR_HPP
#define CATALYST_FIELD_ERROR_HPP

#include <string>
#include <vector>

namespace catalyst {

/// One problem with one field of a request.
/// `field` is a dotted path from the request's root: "amount", "lead.email",
/// or "non_field_errors" for a problem that belongs to no single field.
struct field_error {
    std::string field;
    std::string message;

    friend bool operator==(const field_error&, const field_error&) = default;
};

using field_errors = std::vector<field_error>;

}  // namespace catalyst

#endif
