// The only unit that includes CLI11: it tokenizes (--flag value, --flag=value, -o value,
// aliases, unknown options) and formats --help; the values are converted here, by the
// parsers of values.hpp, so that every tool words its refusals the same way.
#include "cli/command_line.hpp"

#include "cli/values.hpp"
#include "cli/version.hpp"

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>

namespace catalyst::cli {

std::vector<exit_code> common_exit_codes(std::string success) {
    return {{0, std::move(success)}, {2, "usage or configuration error (the message names the flag or setting)"}};
}

std::string exit_codes_text(const std::vector<exit_code>& codes) {
    std::string out = "Exit codes:\n";
    for (const auto& c : codes) out += "  " + std::to_string(c.code) + "  " + c.meaning + "\n";
    return out;
}

std::string version_line(std::string_view tool) { return std::string(tool) + " " + std::string(version()); }

struct command_line::impl {
    struct entry {
        CLI::Option* option = nullptr;
        std::string name;      // the first of its names, for messages
        std::string help;
        std::string env;
        bool is_flag = false;
        bool repeatable = false;
        setter set;
        source from = source::none;
    };
    CLI::App app;
    std::string tool;
    std::string section = "Options";
    std::vector<entry> entries;
    struct refusal {
        CLI::Option* option;
        std::string name;
        std::string reason;
    };
    std::vector<refusal> refused;
    std::vector<std::string>* positionals = nullptr;
    CLI::Option* positional_option = nullptr;
    CLI::Option* version_option = nullptr;

    impl(std::string t, std::string description) : app(std::move(description), t), tool(std::move(t)) {}
};

command_line::command_line(std::string tool, std::string description)
    : impl_(std::make_unique<impl>(std::move(tool), std::move(description))) {
    auto& app = impl_->app;
    app.set_help_flag("-h,--help", "print this help and exit");
    impl_->version_option = app.add_flag("--version")->description("print the version and exit");
    app.get_formatter()->column_width(32);
    app.get_formatter()->label("REQUIRED", "");
}

command_line::~command_line() = default;

const std::string& command_line::tool() const noexcept { return impl_->tool; }

void command_line::section(std::string title) { impl_->section = std::move(title); }

command_line::option& command_line::option::env(std::string variable) {
    auto& e = owner_->impl_->entries[index_];
    e.env = std::move(variable);
    e.option->description(e.help + " [env: " + e.env + "]");
    return *this;
}

command_line::option& command_line::option::repeatable() {
    owner_->impl_->entries[index_].repeatable = true;
    return *this;
}

command_line::option command_line::add(std::string names, std::string value_name, std::string help, bool is_flag,
                                       setter set) {
    auto& app = impl_->app;
    CLI::Option* o = is_flag ? app.add_flag(names)->description(help) : app.add_option(names)->description(help);
    o->group(impl_->section);
    if (!is_flag) o->type_name(value_name)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    impl::entry e;
    e.option = o;
    e.name = names.substr(0, names.find(','));
    e.help = std::move(help);
    e.is_flag = is_flag;
    e.set = std::move(set);
    impl_->entries.push_back(std::move(e));
    return option(impl_->entries.size() - 1, *this);
}

command_line::option command_line::value(std::string names, std::string value_name, std::string help, setter set) {
    return add(std::move(names), std::move(value_name), std::move(help), false, std::move(set));
}

command_line::option command_line::text(std::string names, std::string value_name, std::string help,
                                        std::string& target) {
    return value(std::move(names), std::move(value_name), std::move(help), [&target](const std::string& v) { target = v; });
}

command_line::option command_line::text(std::string names, std::string value_name, std::string help,
                                        std::optional<std::string>& target) {
    return value(std::move(names), std::move(value_name), std::move(help), [&target](const std::string& v) { target = v; });
}

command_line::option command_line::whole(std::string names, std::string help, std::uint64_t min, std::uint64_t max,
                                         std::function<void(std::uint64_t)> set) {
    return value(std::move(names), "N", std::move(help),
                 [=, set = std::move(set)](const std::string& v) { set(parse_whole(v, min, max)); });
}

command_line::option command_line::number(std::string names, std::string help, double min, double max,
                                          double& target) {
    return value(std::move(names), "N", std::move(help),
                 [=, &target](const std::string& v) { target = parse_number(v, min, max); });
}

command_line::option command_line::duration(std::string names, std::string help, std::chrono::nanoseconds plain_unit,
                                            std::function<void(std::chrono::nanoseconds)> set) {
    return value(std::move(names), "DURATION", std::move(help),
                 [=, set = std::move(set)](const std::string& v) { set(parse_duration(v, plain_unit)); });
}

command_line::option command_line::flag(std::string names, std::string help, bool& target) {
    return add(std::move(names), {}, std::move(help), true, [&target](const std::string& v) { target = parse_bool(v); });
}

void command_line::refuse(std::string names, std::string reason) {
    CLI::Option* o = impl_->app.add_option(names)->expected(0, 1)->group("");  // hidden
    impl_->refused.push_back({o, names.substr(0, names.find(',')), std::move(reason)});
}

void command_line::positionals(std::string name, std::string help, std::vector<std::string>& target) {
    impl_->positionals = &target;
    impl_->positional_option =
        impl_->app.add_option(name)->description(help)->expected(0, CLI::detail::expected_max_vector_size)
            ->allow_extra_args(true)  // else CLI11 takes no positional when none is required
            ->group(impl_->section);
}

void command_line::footer(std::string text) { impl_->app.footer(std::move(text)); }

std::string command_line::help() const { return impl_->app.help(); }

source command_line::from(std::string_view name) const {
    for (const auto& e : impl_->entries)
        if (e.option->check_name(std::string(name))) return e.from;
    return source::none;
}

namespace {

// Gives `value` to the option; a refusal names `label` (the flag or the variable).
void apply(const command_line::setter& set, const std::string& value, const std::string& label) {
    try {
        set(value);
    } catch (const value_error& e) {
        throw usage_error(label + ": " + e.what());
    }
}

// CLI11's words for the few refusals it makes itself, in ours.
std::string reword(const CLI::ParseError& e) {
    std::string what = e.what();
    const auto colon = what.find(": ");
    if (dynamic_cast<const CLI::ExtrasError*>(&e) && colon != std::string::npos) {
        std::string extra = what.substr(colon + 2);
        extra = extra.substr(0, extra.find(' '));
        if (extra.starts_with("--")) extra = extra.substr(0, extra.find('='));
        if (extra.starts_with("-")) return "unknown option '" + extra + "' (see --help)";
        return "unexpected argument '" + extra + "' (see --help)";
    }
    if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) && what.find("missing") != std::string::npos &&
        colon != std::string::npos)
        return what.substr(0, colon) + ": missing value";
    return what;
}

}  // namespace

