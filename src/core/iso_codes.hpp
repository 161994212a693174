// The embedded code lists behind rules::is_country_code and rules::is_currency_code.
#ifndef CATALYST_SRC_CORE_ISO_CODES_HPP
#define CATALYST_SRC_CORE_ISO_CODES_HPP

#include <span>
#include <string_view>

namespace catalyst::detail {

/// ISO 3166-1 alpha-2, officially assigned codes (249), sorted.
std::span<const std::string_view> iso3166_alpha2() noexcept;
/// ISO 4217 list one, active alphabetic codes (funds and metals included, XTS and XXX not), sorted.
std::span<const std::string_view> iso4217_active() noexcept;

}  // namespace catalyst::detail

#endif
