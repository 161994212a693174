// The sandbox's configuration: config files (apply_sandbox_json), the body of
// PUT /sandbox/faults (parse_faults_json, reachable over the network), `--fault` flags and
// global rate-limit schedules (--rate-limit-schedule, POST /sandbox/rate-limit-schedule).
// Bad input must end in sandbox_config_error naming a key; anything else escaping is a bug
// (libFuzzer reports the uncaught exception as a crash).
// Properties: the faults read back from their own JSON are the same faults; a schedule read
// back from its own text is the same schedule.
#include "fuzz_common.hpp"

#include <catalyst/sandbox.hpp>

#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace catalyst;
    if (size == 0) return 0;
    std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 4) {
    case 0: {
        sandbox_params p;
        try {
            apply_sandbox_json(p, text);
        } catch (const sandbox_config_error& e) {
            FUZZ_CHECK(!e.key().empty() || std::string_view(e.what()).size() > 0);
        }
        break;
    }
    case 1: {
        try {
            fault_params f = parse_faults_json(text);
            std::string once = to_json(f);
            std::string twice = to_json(parse_faults_json(once));
            FUZZ_CHECK(once == twice);
        } catch (const sandbox_config_error&) {
        }
        break;
    }
    case 3: {
        try {
            const auto steps = parse_rate_limit_schedule(text);
            FUZZ_CHECK(!steps.empty() && steps.back().duration.count() == 0);
            const std::string once = to_string(steps);
            FUZZ_CHECK(to_string(parse_rate_limit_schedule(once)) == once);
        } catch (const sandbox_config_error& e) {
            FUZZ_CHECK(e.key() == "rate_limit_schedule");
        }
        break;
    }
    default: {
        fault_params f;
        try {
            apply_fault_setting(f, text);
            std::string once = to_json(f);
            FUZZ_CHECK(to_json(parse_faults_json(once)) == once);
        } catch (const sandbox_config_error&) {
        }
        break;
    }
    }
    return 0;
}
