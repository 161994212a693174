#ifndef CATALYST_BATCH_INPUT_HPP
#define CATALYST_BATCH_INPUT_HPP

#include "batch/csv.hpp"
#include "batch/key.hpp"
#include "batch/line_reader.hpp"

#include <catalyst/field_error.hpp>
#include <catalyst/session_request.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace catalyst::batch {

enum class input_format { jsonl, csv };
std::string_view to_string(input_format f) noexcept;
std::optional<input_format> parse_input_format(std::string_view s) noexcept;
/// ".jsonl", ".ndjson", ".json" -> jsonl; ".csv" -> csv (case-insensitive); else nullopt.
std::optional<input_format> format_from_path(std::string_view path) noexcept;

struct input_params {
    input_format format = input_format::jsonl;
    /// Set on every request that names no campaign.
    std::optional<std::string> default_campaign;
    /// A longer line (or CSV record) becomes an error record; its bytes are never held.
    std::size_t max_line = 64 * 1024;
};

/// One input record: a request ready to send, or the reasons it cannot be sent.
struct input_item {
    std::uint64_t line = 0;  ///< physical line where the record starts (1-based; CSV header is line 1)
    line_key key;
    session_request request;
    field_errors errors;     ///< empty: valid. Field paths and reasons, never the values.
    bool valid() const noexcept { return errors.empty(); }
};

/// A problem that makes the whole input unusable (a CSV header we cannot map): exit code 2.
class input_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Turns a byte stream into `input_item`s, one per non-empty line (JSONL) or record (CSV),
/// decoding, applying the default campaign and validating each. Empty lines get no item;
/// they are counted in `empty_lines()`. Memory is bounded by `max_line`.
class input_source {
public:
    input_source(read_function read, input_params params);

    /// The next record, or false at the end. Throws `input_error` for a bad CSV header.
    bool next(input_item& out);

    std::uint64_t empty_lines() const noexcept { return empty_lines_; }
    std::uint64_t bytes_read() const noexcept { return reader_.bytes_read(); }

private:
    void finish(input_item& out);
    /// The next line with content (empty lines counted and skipped); an oversized line
    /// fills `out` as an error item. False at the end of input.
    bool next_content_line(physical_line& pl, input_item& out);
    bool next_jsonl(input_item& out);
    bool next_csv(input_item& out);
    void read_header();
    void map_row(input_item& out);

    line_reader reader_;
    input_params params_;
    std::uint64_t empty_lines_ = 0;
    bool header_read_ = false;
    std::vector<int> columns_;  // CSV column -> field id
    std::vector<std::string> cells_;
    std::string record_;
};

/// The CSV column names understood in a header: the lead's fields and the request's others.
const std::vector<std::string_view>& csv_columns();

}  // namespace catalyst::batch

#endif
