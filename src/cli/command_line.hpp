#ifndef CATALYST_CLI_COMMAND_LINE_HPP
#define CATALYST_CLI_COMMAND_LINE_HPP

// One command-line style for every catalyst tool, over CLI11 (which only command_line.cpp
// includes: it costs seconds of compile time per unit that sees it).
//
//   --flag value and --flag=value; -h/--help and --version everywhere; boolean flags that
//   take =true/=false and refuse anything else; an environment variable per option where one
//   is documented (the command line wins); a usage error names the flag or the variable and
//   exits 2; every --help ends with the tool's exit codes.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace catalyst::cli {

/// A command line we refuse: the tool prints "<tool>: <what()>" and exits 2.
class usage_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Looks up an environment variable; nullptr when unset. Empty: the process environment.
using env_function = std::function<const char*(const char*)>;

struct exit_code {
    int code;
    std::string meaning;
};

/// The exit codes every tool shares (0 and 2); a tool adds its own between them.
std::vector<exit_code> common_exit_codes(std::string success = "success");

/// "Exit codes:\n  0  ...\n" for the end of --help.
std::string exit_codes_text(const std::vector<exit_code>& codes);

/// "<tool> <version>" (the catalyst version of this build).
std::string version_line(std::string_view tool);

/// Where a value came from.
enum class source { none, command_line, environment };

class command_line {
public:
    /// Receives the text of one value; throws value_error (see values.hpp) to refuse it.
    using setter = std::function<void(const std::string&)>;

    /// Describes one option added below; `env` and `repeatable` adjust it.
    class option {
    public:
        /// The variable read when the option is not on the command line (listed in --help).
        option& env(std::string variable);
        /// Every occurrence is applied in order (default: the last one wins).
        option& repeatable();

    private:
        friend class command_line;
        explicit option(std::size_t index, command_line& owner) : index_(index), owner_(&owner) {}
        std::size_t index_;
        command_line* owner_;
    };

    command_line(std::string tool, std::string description);
    ~command_line();
    command_line(const command_line&) = delete;
    command_line& operator=(const command_line&) = delete;

    /// Options added after this appear under `title` in --help.
    void section(std::string title);

    /// `names`: comma-separated ("--output,-o"); the first is the one messages use.
    option value(std::string names, std::string value_name, std::string help, setter set);
    option text(std::string names, std::string value_name, std::string help, std::string& target);
    option text(std::string names, std::string value_name, std::string help, std::optional<std::string>& target);
    option whole(std::string names, std::string help, std::uint64_t min, std::uint64_t max,
                 std::function<void(std::uint64_t)> set);
    option number(std::string names, std::string help, double min, double max, double& target);
    /// A duration with units; a plain number counts in `plain_unit`.
    option duration(std::string names, std::string help, std::chrono::nanoseconds plain_unit,
                    std::function<void(std::chrono::nanoseconds)> set);
    /// A flag: "--x" is true, "--x=false" false, "--x=maybe" a usage error.
    option flag(std::string names, std::string help, bool& target);
    /// Refused whenever given, with `reason` (e.g. an API key on the command line).
    void refuse(std::string names, std::string reason);
    /// The positional arguments (none accepted when this is not called).
    void positionals(std::string name, std::string help, std::vector<std::string>& target);

    /// Text printed after the options (environment, exit codes, ...).
    void footer(std::string text);

    enum class outcome { run, help, version };
    /// Parses `args` (without the program name), then the environment of the options not given.
    /// Throws usage_error naming the flag or the variable.
    outcome parse(const std::vector<std::string>& args, const env_function& env = {});
    outcome parse(int argc, const char* const* argv, const env_function& env = {});

    /// Where the option named `name` (any of its names) got its value in the last parse().
    source from(std::string_view name) const;
    bool given(std::string_view name) const { return from(name) != source::none; }

    std::string help() const;
    const std::string& tool() const noexcept;

private:
    struct impl;
    option add(std::string names, std::string value_name, std::string help, bool is_flag, setter set);
    std::unique_ptr<impl> impl_;
};

/// The usual main(): parses, prints --help/--version on stdout, a usage error on stderr.
/// Returns the exit code to leave with (0 after help/version, 2 on a usage error) or nullopt
/// when the tool should run.
std::optional<int> parse_or_exit(command_line& cl, int argc, const char* const* argv, const env_function& env = {});

}  // namespace catalyst::cli

#endif
