// The client's configuration (apply_json): a config file is operator input, but a bad one
// must end in config_error naming the key, never in a crash or another exception. A config
// that applies and passes check() prints (operator<<) without the API key.
#include "fuzz_common.hpp"

#include <catalyst/config.hpp>

#include <sstream>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace catalyst;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    client_params p;
    try {
        apply_json(p, text);
    } catch (const config_error& e) {
        FUZZ_CHECK(std::string_view(e.what()).size() > 0);
        return 0;
    }
    try {
        check(p);
    } catch (const config_error&) {
        return 0;
    }
    std::ostringstream os;
    os << p;
    if (p.api_key.size() >= 12) FUZZ_CHECK(os.str().find(p.api_key) == std::string::npos);
    return 0;
}
