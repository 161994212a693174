// encode(): the request body straight from the struct, no DOM. This runs once per request on
// the client's hot path, so it copies runs of plain bytes in one go and never allocates when
// the caller's buffer already has room.
#include <catalyst/json.hpp>

#include "core/json_string.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace catalyst {
namespace {

// Writes straight into the caller's buffer, sized once up front for the request without
// escapes: a member is two fixed-size copies (`,"name":` and the value) instead of four
// appends that each check the string's capacity. An escape, rare, grows the buffer as needed.
class buffer_writer {
public:
    buffer_writer(std::string& out, std::size_t expected) : out_(out) {
        const std::size_t used = out_.size();
        out_.resize(used + expected);
        p_ = out_.data() + used;
        end_ = out_.data() + out_.size();
    }
    void raw(std::string_view s) {
        room(s.size());
        std::memcpy(p_, s.data(), s.size());
        p_ += s.size();
    }
    void put(char c) {
        room(1);
        *p_++ = c;
    }
    void json_string(std::string_view s) {
        // Sixteen bytes of slack: short strings are copied in whole words (copy_short).
        room(s.size() + 2 + 16);
        *p_++ = '"';
        for (;;) {
            const std::size_t plain = detail::json_plain_prefix(s);
            copy_short(s.data(), plain);
            if (plain == s.size()) break;
            // An escape takes up to six bytes where the byte took one; the rest of the string,
            // the closing quote and the slack keep the room they were given.
            room(6 + s.size() - plain + 16);
            p_ = detail::write_json_escape(p_, static_cast<unsigned char>(s[plain]));
            s.remove_prefix(plain + 1);
        }
        *p_++ = '"';
    }
    /// A name known at compile time, copied as a constant-size block.
    template <std::size_t N>
    void literal(const char (&text)[N], std::size_t skip) {
        room(N);
        std::memcpy(p_, text + skip, N - 1 - skip);
        p_ += N - 1 - skip;
    }
    /// Cuts the buffer to what was written.
    void finish() { out_.resize(static_cast<std::size_t>(p_ - out_.data())); }

private:
    // Most values of a lead are a few bytes to a few dozen: two overlapping word copies each
    // (the room has sixteen bytes of slack past the value), where a call of memcpy per value
    // cost more than the copy. The source is only read within its bounds.
    void copy_short(const char* src, std::size_t n) noexcept {
        char* const dst = p_;
        p_ += n;
        if (n >= 16) {
            std::memcpy(dst, src, n);
        } else if (n >= 8) {
            std::uint64_t a, b;
            std::memcpy(&a, src, 8);
            std::memcpy(&b, src + n - 8, 8);
            std::memcpy(dst, &a, 8);
            std::memcpy(dst + n - 8, &b, 8);
        } else if (n >= 4) {
            std::uint32_t a, b;
            std::memcpy(&a, src, 4);
            std::memcpy(&b, src + n - 4, 4);
            std::memcpy(dst, &a, 4);
            std::memcpy(dst + n - 4, &b, 4);
        } else {
            for (std::size_t i = 0; i < n; ++i) dst[i] = src[i];
        }
    }

    void room(std::size_t n) {
        if (static_cast<std::size_t>(end_ - p_) >= n) return;
        const auto used = static_cast<std::size_t>(p_ - out_.data());
        out_.resize(std::max(used + n, out_.size() * 2));
        p_ = out_.data() + used;
        end_ = out_.data() + out_.size();
    }

    std::string& out_;
    char* p_;
    char* end_;
};

// Member names come as `,"name":` literals (see F below): one copy per key, the comma
// skipped for an object's first member.
class object_writer {
public:
    explicit object_writer(buffer_writer& out) : out_(out) { out_.put('{'); }
    template <std::size_t N>
    void key(const char (&member)[N]) {
        out_.literal(member, first_ ? 1 : 0);
        first_ = false;
    }
    template <std::size_t N>
    void string(const char (&name)[N], std::string_view value) {
        key(name);
        out_.json_string(value);
    }
    template <std::size_t N>
    void string(const char (&name)[N], const std::optional<std::string>& value) {
        if (value) string(name, std::string_view(*value));
    }
    template <std::size_t N>
    void integer(const char (&name)[N], const std::optional<long long>& value) {
        if (!value) return;
        key(name);
        char buf[24];
        auto r = std::to_chars(buf, buf + sizeof buf, *value);
        out_.raw(std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
    }
    template <std::size_t N, class E>
    void enumeration(const char (&name)[N], const std::optional<E>& value) {
        if (!value) return;
        key(name);
        out_.put('"');
        out_.raw(to_string(*value));  // wire spellings are plain upper/lower-case ASCII
        out_.put('"');
    }
    void close() { out_.put('}'); }

private:
    buffer_writer& out_;
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
    buffer_writer w(out, estimate + 16);  // the short copies' slack
    object_writer o(w);
    o.string(F("campaign_id"), req.campaign_id);
    o.key(F("lead"));
    {
        object_writer lo(w);
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
    w.finish();
}

#undef F

std::string to_json(const session_request& req) {
    std::string out;
    encode(req, out);
    return out;
}

}  // namespace catalyst
