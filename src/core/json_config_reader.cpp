#include "core/json_config_reader.hpp"

#include <catalyst/diagnostics.hpp>

#include <boost/json/parse.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace catalyst::detail {

json_config_reader::json_config_reader(const boost::json::object& o, std::string prefix, config_fail_fn fail)
    : o_(o), prefix_(std::move(prefix)), fail_(fail) {}

const boost::json::value* json_config_reader::find(std::string_view key) {
    seen_.push_back(key);
    return o_.if_contains(boost::json::string_view(key.data(), key.size()));
}

void json_config_reader::fail_path(const std::string& where, const std::string& reason) const {
    fail_(where, reason);
    throw std::logic_error("config_fail_fn returned");  // it must throw
}

std::string json_config_reader::to_string(const std::string& where, const boost::json::value& v) const {
    const boost::json::string* s = v.if_string();
    if (!s) fail_path(where, "must be a string");
    return std::string(s->data(), s->size());
}

std::uint64_t json_config_reader::to_uint(const std::string& where, const boost::json::value& v,
                                          std::uint64_t max) const {
    std::uint64_t out = 0;
    if (v.is_int64()) {
        if (v.get_int64() < 0) fail_path(where, "must be >= 0");
        out = static_cast<std::uint64_t>(v.get_int64());
    } else if (v.is_uint64()) {
        out = v.get_uint64();
    } else if (v.is_double() && v.get_double() >= 0 && std::floor(v.get_double()) == v.get_double()) {
        // Range first: converting a double beyond 2^64 to an integer is undefined behaviour.
        if (v.get_double() >= 18446744073709551616.0 || v.get_double() > static_cast<double>(max))
            fail_path(where, "must be <= " + std::to_string(max));
        out = static_cast<std::uint64_t>(v.get_double());
    } else {
        fail_path(where, "must be a non-negative integer");
    }
    if (out > max) fail_path(where, "must be <= " + std::to_string(max));
    return out;
}

double json_config_reader::to_double(const std::string& where, const boost::json::value& v) const {
    if (v.is_double()) return v.get_double();
    if (v.is_int64()) return static_cast<double>(v.get_int64());
    if (v.is_uint64()) return static_cast<double>(v.get_uint64());
    fail_path(where, "must be a number");
}

void json_config_reader::string(std::string_view key, std::string& out) {
    if (const boost::json::value* v = find(key)) out = to_string(path(key), *v);
}

void json_config_reader::number(std::string_view key, double& out) {
    if (const boost::json::value* v = find(key)) out = to_double(path(key), *v);
}

void json_config_reader::boolean(std::string_view key, bool& out) {
    if (const boost::json::value* v = find(key)) {
        if (!v->is_bool()) fail(key, "must be true or false");
        out = v->get_bool();
    }
}

void json_config_reader::duration_ms(std::string_view key, std::chrono::milliseconds& out, std::uint64_t max_ms) {
    if (const boost::json::value* v = find(key)) {
        const auto cap = std::min<std::uint64_t>(max_ms, std::numeric_limits<long long>::max());
        out = std::chrono::milliseconds(static_cast<long long>(to_uint(path(key), *v, cap)));
    }
}

const boost::json::object* json_config_reader::object(std::string_view key) {
    const boost::json::value* v = find(key);
    if (!v) return nullptr;
    if (!v->is_object()) fail(key, "must be an object");
    return &v->get_object();
}

const boost::json::array* json_config_reader::array(std::string_view key, std::string_view what) {
    const boost::json::value* v = find(key);
    if (!v) return nullptr;
    if (!v->is_array()) fail(key, "must be " + std::string(what));
    return &v->get_array();
}

void json_config_reader::finish(const std::string& reason) const {
    for (const auto& kv : o_) {
        const std::string_view k(kv.key().data(), kv.key().size());
        if (std::find(seen_.begin(), seen_.end(), k) == seen_.end())
            // Masked in case someone pasted a secret where a name belongs.
            fail_path(prefix_ + bounded_excerpt(k, 64), reason);
    }
}

std::string json_config_reader::one_of(const std::vector<std::string_view>& names) {
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
        out += '"';
        out += names[i];
        out += '"';
    }
    return out;
}

boost::json::value parse_config_object(std::string_view text, const std::string& key, config_fail_fn fail) {
    boost::system::error_code ec;
    boost::json::value doc = boost::json::parse(boost::json::string_view(text.data(), text.size()), ec);
    if (ec) fail(key, "malformed JSON: " + ec.message());
    else if (!doc.is_object()) fail(key, "must be a JSON object");
    return doc;
}

}  // namespace catalyst::detail
