#ifndef CATALYST_TESTS_CLI_FAKE_ENV_HPP
#define CATALYST_TESTS_CLI_FAKE_ENV_HPP

// An environment for a parser under test: these variables and no other (nothing of the test
// process's own CATALYST_* settings leaks in).

#include "cli/command_line.hpp"

#include <map>
#include <string>

namespace catalyst::cli::test {

struct fake_env {
    std::map<std::string, std::string> vars;
    env_function fn() const {
        return [this](const char* name) -> const char* {
            auto it = vars.find(name);
            return it == vars.end() ? nullptr : it->second.c_str();
        };
    }
};

}  // namespace catalyst::cli::test

#endif
