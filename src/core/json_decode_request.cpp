// decode(json, session_request&, errors, policy): the batch tool's JSONL lines and the
// sandbox's request bodies. Errors carry field paths; every field is looked at, so one pass
// reports every type problem at once. The DOM lives in a stack buffer (a monotonic resource):
// a typical body never touches the heap for it.
#include <catalyst/diagnostics.hpp>
#include <catalyst/json.hpp>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <limits>

namespace catalyst {
namespace {

namespace json = boost::json;

constexpr std::array<std::string_view, 14> request_fields{
    "campaign_id",  "lead",          "customer_ip",       "amount",
    "currency",     "billing_type",  "billing_frequency", "trial_interval_unit",
    "trial_period", "trial_price",   "gateway_id",        "max_payment_attempts",
    "webhook_profile_id", "hosted_page_id",
};
constexpr std::array<std::string_view, 8> lead_fields{
    "first_name", "last_name", "email", "country", "address", "city", "postal_code", "phone",
};

template <std::size_t N>
bool known(const std::array<std::string_view, N>& names, std::string_view key) {
    if (key.empty()) return false;
    for (auto n : names)
        if (n == key) return true;
    return false;
}

class reader {
public:
    reader(field_errors& errors, unknown_fields policy) : errors_(errors), policy_(policy) {}

    void request(const json::object& o, session_request& out) {
        string(o, "", "campaign_id", out.campaign_id);
        if (const json::value* v = member(o, "lead")) {
            if (const json::object* lo = v->if_object())
                lead(*lo, out.lead);
            else
                error("lead", "must be an object");
        }
        string(o, "", "customer_ip", out.customer_ip);
        string(o, "", "amount", out.amount);
        string(o, "", "currency", out.currency);
        enumeration(o, "billing_type", out.billing_type, parse_billing_type,
                    "must be one of ONE_OFF, RECURRING, TRIAL_RECURRING");
        enumeration(o, "billing_frequency", out.billing_frequency, parse_billing_frequency,
                    "must be one of WEEKLY, BIWEEKLY, MONTHLY, QUARTERLY, SEMIANNUALLY, YEARLY");
        enumeration(o, "trial_interval_unit", out.trial_interval_unit, parse_trial_interval_unit,
                    "must be one of day, week, month");
        integer(o, "trial_period", out.trial_period);
        string(o, "", "trial_price", out.trial_price);
        string(o, "", "gateway_id", out.gateway_id);
        integer(o, "max_payment_attempts", out.max_payment_attempts);
        string(o, "", "webhook_profile_id", out.webhook_profile_id);
        string(o, "", "hosted_page_id", out.hosted_page_id);
        unknown(o, "", request_fields);
    }

private:
    void lead(const json::object& o, catalyst::lead& out) {
        required_string(o, "first_name", out.first_name);
        required_string(o, "last_name", out.last_name);
        required_string(o, "email", out.email);
        required_string(o, "country", out.country);
        string(o, "lead.", "address", out.address);
        string(o, "lead.", "city", out.city);
        string(o, "lead.", "postal_code", out.postal_code);
        string(o, "lead.", "phone", out.phone);
        unknown(o, "lead.", lead_fields);
    }

    // Null counts as absent: the field stays unset (validate() says whether it was required).
    static const json::value* member(const json::object& o, std::string_view key) {
        const json::value* v = o.if_contains(json::string_view(key.data(), key.size()));
        return v && !v->is_null() ? v : nullptr;
    }

    void string(const json::object& o, std::string_view prefix, std::string_view key,
                std::optional<std::string>& out) {
        const json::value* v = member(o, key);
        if (!v) return;
        if (const json::string* s = v->if_string())
            out.emplace(s->data(), s->size());
        else
            error(prefix, key, "must be a string");
    }

    void required_string(const json::object& o, std::string_view key, std::string& out) {
        const json::value* v = member(o, key);
        if (!v) return;
        if (const json::string* s = v->if_string())
            out.assign(s->data(), s->size());
        else
            error("lead.", key, "must be a string");
    }

    void integer(const json::object& o, std::string_view key, std::optional<long long>& out) {
        const json::value* v = member(o, key);
        if (!v) return;
        if (const std::int64_t* i = v->if_int64())
            out = *i;
        else if (const std::uint64_t* u = v->if_uint64();
                 u && *u <= static_cast<std::uint64_t>(std::numeric_limits<long long>::max()))
            out = static_cast<long long>(*u);
        else
            error("", key, "must be an integer");
    }

    template <class E>
    void enumeration(const json::object& o, std::string_view key, std::optional<E>& out,
                     std::optional<E> (*parse)(std::string_view) noexcept,
                     std::string_view message) {
        const json::value* v = member(o, key);
        if (!v) return;
        if (const json::string* s = v->if_string()) {
            if (auto e = parse(std::string_view(s->data(), s->size()))) {
                out = *e;
                return;
            }
        }
        error("", key, message);
    }

    template <std::size_t N>
    void unknown(const json::object& o, std::string_view prefix,
                 const std::array<std::string_view, N>& names) {
        if (policy_ == unknown_fields::ignore) return;
        for (const auto& kv : o) {
            std::string_view k(kv.key().data(), kv.key().size());
            if (known(names, k)) continue;
            // An empty key would give an empty field path: name the object that holds it.
            if (k.empty())
                error(prefix.empty() ? std::string_view("non_field_errors") : prefix.substr(0, prefix.size() - 1),
                      "unknown field with an empty name");
            else
                // The name is the sender's: bounded and cleaned, as it ends up in logs.
                error(prefix, bounded_excerpt(k, 64), "unknown field");
        }
    }

    void error(std::string_view field, std::string_view message) {
        errors_.push_back({std::string(field), std::string(message)});
    }
    void error(std::string_view prefix, std::string_view key, std::string_view message) {
        std::string field;
        field.reserve(prefix.size() + key.size());
        field.append(prefix).append(key);
        errors_.push_back({std::move(field), std::string(message)});
    }

    field_errors& errors_;
    unknown_fields policy_;
};

}  // namespace

bool decode(std::string_view body, session_request& out, field_errors& errors,
            unknown_fields policy) {
    const std::size_t errors_before = errors.size();
    alignas(std::max_align_t) unsigned char buffer[4096];
    json::monotonic_resource resource(buffer, sizeof buffer);
    boost::system::error_code ec;
    json::value doc = json::parse(json::string_view(body.data(), body.size()), ec, &resource);
    if (ec) {
        errors.push_back({"non_field_errors", "malformed JSON: " + ec.message()});
        return false;
    }
    const json::object* root = doc.if_object();
    if (!root) {
        errors.push_back({"non_field_errors", "malformed JSON: expected an object"});
        return false;
    }
    reader(errors, policy).request(*root, out);
    return errors.size() == errors_before;
}

}  // namespace catalyst
