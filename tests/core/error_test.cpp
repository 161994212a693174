#include <catalyst/error.hpp>

#include <gtest/gtest.h>

#include <system_error>

namespace {

TEST(errc, codes_carry_our_category_and_stable_names) {
    boost::system::error_code ec = catalyst::errc::duplicate_lead;
    EXPECT_EQ(&ec.category(), &catalyst::catalyst_category());
    EXPECT_STREQ(ec.category().name(), "catalyst");
    EXPECT_EQ(ec.message(), "duplicate_lead");
}

TEST(errc, maps_to_generic_conditions_where_one_fits) {
    boost::system::error_code timeout = catalyst::errc::timeout;
    EXPECT_TRUE(timeout == boost::system::errc::timed_out);
    boost::system::error_code cancelled = catalyst::errc::cancelled;
    EXPECT_TRUE(cancelled == boost::system::errc::operation_canceled);
    boost::system::error_code dup = catalyst::errc::duplicate_lead;
    EXPECT_FALSE(dup == boost::system::errc::timed_out);
}

TEST(errc, every_code_has_a_name) {
    for (int i = 1; i <= static_cast<int>(catalyst::errc::invalid_config); ++i)
        EXPECT_NE(catalyst::to_string(static_cast<catalyst::errc>(i)), "unknown_error") << i;
}

}  // namespace
