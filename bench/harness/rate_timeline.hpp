#ifndef CATALYST_BENCH_RATE_TIMELINE_HPP
#define CATALYST_BENCH_RATE_TIMELINE_HPP

// A run against the sandbox's scheduled global rate limit, second by second: the limit the
// client does not know, what the sandbox accepted and answered 429, and the client's allowed
// rate; and the figures read from it (how close to the limit, how many 429s, how fast the
// client followed each change).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace catalyst::bench {

struct timeline_second {
    std::uint64_t second = 0;     ///< since the schedule started
    double limit = 0;             ///< requests/s in force at the second's start
    std::uint64_t accepted = 0;   ///< requests the limit let through
    std::uint64_t throttled = 0;  ///< requests answered 429
    double allowed = -1;          ///< the client's allowed rate, mean over the second; negative: not known
    /// What the client sent, as the sandbox saw it.
    std::uint64_t sent() const noexcept { return accepted + throttled; }
};

/// Consecutive seconds at one limit, and how the client rode them.
struct limit_step {
    double limit = 0;
    std::uint64_t first = 0, end = 0;  ///< seconds [first, end)
    std::uint64_t accepted = 0, throttled = 0;
    /// Seconds from the step's start to the start of its first second with accepted >= 90 %
    /// of the limit; none when no second got there.
    std::optional<std::uint64_t> to_90;
    /// accepted / (limit x seconds) over the step's seconds from `settle_s` after its start
    /// (the steady state); none when the step ends before.
    std::optional<double> steady;
    std::uint64_t steady_accepted = 0, steady_throttled = 0;  ///< over those seconds
};

struct timeline_figures {
    std::uint64_t seconds = 0;
    std::uint64_t accepted = 0, throttled = 0;
    std::uint64_t settle_s = 0;
    std::vector<limit_step> steps;
    /// 429s / attempts (accepted + 429s); 0 without attempts.
    double throttled_share() const noexcept;
};

/// The figures of `seconds` (in order, consecutive). A step is a run of seconds at one limit;
/// its steady state starts `settle_s` after it.
timeline_figures summarize(const std::vector<timeline_second>& seconds, std::uint64_t settle_s = 10);

/// Sets each second's `allowed` to the mean of the samples that fall in it (`samples`: seconds
/// since the schedule's start, requests/s); seconds without a sample keep theirs.
void set_allowed(std::vector<timeline_second>& seconds, const std::vector<std::pair<double, double>>& samples);

/// Tab-separated, a header line first: second, limit, sent, accepted, throttled, allowed
/// (-1 when not known).
std::string to_tsv(const std::vector<timeline_second>& seconds);

/// The seconds of a sandbox's `GET /sandbox/stats` answer (`global_rate_limit.seconds`), all
/// of them: read after a run, the last one (running when the stats were read) holds the run's
/// end, and the totals are the sandbox's. `error` says what is missing or malformed.
struct timeline_parse {
    std::vector<timeline_second> seconds;
    std::string error;
};
timeline_parse parse_sandbox_stats(std::string_view json);

/// For people: the totals, then one line per step.
std::string format_figures(const timeline_figures& f);

/// One line for a chart: "429s 0.12 % of 12 014 attempts; accepted / limit in steady state:
/// 0.95 (400/s), 0.88 (200/s), 0.96 (400/s); 90 % of the limit after 3 s, 2 s, 11 s".
std::string figures_headline(const timeline_figures& f);

}  // namespace catalyst::bench

#endif
