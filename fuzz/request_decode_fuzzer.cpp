// decode(json, session_request&, errors, policy) + validate(): what the batch tool does with
// each JSONL line and the sandbox with each request body.
//
// Properties: a decoded request encodes back to JSON that decodes to the same request (no
// field lost or altered by escaping), and the error messages name fields, never the values
// (a lead's email must not appear in a message).
#include "fuzz_common.hpp"

#include <catalyst/json.hpp>
#include <catalyst/validation.hpp>

#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace catalyst;
    if (size == 0) return 0;
    auto policy = (data[0] & 1) ? unknown_fields::reject : unknown_fields::ignore;
    std::string_view json(reinterpret_cast<const char*>(data) + 1, size - 1);

    session_request req;
    field_errors errors;
    bool ok = decode(json, req, errors, policy);
    FUZZ_CHECK(ok == errors.empty());
    for (const auto& e : errors) FUZZ_CHECK(!e.field.empty() && !e.message.empty());

    field_errors problems = validate(req);
    for (const auto& e : problems) {
        FUZZ_CHECK(!e.field.empty() && !e.message.empty());
        // An address (with its '@'); a shorter value may be a word of the fixed message.
        if (req.lead.email.size() >= 6 && req.lead.email.find('@') != std::string::npos)
            FUZZ_CHECK(e.message.find(req.lead.email) == std::string::npos);
    }

    if (ok) {
        std::string again = to_json(req);
        session_request back;
        field_errors back_errors;
        FUZZ_CHECK(decode(again, back, back_errors, unknown_fields::reject));
        FUZZ_CHECK(back == req);
        FUZZ_CHECK(validate(back) == problems);
    }
    return 0;
}
