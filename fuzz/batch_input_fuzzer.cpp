// The batch tool's input: JSONL and CSV streamed through its line reader in uneven read
// sizes, every record decoded, defaulted and validated.
// Byte 0 picks the format and the line limit, bytes 1-2 the read pattern.
// Properties: the whole input is read; records come in increasing line order; a record with errors names fields; an
// input_error happens only for CSV (its header); memory stays bounded by the line limit
// (ASan's RSS limit catches a reader that buffers the whole input).
#include "batch/csv.hpp"
#include "batch/input.hpp"
#include "fuzz_common.hpp"

#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace catalyst;
    using namespace catalyst::batch;
    if (size < 3) return 0;
    const bool csv = data[0] & 1;
    const std::size_t max_line = (data[0] & 2) ? 64 : 64 * 1024;
    const std::uint32_t seed = data[1] | (static_cast<std::uint32_t>(data[2]) << 8);
    std::string_view text(reinterpret_cast<const char*>(data) + 3, size - 3);

    // The CSV record splitter on its own, on the raw text.
    if (csv) {
        std::vector<std::string> fields;
        auto r = parse_csv_record(text, fields);
        if (r.status == csv_status::malformed) FUZZ_CHECK(r.column >= 1 && !r.reason.empty());
    }

    input_params params;
    params.format = csv ? input_format::csv : input_format::jsonl;
    params.max_line = max_line;
    if (data[0] & 4) params.default_campaign = "a1b2c3d4-e5f6-7890-abcd-ef1234567890";
    input_source src(fuzz::piecewise_reader(text, seed, 1 + (seed % 97)), params);
    input_item item;
    std::uint64_t last_line = 0;
    std::size_t records = 0;
    try {
        while (src.next(item)) {
            FUZZ_CHECK(item.line > last_line);
            last_line = item.line;
            FUZZ_CHECK(item.key.hex.size() == 32);
            for (const auto& e : item.errors) FUZZ_CHECK(!e.field.empty() && !e.message.empty());
            FUZZ_CHECK(++records <= size + 1);
        }
        FUZZ_CHECK(src.bytes_read() == text.size());  // read to the end, nothing dropped
    } catch (const input_error&) {
        FUZZ_CHECK(csv);
    }
    return 0;
}
