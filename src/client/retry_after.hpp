#ifndef CATALYST_SRC_CLIENT_RETRY_AFTER_HPP
#define CATALYST_SRC_CLIENT_RETRY_AFTER_HPP

#include <chrono>
#include <optional>
#include <string_view>

namespace catalyst::detail {

/// Parses an HTTP `Retry-After` value (RFC 9110 §10.2.3): delta-seconds, or an HTTP-date in
/// any of the three formats (IMF-fixdate, RFC 850, asctime), read against `now`.
/// A date in the past yields 0. Returns nullopt for anything unparsable. The result is not
/// capped here: the retry decision compares it with `retry_params::max_retry_after`.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now);

/// Seconds since the epoch of an HTTP-date, nullopt when it is not one.
std::optional<long long> parse_http_date(std::string_view value);

}  // namespace catalyst::detail

#endif
