// encode(): the request body straight from the struct, no DOM. This runs once per request on
// the client's hot path, so it appends runs of plain bytes in one go and never allocates when
// the caller's buffer already has room.
#include <catalyst/json.hpp>

#include <array>
#include <charconv>
#include <cstddef>

namespace catalyst {
namespace {

constexpr char hex_digits[] = "0123456789abcdef";

// RFC 8259 §7: '"', '\\' and U+0000..U+001F must be escaped; everything else, UTF-8
// included, may pass through unchanged.
// A table beats the three comparisons in the byte loop (measured: bench/micro/codec_bench).
constexpr auto escape_table = [] {
    std::array<bool, 256> t{};
    for (int c = 0; c < 0x20; ++c) t[c] = true;
    t['"'] = t['\\'] = true;
    return t;
}();
constexpr bool needs_escape(unsigned char c) noexcept { return escape_table[c]; }

void append_escaped(std::string& out, std::string_view s) {
    out.push_back('"');
    const char* run = s.data();
    const char* const end = s.data() + s.size();
    for (const char* p = run; p != end; ++p) {
        const auto c = static_cast<unsigned char>(*p);
        if (!needs_escape(c)) continue;
        out.append(run, p);
        run = p + 1;
        switch (c) {
            case '"': out.append("\\\"", 2); break;
            case '\\': out.append("\\\\", 2); break;
            case '\n': out.append("\\n", 2); break;
            case '\r': out.append("\\r", 2); break;
            case '\t': out.append("\\t", 2); break;
            case '\b': out.append("\\b", 2); break;
            case '\f': out.append("\\f", 2); break;
            default: {
                const char u[6] = {'\\', 'u', '0', '0', hex_digits[c >> 4], hex_digits[c & 0xF]};
                out.append(u, 6);
            }
        }
    }
    out.append(run, end);
    out.push_back('"');
}

// Member names come as `,"name":` literals (see F below): one append per key, the comma
// skipped for an object's first member.
class object_writer {
public:
    explicit object_writer(std::string& out) : out_(out) { out_.push_back('{'); }
    void key(std::string_view member) {
        out_.append(first_ ? member.substr(1) : member);
        first_ = false;
    }
    void string(std::string_view name, std::string_view value) {
        key(name);
        append_escaped(out_, value);
    }
    void string(std::string_view name, const std::optional<std::string>& value) {
        if (value) string(name, std::string_view(*value));
    }
    void integer(std::string_view name, const std::optional<long long>& value) {
        if (!value) return;
        key(name);
        char buf[24];
        auto r = std::to_chars(buf, buf + sizeof buf, *value);
        out_.append(buf, r.ptr);
    }
    template <class E>
    void enumeration(std::string_view name, const std::optional<E>& value) {
        if (!value) return;
        key(name);
        out_.push_back('"');
        out_.append(to_string(*value));  // wire spellings are plain upper/lower-case ASCII
        out_.push_back('"');
    }
    void close() { out_.push_back('}'); }

private:
    std::string& out_;
    bool first_ = true;
};

std::size_t optional_size(const std::optional<std::string>& s) { return s ? s->size() + 24 : 0; }

}  // namespace

// `,"name":` for a member name known at compile time.
#define F(name) ",\"" name "\":"

void encode(const session_request& req, std::string& out) {
    // Room for the strings as they are plus keys and punctuation; escapes are rare.
    const lead& l = req.lead;
    std::size_t estimate = 96 + l.first_name.size() + l.last_name.size() + l.email.size() +
                           l.country.size() + optional_size(l.address) + optional_size(l.city) +
                           optional_size(l.postal_code) + optional_size(l.phone) +
                           optional_size(req.campaign_id) + optional_size(req.customer_ip) +
                           optional_size(req.amount) + optional_size(req.currency) +
                           optional_size(req.trial_price) + optional_size(req.gateway_id) +
                           optional_size(req.webhook_profile_id) + optional_size(req.hosted_page_id) +
                           (req.billing_type ? 40 : 0) + (req.billing_frequency ? 40 : 0) +
                           (req.trial_interval_unit ? 40 : 0) + (req.trial_period ? 40 : 0) +
                           (req.max_payment_attempts ? 40 : 0);
    out.reserve(out.size() + estimate);

    object_writer o(out);
    o.string(F("campaign_id"), req.campaign_id);
    o.key(F("lead"));
    {
        object_writer lo(out);
        lo.string(F("first_name"), std::string_view(l.first_name));
        lo.string(F("last_name"), std::string_view(l.last_name));
        lo.string(F("email"), std::string_view(l.email));
        lo.string(F("country"), std::string_view(l.country));
        lo.string(F("address"), l.address);
        lo.string(F("city"), l.city);
        lo.string(F("postal_code"), l.postal_code);
        lo.string(F("phone"), l.phone);
        lo.close();
    }
    o.string(F("customer_ip"), req.customer_ip);
    o.string(F("amount"), req.amount);
    o.string(F("currency"), req.currency);
    o.enumeration(F("billing_type"), req.billing_type);
    o.enumeration(F("billing_frequency"), req.billing_frequency);
    o.enumeration(F("trial_interval_unit"), req.trial_interval_unit);
    o.integer(F("trial_period"), req.trial_period);
    o.string(F("trial_price"), req.trial_price);
    o.string(F("gateway_id"), req.gateway_id);
    o.integer(F("max_payment_attempts"), req.max_payment_attempts);
    o.string(F("webhook_profile_id"), req.webhook_profile_id);
    o.string(F("hosted_page_id"), req.hosted_page_id);
    o.close();
}

#undef F

std::string to_json(const session_request& req) {
    std::string out;
    encode(req, out);
    return out;
}

}  // namespace catalyst
