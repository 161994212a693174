#ifndef CATALYST_BATCH_TIMESTAMP_HPP
#define CATALYST_BATCH_TIMESTAMP_HPP

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace catalyst::batch {

/// Wall-clock milliseconds since the Unix epoch (the records' times: they must mean the same
/// thing to another run, days later, on another machine).
std::int64_t now_ms();

/// "2026-11-30T12:34:56.789Z" (UTC, milliseconds).
std::string format_utc(std::int64_t ms);

/// The inverse of `format_utc`, strictly that form; std::nullopt otherwise.
std::optional<std::int64_t> parse_utc(std::string_view s);

/// "36h", "15m", "2d 3h" style: the largest whole units, for messages about ages.
std::string format_duration(std::int64_t ms);

}  // namespace catalyst::batch

#endif
