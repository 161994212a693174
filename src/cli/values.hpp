#ifndef CATALYST_CLI_VALUES_HPP
#define CATALYST_CLI_VALUES_HPP

// The value grammar shared by every catalyst tool's command line: booleans, durations with
// units, whole numbers. Each parser returns the value or throws `value_error` with a reason
// that does not name the flag; the command line prefixes the flag (or variable) name.

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string_view>

namespace catalyst::cli {

/// A value refused by one of the parsers below; `what()` is the reason ("expected ...").
class value_error : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

/// 1/0, true/false, yes/no, on/off (as the CATALYST_* variables); anything else is refused.
bool parse_bool(std::string_view text);

/// "500ms", "30s", "2m", "24h", "7d", "1.5s", "250us", or a plain number counted in `plain_unit` (the
/// flag's historic unit: --deadline-ms counts milliseconds, --duration seconds). Refuses
/// negative, non-finite, unknown units, and values beyond about 290 years. A `plain_unit` of
/// zero: the flag has no historic unit, and a plain number is refused.
std::chrono::nanoseconds parse_duration(std::string_view text, std::chrono::nanoseconds plain_unit);

/// A whole number in [min, max].
std::uint64_t parse_whole(std::string_view text, std::uint64_t min, std::uint64_t max);

/// A finite decimal number in [min, max] ("2.5", "1e3").
double parse_number(std::string_view text, double min, double max);

}  // namespace catalyst::cli

#endif