command_line::outcome command_line::parse(const std::vector<std::string>& args, const env_function& env) {
    auto& app = impl_->app;
    for (auto& e : impl_->entries) e.from = source::none;
    // CLI11 reads "--flag=" as "--flag": an empty value given to a flag is refused here.
    for (const auto& a : args) {
        if (a == "--") break;
        if (!a.starts_with("--") || !a.ends_with("=")) continue;
        for (const auto& e : impl_->entries)
            if (e.is_flag && e.option->check_name(a.substr(0, a.size() - 1)))
                apply(e.set, "", e.name);  // refused by parse_bool
    }
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 consumes from the back
    try {
        app.parse(reversed);
    } catch (const CLI::CallForHelp&) {
        return outcome::help;
    } catch (const CLI::ParseError& e) {
        throw usage_error(reword(e));
    }
    if (impl_->version_option->count() > 0) return outcome::version;
    for (const auto& r : impl_->refused)
        if (r.option->count() > 0) throw usage_error(r.name + " is refused: " + r.reason);
    if (impl_->positionals) impl_->positionals->clear();
    if (impl_->positional_option)
        for (const auto& v : impl_->positional_option->results()) impl_->positionals->push_back(v);

    const auto lookup = [&](const char* name) -> const char* { return env ? env(name) : std::getenv(name); };
    for (auto& e : impl_->entries) {
        if (e.option->count() > 0) {
            e.from = source::command_line;
            std::vector<std::string> values = e.option->results();
            if (!e.repeatable && !values.empty()) values.erase(values.begin(), values.end() - 1);
            for (const auto& v : values) apply(e.set, v, e.name);
        } else if (!e.env.empty()) {
            const char* v = lookup(e.env.c_str());
            if (!v || !*v) continue;  // an empty variable counts as unset, as for CATALYST_*
            e.from = source::environment;
            apply(e.set, v, e.env);
        }
    }
    return outcome::run;
}

command_line::outcome command_line::parse(int argc, const char* const* argv, const env_function& env) {
    return parse(std::vector<std::string>(argv + (argc > 0 ? 1 : 0), argv + argc), env);
}

std::optional<int> parse_or_exit(command_line& cl, int argc, const char* const* argv, const env_function& env) {
    try {
        switch (cl.parse(argc, argv, env)) {
        case command_line::outcome::help: std::cout << cl.help(); return 0;
        case command_line::outcome::version: std::cout << version_line(cl.tool()) << "\n"; return 0;
        case command_line::outcome::run: return std::nullopt;
        }
    } catch (const usage_error& e) {
        std::cerr << cl.tool() << ": " << e.what() << "\n";
        return 2;
    }
    return std::nullopt;
}

}  // namespace catalyst::cli
