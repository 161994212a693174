// The code lists, as published by ISO (3166-1 maintenance agency; 4217 list one, 2025).
// Both are kept sorted so that a lookup is a binary search over a constant table.
#include "core/iso_codes.hpp"

#include <array>

namespace catalyst::detail {
namespace {

using namespace std::string_view_literals;

constexpr std::array countries{
    "AD"sv, "AE"sv, "AF"sv, "AG"sv, "AI"sv, "AL"sv, "AM"sv, "AO"sv, "AQ"sv, "AR"sv, "AS"sv, "AT"sv,
    "AU"sv, "AW"sv, "AX"sv, "AZ"sv, "BA"sv, "BB"sv, "BD"sv, "BE"sv, "BF"sv, "BG"sv, "BH"sv, "BI"sv,
    "BJ"sv, "BL"sv, "BM"sv, "BN"sv, "BO"sv, "BQ"sv, "BR"sv, "BS"sv, "BT"sv, "BV"sv, "BW"sv, "BY"sv,
    "BZ"sv, "CA"sv, "CC"sv, "CD"sv, "CF"sv, "CG"sv, "CH"sv, "CI"sv, "CK"sv, "CL"sv, "CM"sv, "CN"sv,
    "CO"sv, "CR"sv, "CU"sv, "CV"sv, "CW"sv, "CX"sv, "CY"sv, "CZ"sv, "DE"sv, "DJ"sv, "DK"sv, "DM"sv,
    "DO"sv, "DZ"sv, "EC"sv, "EE"sv, "EG"sv, "EH"sv, "ER"sv, "ES"sv, "ET"sv, "FI"sv, "FJ"sv, "FK"sv,
    "FM"sv, "FO"sv, "FR"sv, "GA"sv, "GB"sv, "GD"sv, "GE"sv, "GF"sv, "GG"sv, "GH"sv, "GI"sv, "GL"sv,
    "GM"sv, "GN"sv, "GP"sv, "GQ"sv, "GR"sv, "GS"sv, "GT"sv, "GU"sv, "GW"sv, "GY"sv, "HK"sv, "HM"sv,
    "HN"sv, "HR"sv, "HT"sv, "HU"sv, "ID"sv, "IE"sv, "IL"sv, "IM"sv, "IN"sv, "IO"sv, "IQ"sv, "IR"sv,
    "IS"sv, "IT"sv, "JE"sv, "JM"sv, "JO"sv, "JP"sv, "KE"sv, "KG"sv, "KH"sv, "KI"sv, "KM"sv, "KN"sv,
    "KP"sv, "KR"sv, "KW"sv, "KY"sv, "KZ"sv, "LA"sv, "LB"sv, "LC"sv, "LI"sv, "LK"sv, "LR"sv, "LS"sv,
    "LT"sv, "LU"sv, "LV"sv, "LY"sv, "MA"sv, "MC"sv, "MD"sv, "ME"sv, "MF"sv, "MG"sv, "MH"sv, "MK"sv,
    "ML"sv, "MM"sv, "MN"sv, "MO"sv, "MP"sv, "MQ"sv, "MR"sv, "MS"sv, "MT"sv, "MU"sv, "MV"sv, "MW"sv,
    "MX"sv, "MY"sv, "MZ"sv, "NA"sv, "NC"sv, "NE"sv, "NF"sv, "NG"sv, "NI"sv, "NL"sv, "NO"sv, "NP"sv,
    "NR"sv, "NU"sv, "NZ"sv, "OM"sv, "PA"sv, "PE"sv, "PF"sv, "PG"sv, "PH"sv, "PK"sv, "PL"sv, "PM"sv,
    "PN"sv, "PR"sv, "PS"sv, "PT"sv, "PW"sv, "PY"sv, "QA"sv, "RE"sv, "RO"sv, "RS"sv, "RU"sv, "RW"sv,
    "SA"sv, "SB"sv, "SC"sv, "SD"sv, "SE"sv, "SG"sv, "SH"sv, "SI"sv, "SJ"sv, "SK"sv, "SL"sv, "SM"sv,
    "SN"sv, "SO"sv, "SR"sv, "SS"sv, "ST"sv, "SV"sv, "SX"sv, "SY"sv, "SZ"sv, "TC"sv, "TD"sv, "TF"sv,
    "TG"sv, "TH"sv, "TJ"sv, "TK"sv, "TL"sv, "TM"sv, "TN"sv, "TO"sv, "TR"sv, "TT"sv, "TV"sv, "TW"sv,
    "TZ"sv, "UA"sv, "UG"sv, "UM"sv, "US"sv, "UY"sv, "UZ"sv, "VA"sv, "VC"sv, "VE"sv, "VG"sv, "VI"sv,
    "VN"sv, "VU"sv, "WF"sv, "WS"sv, "YE"sv, "YT"sv, "ZA"sv, "ZM"sv, "ZW"sv,
};
static_assert(countries.size() == 249);

// Withdrawn codes (HRK, SLL, ZWL, CUC, VEF, ...) are not accepted: a new session cannot be
// priced in them. ANG stays until its withdrawal date; XCG, its successor, is in.
constexpr std::array currencies{
    "AED"sv, "AFN"sv, "ALL"sv, "AMD"sv, "ANG"sv, "AOA"sv, "ARS"sv, "AUD"sv, "AWG"sv, "AZN"sv,
    "BAM"sv, "BBD"sv, "BDT"sv, "BGN"sv, "BHD"sv, "BIF"sv, "BMD"sv, "BND"sv, "BOB"sv, "BOV"sv,
    "BRL"sv, "BSD"sv, "BTN"sv, "BWP"sv, "BYN"sv, "BZD"sv, "CAD"sv, "CDF"sv, "CHE"sv, "CHF"sv,
    "CHW"sv, "CLF"sv, "CLP"sv, "CNY"sv, "COP"sv, "COU"sv, "CRC"sv, "CUP"sv, "CVE"sv, "CZK"sv,
    "DJF"sv, "DKK"sv, "DOP"sv, "DZD"sv, "EGP"sv, "ERN"sv, "ETB"sv, "EUR"sv, "FJD"sv, "FKP"sv,
    "GBP"sv, "GEL"sv, "GHS"sv, "GIP"sv, "GMD"sv, "GNF"sv, "GTQ"sv, "GYD"sv, "HKD"sv, "HNL"sv,
    "HTG"sv, "HUF"sv, "IDR"sv, "ILS"sv, "INR"sv, "IQD"sv, "IRR"sv, "ISK"sv, "JMD"sv, "JOD"sv,
    "JPY"sv, "KES"sv, "KGS"sv, "KHR"sv, "KMF"sv, "KPW"sv, "KRW"sv, "KWD"sv, "KYD"sv, "KZT"sv,
    "LAK"sv, "LBP"sv, "LKR"sv, "LRD"sv, "LSL"sv, "LYD"sv, "MAD"sv, "MDL"sv, "MGA"sv, "MKD"sv,
    "MMK"sv, "MNT"sv, "MOP"sv, "MRU"sv, "MUR"sv, "MVR"sv, "MWK"sv, "MXN"sv, "MXV"sv, "MYR"sv,
    "MZN"sv, "NAD"sv, "NGN"sv, "NIO"sv, "NOK"sv, "NPR"sv, "NZD"sv, "OMR"sv, "PAB"sv, "PEN"sv,
    "PGK"sv, "PHP"sv, "PKR"sv, "PLN"sv, "PYG"sv, "QAR"sv, "RON"sv, "RSD"sv, "RUB"sv, "RWF"sv,
    "SAR"sv, "SBD"sv, "SCR"sv, "SDG"sv, "SEK"sv, "SGD"sv, "SHP"sv, "SLE"sv, "SOS"sv, "SRD"sv,
    "SSP"sv, "STN"sv, "SVC"sv, "SYP"sv, "SZL"sv, "THB"sv, "TJS"sv, "TMT"sv, "TND"sv, "TOP"sv,
    "TRY"sv, "TTD"sv, "TWD"sv, "TZS"sv, "UAH"sv, "UGX"sv, "USD"sv, "USN"sv, "UYI"sv, "UYU"sv,
    "UYW"sv, "UZS"sv, "VED"sv, "VES"sv, "VND"sv, "VUV"sv, "WST"sv, "XAF"sv, "XAG"sv, "XAU"sv,
    "XBA"sv, "XBB"sv, "XBC"sv, "XBD"sv, "XCD"sv, "XCG"sv, "XDR"sv, "XOF"sv, "XPD"sv, "XPF"sv,
    "XPT"sv, "XSU"sv, "XUA"sv, "YER"sv, "ZAR"sv, "ZMW"sv, "ZWG"sv,
};

constexpr bool sorted(auto const& a) {
    for (std::size_t i = 1; i < a.size(); ++i)
        if (!(a[i - 1] < a[i])) return false;
    return true;
}
static_assert(sorted(countries));
static_assert(sorted(currencies));

}  // namespace

std::span<const std::string_view> iso3166_alpha2() noexcept { return countries; }
std::span<const std::string_view> iso4217_active() noexcept { return currencies; }

}  // namespace catalyst::detail
