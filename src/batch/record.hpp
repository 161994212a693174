#ifndef CATALYST_BATCH_RECORD_HPP
#define CATALYST_BATCH_RECORD_HPP

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace catalyst::batch {

/// One line of the output file: the outcome of one input line, or the intent to send it.
///
/// `{"line":12,"key":"<32 hex>","outcome":"sending","sent_at":"2026-11-30T12:00:00.000Z"}`
/// `{"line":12,"key":"<32 hex>","outcome":"ok","session_token":"ps_...","payment_url":"...",
///   "status":"PENDING","replayed":false,"reused":false,"http_status":201,"attempts":1,"latency_ms":9,
///   "sent_at":"...","finished_at":"..."}`
/// `{"line":13,"key":"...","outcome":"error","error":"validation_failed","message":"lead.email: ...",
///   "http_status":0,"attempts":0,"latency_ms":0,"finished_at":"..."}`
/// Session fields appear only with `ok`, `error`/`message` only with `error`. `message` holds
/// field paths and reasons, never a lead's personal data. `sent_at` is when the line's key was
/// first sent (by this run or an earlier one); `finished_at` when this outcome arrived.
/// A `sending` record is written (reaches the kernel) before the request goes out: a line
/// with one and no outcome was perhaps created by the server, and since when is known.
struct result_record {
    std::uint64_t line = 0;
    std::string key;
    bool ok = false;
    bool sending = false;  ///< the intent record (`outcome: sending`); `ok` is false
    std::optional<std::int64_t> sent_ms;      ///< first sent, ms since the epoch
    std::optional<std::int64_t> finished_ms;  ///< this outcome, ms since the epoch
    std::string session_token;
    std::string payment_url;
    std::string status;
    bool replayed = false;
    bool reused = false;
    std::string error;    ///< errc name ("validation_failed")
    std::string message;
    unsigned http_status = 0;
    unsigned attempts = 0;
    std::uint64_t latency_ms = 0;
    bool dry_run = false;  ///< validated only (--dry-run), nothing sent

    friend bool operator==(const result_record&, const result_record&) = default;
};

/// Appends the record's JSON and a '\n' to `out`.
void append_record(const result_record& r, std::string& out);

/// Reads one output line back; std::nullopt when it is not a record of ours.
std::optional<result_record> parse_record(std::string_view line);

}  // namespace catalyst::batch

#endif
