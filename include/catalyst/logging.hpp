#ifndef CATALYST_LOGGING_HPP
#define CATALYST_LOGGING_HPP

#include <catalyst/export.hpp>

#include <functional>
#include <optional>
#include <string_view>

namespace catalyst {

enum class log_level { trace, debug, info, warning, error };
CATALYST_DECL std::string_view to_string(log_level l) noexcept;
/// "trace", "debug", "info", "warning" or "error" (as `to_string` spells them); nullopt otherwise.
CATALYST_DECL std::optional<log_level> parse_log_level(std::string_view s) noexcept;

/// A logging hook. catalyst never passes it the API key, an idempotency key or a lead's
/// personal fields. It may be called from any of the client's threads.
using log_function = std::function<void(log_level, std::string_view message)>;

}  // namespace catalyst

#endif
