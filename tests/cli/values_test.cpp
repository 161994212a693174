#include "cli/values.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace std::chrono_literals;
using catalyst::cli::parse_bool;
using catalyst::cli::parse_duration;
using catalyst::cli::parse_number;
using catalyst::cli::parse_whole;
using catalyst::cli::value_error;

TEST(cli_values, durations_with_units) {
    EXPECT_EQ(parse_duration("500ms", 1s), 500ms);
    EXPECT_EQ(parse_duration("30s", 1ms), 30s);
    EXPECT_EQ(parse_duration("2m", 1ms), 2min);
    EXPECT_EQ(parse_duration("24h", 1ms), 24h);
    EXPECT_EQ(parse_duration("7d", 1ms), 168h);
    EXPECT_EQ(parse_duration("1.5s", 1ms), 1500ms);
    EXPECT_EQ(parse_duration("250us", 1s), 250us);
    EXPECT_EQ(parse_duration("0s", 1s), 0s);
}

TEST(cli_values, a_plain_number_keeps_the_flags_historic_unit) {
    EXPECT_EQ(parse_duration("30", 1ms), 30ms);  // --deadline-ms 30
    EXPECT_EQ(parse_duration("30", 1s), 30s);    // --duration 30
    EXPECT_EQ(parse_duration("2.5", 1s), 2500ms);
    EXPECT_THROW(parse_duration("24", 0s), value_error);  // a new flag: the unit is required
    EXPECT_EQ(parse_duration("24h", 0s), 24h);
}

TEST(cli_values, bad_durations_are_refused_with_the_value) {
    for (const char* bad : {"", "-1s", "5x", "s", "ms", "1e400s", "nan", "inf", "1.5.2s", " 5s", "+5s", "5 s", "5sec",
                            "9999999999h"}) {
        try {
            parse_duration(bad, 1s);
            ADD_FAILURE() << "accepted '" << bad << "'";
        } catch (const value_error& e) {
            EXPECT_NE(std::string(e.what()).find("'" + std::string(bad) + "'"), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("30s"), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("plain number counts seconds"), std::string::npos) << e.what();
        }
    }
}

TEST(cli_values, booleans_take_six_spellings_and_refuse_the_rest) {
    for (const char* t : {"1", "true", "yes", "on"}) EXPECT_TRUE(parse_bool(t)) << t;
    for (const char* f : {"0", "false", "no", "off"}) EXPECT_FALSE(parse_bool(f)) << f;
    for (const char* bad : {"", "maybe", "2", "tru", "falsey"}) EXPECT_THROW(parse_bool(bad), value_error) << bad;
    try {
        parse_bool("maybe");
    } catch (const value_error& e) {
        EXPECT_NE(std::string(e.what()).find("'maybe'"), std::string::npos);
    }
}

TEST(cli_values, whole_numbers_in_range) {
    EXPECT_EQ(parse_whole("64", 1, 100), 64u);
    EXPECT_EQ(parse_whole("1", 1, 100), 1u);
    for (const char* bad : {"0", "101", "-3", "", "4x", "1.5", "99999999999999999999999"})
        EXPECT_THROW(parse_whole(bad, 1, 100), value_error) << bad;
    EXPECT_DOUBLE_EQ(parse_number("2.5", 0, 10), 2.5);
    EXPECT_THROW(parse_number("11", 0, 10), value_error);
    EXPECT_THROW(parse_number("nan", 0, 10), value_error);
}
