#ifndef CATALYST_BATCH_CSV_HPP
#define CATALYST_BATCH_CSV_HPP

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace catalyst::batch {

enum class csv_status {
    complete,    ///< `fields` holds the record
    open_quote,  ///< a quoted field is still open at the end: the record continues on the next line
    malformed,   ///< RFC 4180 broken; `column` and `reason` say where and how
};

struct csv_result {
    csv_status status = csv_status::complete;
    std::size_t column = 0;  ///< 1-based column of the problem
    std::string_view reason;
};

/// Splits one CSV record (RFC 4180: `,` separators, fields optionally in double quotes, `""`
/// for a quote inside a quoted field, line breaks allowed inside quotes) into `fields`.
/// `text` is the record's physical lines joined with '\n'. Strict where the RFC is: a quote
/// inside an unquoted field, or anything but `,` after a closing quote, is `malformed`.
csv_result parse_csv_record(std::string_view text, std::vector<std::string>& fields);

}  // namespace catalyst::batch

#endif
