#ifndef CATALYST_BATCH_HEADER_HPP
#define CATALYST_BATCH_HEADER_HPP

#include "batch/key.hpp"

#include <catalyst/version.hpp>

#include <boost/json/fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace catalyst::batch {

/// The tool's version, in `--version` and in every header.
inline constexpr std::string_view tool_version = CATALYST_VERSION_STRING;

/// Where the sessions go. An embedded sandbox is a target of its own (its port changes every
/// run, and it forgets everything when it stops).
struct run_target {
    bool embedded_sandbox = false;
    bool none = false;         ///< --dry-run without a configured API
    std::string scheme;        ///< "https"
    std::string host;          ///< lower case; IPv6 without brackets
    unsigned port = 0;
    std::string path;          ///< the endpoint path, "/api/v1/payment-sessions/"

    std::string describe() const;
    friend bool operator==(const run_target&, const run_target&) = default;
};

/// The target as the header writes it: `{"scheme","host","port","path"}`, or
/// `{"embedded_sandbox":true}`, or `{"none":true}`.
boost::json::object target_json(const run_target& t);

/// Reads a target from a base URL; std::nullopt when the client would refuse it.
std::optional<run_target> target_of(std::string_view base_url);

/// The first record of every run (each run appends one before its records): what produced the
/// records that follow it. A resume compares the file's last header with its own.
struct run_header {
    std::string version{tool_version};
    std::string key_scheme = "cb1";  ///< how keys are derived (src/batch/key.cpp) and sent
    run_target target;
    std::optional<std::string> campaign;  ///< --campaign (the default for requests naming none)
    std::string key_fingerprint;     ///< first 8 hex digits of SHA-256 of the API key; never the key
    shard_spec shard;
    bool dry_run = false;
    std::int64_t started_ms = 0;     ///< wall clock, ms since the epoch
};

/// "1a2b3c4d": the first 8 hex digits of SHA-256 over the key ("" for no key). Enough to tell
/// two keys apart in an output file; useless for recovering the key.
std::string key_fingerprint(std::string_view api_key);

/// Appends the header's JSON line (`{"header":"catalyst-batch",...}` and '\n') to `out`.
void append_header(const run_header& h, std::string& out);

/// True when `line` is meant as a header (it starts like one); `parse_header` then reads it.
bool looks_like_header(std::string_view line) noexcept;
std::optional<run_header> parse_header(std::string_view line);

/// What an operator may accept when resuming an output written with other settings.
struct header_acceptance {
    bool target_change = false;  ///< --accept-target-change: the same API moved (a migration)
    bool key_change = false;     ///< --accept-key-change: a rotated key of the same account
};

/// The settings in which `now` differs from `before` (the file's last header) and that are not
/// accepted: one phrase each, "target (was ..., now ...)". Empty: the resume may go on.
std::vector<std::string> header_mismatches(const run_header& before, const run_header& now,
                                           const header_acceptance& accept);

}  // namespace catalyst::batch

#endif
