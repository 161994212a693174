#include <catalyst/error.hpp>

#include <boost/system/errc.hpp>

#include <string>

namespace catalyst {
namespace {

class category final : public boost::system::error_category {
public:
    // A fixed id keeps codes comparable across shared-library boundaries.
    constexpr category() noexcept : error_category(0xca7a1'9575'0001ULL) {}
    const char* name() const noexcept override { return "catalyst"; }
    std::string message(int ev) const override {
        return std::string(to_string(static_cast<errc>(ev)));
    }
    boost::system::error_condition default_error_condition(int ev) const noexcept override {
        namespace gen = boost::system::errc;
        switch (static_cast<errc>(ev)) {
            case errc::timeout: return gen::make_error_condition(gen::timed_out);
            case errc::cancelled: return gen::make_error_condition(gen::operation_canceled);
            case errc::connect_failed: return gen::make_error_condition(gen::connection_refused);
            case errc::unauthorized:
            case errc::forbidden: return gen::make_error_condition(gen::permission_denied);
            case errc::validation_failed:
            case errc::invalid_config: return gen::make_error_condition(gen::invalid_argument);
            case errc::payload_too_large: return gen::make_error_condition(gen::message_size);
            case errc::protocol_error: return gen::make_error_condition(gen::protocol_error);
            case errc::queue_full: return gen::make_error_condition(gen::resource_unavailable_try_again);
            case errc::unsupported_media_type: return gen::make_error_condition(gen::not_supported);
            default: return {ev, *this};
        }
    }
};

}  // namespace

std::string_view to_string(errc e) noexcept {
    switch (e) {
        case errc::validation_failed: return "validation_failed";
        case errc::unauthorized: return "unauthorized";
        case errc::forbidden: return "forbidden";
        case errc::not_found: return "not_found";
        case errc::duplicate_lead: return "duplicate_lead";
        case errc::idempotency_conflict: return "idempotency_conflict";
        case errc::payload_too_large: return "payload_too_large";
        case errc::unsupported_media_type: return "unsupported_media_type";
        case errc::rate_limited: return "rate_limited";
        case errc::server_error: return "server_error";
        case errc::unexpected_status: return "unexpected_status";
        case errc::timeout: return "timeout";
        case errc::connect_failed: return "connect_failed";
        case errc::tls_failed: return "tls_failed";
        case errc::protocol_error: return "protocol_error";
        case errc::outcome_unknown: return "outcome_unknown";
        case errc::cancelled: return "cancelled";
        case errc::queue_full: return "queue_full";
        case errc::shutting_down: return "shutting_down";
        case errc::invalid_config: return "invalid_config";
    }
    return "unknown_error";
}

const boost::system::error_category& catalyst_category() noexcept {
    static constexpr category instance;
    return instance;
}

bool is_transient(errc e) noexcept {
    return e == errc::rate_limited || e == errc::server_error || e == errc::timeout ||
           e == errc::connect_failed;
}

}  // namespace catalyst
