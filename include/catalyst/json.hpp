#ifndef CATALYST_JSON_HPP
#define CATALYST_JSON_HPP

#include <catalyst/export.hpp>
#include <catalyst/field_error.hpp>
#include <catalyst/session.hpp>
#include <catalyst/session_request.hpp>

#include <boost/system/error_code.hpp>

#include <string>
#include <string_view>

namespace catalyst {

/// Appends the JSON body of `req` to `out`, straight from the struct (no DOM), in the
/// contract's field names; unset optionals are left out. Strings are escaped per RFC 8259
/// (UTF-8 passes through). `out` is not cleared: callers reuse one buffer per connection.
CATALYST_DECL void encode(const session_request& req, std::string& out);

/// Convenience: a fresh string with the JSON of `req`.
CATALYST_DECL std::string to_json(const session_request& req);

/// What to do with a field the contract does not know.
enum class unknown_fields { ignore, reject };

/// Reads a create-session body (the batch tool's JSONL lines, the sandbox's requests).
/// Type problems (a number where a string belongs, a bad enum value, malformed JSON) go to
/// `errors` with their field path; the fields that could be read are set in `out`.
/// Returns true when no error was added. Semantic rules are `validate()`'s job.
/// Messages: "must be a string", "must be an integer", "must be an object" (for `lead`),
/// "must be one of ONE_OFF, RECURRING, TRIAL_RECURRING" (each enum lists its values),
/// "unknown field" (with `reject`, for `lead.x` too). A JSON null counts as an absent field.
/// Malformed JSON, or a document that is not an object, gives one error under the field
/// "non_field_errors" ("malformed JSON: <reason>"). Errors come in the contract's field order.
CATALYST_DECL bool decode(std::string_view json, session_request& out, field_errors& errors,
                          unknown_fields policy = unknown_fields::reject);

/// Reads a create-session answer: `session_token`, `status`, `payment_url`; unknown fields
/// are ignored. Does not touch `out.replayed` / `out.reused` (the HTTP layer knows those).
/// Errors: `catalyst::errc::protocol_error` when the body is not JSON, not an object, or a
/// documented field is missing or not a string. On error, `out`'s strings are unspecified.
/// Builds no DOM; does not allocate when `out` has the capacity from an earlier answer.
CATALYST_DECL boost::system::error_code decode(std::string_view json, session& out);

}  // namespace catalyst

#endif
