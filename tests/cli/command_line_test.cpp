#include "cli/command_line.hpp"

#include "cli/version.hpp"

#include "cli/fake_env.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

using namespace std::chrono_literals;
using catalyst::cli::command_line;
using catalyst::cli::source;
using catalyst::cli::usage_error;

using catalyst::cli::test::fake_env;

namespace {

// A small tool: every kind of option once.
struct tool {
    command_line cl{"demo", "a demo tool"};
    std::string url;
    std::uint64_t count = 0;
    bool dry_run = false;
    std::chrono::nanoseconds deadline{0};
    std::vector<std::string> refs, inputs;
    tool() {
        cl.section("Sending");
        cl.text("--url", "URL", "the target", url).env("DEMO_URL");
        cl.whole("--count,-n", "how many", 1, 1000, [this](std::uint64_t n) { count = n; }).env("DEMO_COUNT");
        cl.flag("--dry-run", "send nothing", dry_run);
        cl.duration("--deadline,--deadline-ms", "per session", 1ms, [this](auto d) { deadline = d; });
        cl.value("--reference", "FILE", "repeatable", [this](const std::string& v) { refs.push_back(v); }).repeatable();
        cl.refuse("--api-key", "keys stay off the command line");
        cl.positionals("INPUT", "the input", inputs);
        cl.footer(catalyst::cli::exit_codes_text(catalyst::cli::common_exit_codes()));
    }
    command_line::outcome parse(std::vector<std::string> args, const fake_env& env = {}) {
        return cl.parse(args, env.fn());
    }
    std::string error(std::vector<std::string> args, const fake_env& env = {}) {
        try {
            parse(std::move(args), env);
        } catch (const usage_error& e) {
            return e.what();
        }
        return "(accepted)";
    }
};

}  // namespace

TEST(cli_command_line, space_and_equals_forms_are_the_same) {
    tool a, b;
    ASSERT_EQ(a.parse({"--url", "https://x/api/v1", "--count", "5", "-n", "7"}), command_line::outcome::run);
    ASSERT_EQ(b.parse({"--url=https://x/api/v1", "--count=7"}), command_line::outcome::run);
    EXPECT_EQ(a.url, "https://x/api/v1");
    EXPECT_EQ(b.url, a.url);
    EXPECT_EQ(a.count, 7u);  // the last occurrence wins
    EXPECT_EQ(b.count, 7u);
}

TEST(cli_command_line, a_boolean_flag_understands_false_and_refuses_the_unknown) {
    tool t;
    t.parse({"--dry-run"});
    EXPECT_TRUE(t.dry_run);
    tool f;
    f.dry_run = true;
    f.parse({"--dry-run=false"});
    EXPECT_FALSE(f.dry_run);  // the hand-written parsers turned dry-run ON here
    for (const char* v : {"0", "no", "off"}) {
        tool g;
        g.parse({std::string("--dry-run=") + v});
        EXPECT_FALSE(g.dry_run) << v;
    }
    tool m;
    const std::string err = m.error({"--dry-run=maybe"});
    EXPECT_NE(err.find("--dry-run"), std::string::npos) << err;
    EXPECT_NE(err.find("'maybe'"), std::string::npos) << err;
    EXPECT_NE(tool().error({"--dry-run="}).find("--dry-run"), std::string::npos);
}

TEST(cli_command_line, usage_errors_name_the_flag) {
    EXPECT_EQ(tool().error({"--frobnicate"}), "unknown option '--frobnicate' (see --help)");
    EXPECT_EQ(tool().error({"--frobnicate=3"}), "unknown option '--frobnicate' (see --help)");
    EXPECT_EQ(tool().error({"--url"}), "--url: missing value");
    const std::string range = tool().error({"--count", "0"});
    EXPECT_EQ(range.rfind("--count: ", 0), 0u) << range;
    EXPECT_NE(range.find("'0'"), std::string::npos) << range;
    const std::string dur = tool().error({"--deadline=soon"});
    EXPECT_EQ(dur.rfind("--deadline: ", 0), 0u) << dur;
    const std::string refused = tool().error({"--api-key", "sk_live_secret"});
    EXPECT_NE(refused.find("--api-key is refused"), std::string::npos) << refused;
    EXPECT_EQ(refused.find("sk_live_secret"), std::string::npos) << refused;  // the key is never echoed
}

TEST(cli_command_line, durations_take_units_and_plain_numbers_their_historic_unit) {
    tool a, b, c;
    a.parse({"--deadline=2m"});
    EXPECT_EQ(a.deadline, 2min);
    b.parse({"--deadline-ms", "1500"});
    EXPECT_EQ(b.deadline, 1500ms);
    c.parse({"--deadline", "500ms"});
    EXPECT_EQ(c.deadline, 500ms);
}

TEST(cli_command_line, the_environment_fills_what_the_command_line_leaves) {
    fake_env env{{{"DEMO_URL", "https://env/api/v1"}, {"DEMO_COUNT", "9"}}};
    tool a;
    a.parse({}, env);
    EXPECT_EQ(a.url, "https://env/api/v1");
    EXPECT_EQ(a.count, 9u);
    EXPECT_EQ(a.cl.from("--url"), source::environment);
    EXPECT_EQ(a.cl.from("-n"), source::environment);
    EXPECT_EQ(a.cl.from("--dry-run"), source::none);

    tool b;
    b.parse({"--count=3"}, env);
    EXPECT_EQ(b.count, 3u);  // the flag wins
    EXPECT_EQ(b.cl.from("--count"), source::command_line);

    fake_env bad{{{"DEMO_COUNT", "lots"}}};
    const std::string err = tool().error({}, bad);
    EXPECT_EQ(err.rfind("DEMO_COUNT: ", 0), 0u) << err;
    fake_env empty{{{"DEMO_COUNT", ""}}};  // empty counts as unset
    tool e;
    e.parse({}, empty);
    EXPECT_EQ(e.count, 0u);
    EXPECT_FALSE(e.cl.given("--count"));
}

TEST(cli_command_line, repeatable_options_and_positionals) {
    tool t;
    t.parse({"--reference", "a.txt", "in.jsonl", "--reference=b.txt"});
    EXPECT_EQ(t.refs, (std::vector<std::string>{"a.txt", "b.txt"}));
    EXPECT_EQ(t.inputs, (std::vector<std::string>{"in.jsonl"}));
    tool s;
    s.parse({"-"});
    EXPECT_EQ(s.inputs, (std::vector<std::string>{"-"}));  // "-" is stdin, not an option

    command_line none("none", "takes no positional");
    EXPECT_THROW(none.parse(std::vector<std::string>{"stray"}), usage_error);
}

TEST(cli_command_line, help_and_version) {
    tool t;
    EXPECT_EQ(t.parse({"--help"}), command_line::outcome::help);
    EXPECT_EQ(tool().parse({"-h"}), command_line::outcome::help);
    EXPECT_EQ(tool().parse({"--version"}), command_line::outcome::version);
    const std::string help = t.cl.help();
    for (const char* part : {"--url", "[env: DEMO_URL]", "Sending", "--dry-run", "--version", "Exit codes:", "  2  "})
        EXPECT_NE(help.find(part), std::string::npos) << part << " missing from:\n" << help;
    EXPECT_EQ(help.find("--api-key"), std::string::npos) << "a refused option is not advertised";
    EXPECT_EQ(catalyst::cli::version_line("demo"), "demo " + std::string(catalyst::cli::version()));
    EXPECT_FALSE(catalyst::cli::version().empty());
}
