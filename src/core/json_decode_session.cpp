// decode(json, session&): the 201/200 answer, read once per request on the client's hot path.
// A SAX handler on boost::json::basic_parser builds no DOM and, when `out` already has the
// capacity from an earlier answer, allocates nothing: only three top-level members matter,
// everything else (any type, any depth) is skipped as the parser walks past it.
#include <catalyst/error.hpp>
#include <catalyst/json.hpp>

#include <boost/json/basic_parser_impl.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>

namespace catalyst {
namespace {

namespace json = boost::json;
using json::string_view;
using boost::system::error_code;

class session_handler {
public:
    static constexpr std::size_t max_object_size = std::numeric_limits<std::size_t>::max();
    static constexpr std::size_t max_array_size = std::numeric_limits<std::size_t>::max();
    static constexpr std::size_t max_key_size = std::numeric_limits<std::size_t>::max();
    static constexpr std::size_t max_string_size = std::numeric_limits<std::size_t>::max();

    explicit session_handler(session* out) : out_(out) {}

    bool complete() const noexcept { return seen_ == all_fields; }

    bool on_document_begin(error_code&) { return true; }
    bool on_document_end(error_code&) { return true; }

    bool on_object_begin(error_code& ec) {
        if (depth_ == 1 && target_) return fail(ec);  // a documented field holds an object
        ++depth_;
        return true;
    }
    bool on_object_end(std::size_t, error_code&) {
        --depth_;
        return true;
    }
    bool on_array_begin(error_code& ec) {
        if (depth_ == 0 || (depth_ == 1 && target_)) return fail(ec);
        ++depth_;
        return true;
    }
    bool on_array_end(std::size_t, error_code&) {
        --depth_;
        return true;
    }

    // Keys arrive in parts only when escaped or very long; the common case is one call.
    bool on_key_part(string_view s, std::size_t, error_code&) {
        if (depth_ == 1) key_.append(s.data(), s.size());
        return true;
    }
    bool on_key(string_view s, std::size_t, error_code&) {
        if (depth_ != 1) return true;
        std::string_view k(s.data(), s.size());
        if (!key_.empty()) {
            key_.append(s.data(), s.size());
            k = key_;
        }
        select(k);
        key_.clear();
        return true;
    }

    bool on_string_part(string_view s, std::size_t, error_code&) {
        if (depth_ == 1 && target_) target_->append(s.data(), s.size());
        return true;
    }
    bool on_string(string_view s, std::size_t, error_code& ec) {
        if (depth_ == 0) return fail(ec);
        if (depth_ == 1 && target_) {
            target_->append(s.data(), s.size());
            seen_ |= target_bit_;
            target_ = nullptr;
        }
        return true;
    }

    bool on_number_part(string_view, error_code&) { return true; }
    bool on_int64(std::int64_t, string_view, error_code& ec) { return scalar(ec); }
    bool on_uint64(std::uint64_t, string_view, error_code& ec) { return scalar(ec); }
    bool on_double(double, string_view, error_code& ec) { return scalar(ec); }
    bool on_bool(bool, error_code& ec) { return scalar(ec); }
    bool on_null(error_code& ec) { return scalar(ec); }
    bool on_comment_part(string_view, error_code&) { return true; }
    bool on_comment(string_view, error_code&) { return true; }

private:
    static constexpr unsigned token_bit = 1, status_bit = 2, url_bit = 4;
    static constexpr unsigned all_fields = token_bit | status_bit | url_bit;

    void select(std::string_view k) {
        target_ = nullptr;
        if (k == "session_token") {
            target_ = &out_->token;
            target_bit_ = token_bit;
        } else if (k == "status") {
            target_ = &out_->status_text;
            target_bit_ = status_bit;
        } else if (k == "payment_url") {
            target_ = &out_->payment_url;
            target_bit_ = url_bit;
        }
        // A repeated key: the last one wins, as in most JSON readers.
        if (target_) target_->clear();
    }

    // A scalar at the top (not an object), or as the value of a documented field (not a string).
    bool scalar(error_code& ec) {
        if (depth_ == 0 || (depth_ == 1 && target_)) return fail(ec);
        return true;
    }

    static bool fail(error_code& ec) {
        ec = errc::protocol_error;
        return false;
    }

    session* out_;
    std::string* target_ = nullptr;
    unsigned target_bit_ = 0;
    unsigned seen_ = 0;
    int depth_ = 0;
    std::string key_;
};

}  // namespace

boost::system::error_code decode(std::string_view body, session& out) {
    json::basic_parser<session_handler> parser(json::parse_options{}, &out);
    error_code ec;
    const std::size_t n = parser.write_some(false, body.data(), body.size(), ec);
    if (ec || n != body.size() || !parser.done() || !parser.handler().complete())
        return errc::protocol_error;
    out.status = parse_session_status(out.status_text);
    return {};
}

}  // namespace catalyst
