// The JSON settings reader behind both config loaders (the client's and the sandbox's).

#include "core/json_config_reader.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <stdexcept>
#include <string>

namespace {

using catalyst::detail::json_config_reader;

struct refused : std::runtime_error {
    refused(std::string k, const std::string& why) : std::runtime_error(k + ": " + why), key(std::move(k)) {}
    std::string key;
};
[[noreturn]] void fail(const std::string& key, const std::string& why) { throw refused(key, why); }

// "key: reason" of the first refusal of `read` over `text`, "" when accepted.
template <class F>
std::string refusal(const char* text, F&& read) {
    const auto doc = catalyst::detail::parse_config_object(text, "doc", fail);
    try {
        json_config_reader r(doc.get_object(), "top.", fail);
        read(r);
        r.finish();
    } catch (const refused& e) {
        return e.what();
    }
    return "";
}

TEST(json_config_reader, reads_each_kind_and_names_the_full_path) {
    const auto doc = catalyst::detail::parse_config_object(
        R"({"s":"x","n":2.5,"b":true,"u":3,"d":2.0,"ms":250,"c":"two","o":{"inner":1},"note":"for people"})", "doc",
        fail);
    json_config_reader r(doc.get_object(), "", fail);
    std::string s;
    double n = 0;
    bool b = false;
    unsigned u = 0, d = 0, inner = 0;
    std::chrono::milliseconds ms{0};
    enum class e { one, two } c = e::one;
    r.string("s", s);
    r.number("n", n);
    r.boolean("b", b);
    r.unsigned_integer("u", u);
    r.unsigned_integer("d", d);  // an integral double counts
    r.duration_ms("ms", ms);
    r.choice("c", c, {{"one", e::one}, {"two", e::two}});
    EXPECT_TRUE(r.contains("o"));
    const auto* o = r.object("o");
    ASSERT_NE(o, nullptr);
    json_config_reader nested(*o, r.path("o") + ".", fail);
    nested.unsigned_integer("inner", inner);
    nested.finish();
    r.ignore("note");
    r.finish();
    EXPECT_EQ(s, "x");
    EXPECT_EQ(n, 2.5);
    EXPECT_TRUE(b);
    EXPECT_EQ(u, 3u);
    EXPECT_EQ(d, 2u);
    EXPECT_EQ(ms.count(), 250);
    EXPECT_EQ(c, e::two);
    EXPECT_EQ(inner, 1u);
}

TEST(json_config_reader, refusals_name_the_key_and_say_why) {
    unsigned u = 0;
    std::string s;
    bool b = false;
    EXPECT_EQ(refusal(R"({"u":-1})", [&](json_config_reader& r) { r.unsigned_integer("u", u); }), "top.u: must be >= 0");
    EXPECT_EQ(refusal(R"({"u":11})", [&](json_config_reader& r) { r.unsigned_integer("u", u, 10); }),
              "top.u: must be <= 10");
    EXPECT_EQ(refusal(R"({"u":1e300})", [&](json_config_reader& r) { r.unsigned_integer("u", u); }),
              "top.u: must be <= 4294967295");
    EXPECT_EQ(refusal(R"({"u":1.5})", [&](json_config_reader& r) { r.unsigned_integer("u", u); }),
              "top.u: must be a non-negative integer");
    EXPECT_EQ(refusal(R"({"s":1})", [&](json_config_reader& r) { r.string("s", s); }), "top.s: must be a string");
    EXPECT_EQ(refusal(R"({"b":"yes"})", [&](json_config_reader& r) { r.boolean("b", b); }),
              "top.b: must be true or false");
    enum class e { a, b } c = e::a;
    EXPECT_EQ(refusal(R"({"c":"z"})", [&](json_config_reader& r) { r.choice("c", c, {{"a", e::a}, {"b", e::b}}); }),
              R"(top.c: must be "a" or "b")");
    // Unknown keys: refused by finish, masked like any excerpt (an API key pasted as a name).
    EXPECT_EQ(refusal(R"({"typo":1})", [](json_config_reader&) {}), "top.typo: unknown key");
    EXPECT_EQ(refusal(R"({"rk_live_secret":1})", [](json_config_reader&) {}), "top.rk_****: unknown key");
    // contains() does not count as reading.
    EXPECT_EQ(refusal(R"({"x":1})", [](json_config_reader& r) { EXPECT_TRUE(r.contains("x")); }),
              "top.x: unknown key");
    // The document itself.
    EXPECT_THROW(catalyst::detail::parse_config_object("{", "doc", fail), refused);
    EXPECT_THROW(catalyst::detail::parse_config_object("[1]", "doc", fail), refused);
}

}  // namespace
