#ifndef CATALYST_SRC_CORE_JSON_CONFIG_READER_HPP
#define CATALYST_SRC_CORE_JSON_CONFIG_READER_HPP

// Reads one JSON object of settings into a struct, key by key, for the client's config file
// (core/config.cpp) and the sandbox's (sandbox/config.cpp). Every key of the object must be
// read by exactly one call; `finish` refuses the others. Every refusal names the key's full
// path ("retry.max_attempts", "faults.server_error.status") and goes through the loader's
// own error type (the `fail` function given at construction).
// Exported (CATALYST_DECL): the sandbox and the command lines, outside libcatalyst, use it
// from a shared libcatalyst too.

#include <catalyst/export.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace catalyst::detail {

/// Throws the loader's error for `key` (a full path) and `reason`; must not return.
using config_fail_fn = void (*)(const std::string& key, const std::string& reason);

class CATALYST_DECL json_config_reader {
public:
    /// `prefix`: the path of `o` followed by its separator ("" for the root, "retry.").
    json_config_reader(const boost::json::object& o, std::string prefix, config_fail_fn fail);

    void string(std::string_view key, std::string& out);
    void number(std::string_view key, double& out);
    void boolean(std::string_view key, bool& out);
    /// A whole number in [0, max]; integral doubles ("2.0", "1e3") count.
    template <class U>
    void unsigned_integer(std::string_view key, U& out, std::uint64_t max = std::numeric_limits<U>::max()) {
        if (const boost::json::value* v = find(key)) out = static_cast<U>(to_uint(path(key), *v, max));
    }
    /// Milliseconds, a whole number in [0, max_ms] (the key is spelled "..._ms").
    void duration_ms(std::string_view key, std::chrono::milliseconds& out,
                     std::uint64_t max_ms = std::numeric_limits<long long>::max());
    /// A string naming one of `choices`.
    template <class E>
    void choice(std::string_view key, E& out, std::initializer_list<std::pair<std::string_view, E>> choices) {
        std::string s;
        if (!find(key)) return;
        string(key, s);
        for (const auto& [name, value] : choices)
            if (s == name) {
                out = value;
                return;
            }
        std::vector<std::string_view> names;
        for (const auto& c : choices) names.push_back(c.first);
        fail(key, "must be " + one_of(names));
    }
    /// The object under `key`, nullptr when absent (refused when not an object).
    const boost::json::object* object(std::string_view key);
    /// The array under `key`, nullptr when absent (refused when not an array).
    const boost::json::array* array(std::string_view key, std::string_view what = "an array");
    /// Whether the object has `key` (it is not read by this).
    bool contains(std::string_view key) const {
        return o_.contains(boost::json::string_view(key.data(), key.size()));
    }
    /// A key for people (a comment): accepted and not read.
    void ignore(std::string_view key) { (void)find(key); }

    /// The full path of `key`.
    std::string path(std::string_view key) const { return prefix_ + std::string(key); }
    [[noreturn]] void fail(std::string_view key, const std::string& reason) const { fail_path(path(key), reason); }
    /// Refuses the first key no call read, with `reason`.
    void finish(const std::string& reason = "unknown key") const;

    // The conversions, for values found otherwise (an array's elements); `where` is a full path.
    [[noreturn]] void fail_path(const std::string& where, const std::string& reason) const;
    std::string to_string(const std::string& where, const boost::json::value& v) const;
    std::uint64_t to_uint(const std::string& where, const boost::json::value& v, std::uint64_t max) const;
    double to_double(const std::string& where, const boost::json::value& v) const;

    /// "a, b or c", each quoted.
    static std::string one_of(const std::vector<std::string_view>& names);

private:
    const boost::json::value* find(std::string_view key);

    const boost::json::object& o_;
    std::string prefix_;
    config_fail_fn fail_;
    std::vector<std::string_view> seen_;
};

/// Parses `text`; malformed JSON and a document that is not an object go through `fail`
/// with `key`.
CATALYST_DECL boost::json::value parse_config_object(std::string_view text, const std::string& key, config_fail_fn fail);

}  // namespace catalyst::detail

#endif
