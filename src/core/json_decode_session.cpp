// decode(json, session&): the 201/200 answer, read once per request on the client's hot path.
// The answer is nearly always one flat object of plain ASCII strings; a scan made for that
// shape reads it, and gives up at the first thing it was not made for (an escape, a byte
// outside ASCII, a number, a nested value, anything malformed). The general reader then reads
// the whole answer again, a SAX handler on boost::json::basic_parser that builds no DOM: only
// three top-level members matter, everything else (any type, any depth) is skipped. The scan
// takes only what the general reader takes, and reads it alike (fuzz/session_decode_fuzzer.cpp
// holds the two against each other); neither allocates when `out` has the capacity from an
// earlier answer.
#include <catalyst/error.hpp>
#include <catalyst/json.hpp>

#include "core/json_string.hpp"
#include "core/session_decoder.hpp"

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

// The flat-object scan. Returns false, leaving `out` in any state, at the first thing it
// does not read; true once the whole input was one object of plain strings.
class flat_scan {
public:
    flat_scan(std::string_view in, session& out) : p_(in.data()), end_(in.data() + in.size()), out_(out) {}

    bool run() {
        skip_space();
        if (!take('{')) return false;
        skip_space();
        if (p_ != end_ && *p_ == '}') return false;  // an empty object lacks the fields: the general reader says so
        for (;;) {
            std::string_view key, value;
            if (!string(key)) return false;
            skip_space();
            if (!take(':')) return false;
            skip_space();
            if (!string(value)) return false;
            keep(key, value);
            skip_space();
            if (p_ == end_) return false;
            const char c = *p_++;
            if (c == '}') break;
            if (c != ',') return false;
            skip_space();
        }
        skip_space();
        return p_ == end_ && seen_ == all_fields;
    }

private:
    static constexpr unsigned token_bit = 1, status_bit = 2, url_bit = 4;
    static constexpr unsigned all_fields = token_bit | status_bit | url_bit;

    void skip_space() noexcept {
        while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
    }
    bool take(char c) noexcept {
        if (p_ == end_ || *p_ != c) return false;
        ++p_;
        return true;
    }
    // A string without escapes, control characters or bytes outside ASCII.
    bool string(std::string_view& s) noexcept {
        if (!take('"')) return false;
        const char* const begin = p_;
        p_ += detail::json_plain_prefix<true>(std::string_view(p_, static_cast<std::size_t>(end_ - p_)));
        return close(begin, s);
    }
    bool close(const char* begin, std::string_view& s) noexcept {
        if (p_ == end_ || *p_ != '"') return false;
        s = std::string_view(begin, static_cast<std::size_t>(p_ - begin));
        ++p_;
        return true;
    }
    void keep(std::string_view key, std::string_view value) {
        // A repeated key: the last one wins, as with the general reader.
        if (key == "session_token") {
            out_.token.assign(value.data(), value.size());
            seen_ |= token_bit;
        } else if (key == "status") {
            out_.status_text.assign(value.data(), value.size());
            seen_ |= status_bit;
        } else if (key == "payment_url") {
            out_.payment_url.assign(value.data(), value.size());
            seen_ |= url_bit;
        }
    }

    const char* p_;
    const char* const end_;
    session& out_;
    unsigned seen_ = 0;
};

}  // namespace

namespace detail {

boost::system::error_code decode_session_general(std::string_view body, session& out) {
    json::basic_parser<session_handler> parser(json::parse_options{}, &out);
    error_code ec;
    const std::size_t n = parser.write_some(false, body.data(), body.size(), ec);
    if (ec || n != body.size() || !parser.done() || !parser.handler().complete())
        return errc::protocol_error;
    out.status = parse_session_status(out.status_text);
    return {};
}

}  // namespace detail

boost::system::error_code decode(std::string_view body, session& out) {
    if (flat_scan(body, out).run()) {
        out.status = parse_session_status(out.status_text);
        return {};
    }
    return detail::decode_session_general(body, out);
}

}  // namespace catalyst
