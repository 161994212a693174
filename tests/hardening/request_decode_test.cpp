// Decoding a create-session body, for inputs the fuzzers found (fuzz/fuzz_request_decode),
// each reduced to its smallest case and run here by the normal and the sanitizer builds.
#include <catalyst/json.hpp>

#include <gtest/gtest.h>

namespace catalyst {
namespace {

// An unknown member with an empty name still gives a field error that names where it is (an
// empty field path would make the batch output print ": unknown field").
TEST(request_decode, empty_unknown_key_names_its_object) {
    session_request req;
    field_errors errors;
    EXPECT_FALSE(decode(R"({"":1,"lead":{"":2}})", req, errors, unknown_fields::reject));
    ASSERT_EQ(errors.size(), 2u);
    for (const auto& e : errors) EXPECT_FALSE(e.field.empty()) << e.message;
    EXPECT_EQ(errors[0].field, "lead");
    EXPECT_EQ(errors[1].field, "non_field_errors");
}

}  // namespace
}  // namespace catalyst
