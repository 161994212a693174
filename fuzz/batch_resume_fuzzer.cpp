// The batch tool's --resume: it reads back an existing output file, which may have been cut
// mid-write, edited, or be another file altogether. Bad files must end in resume_error,
// never a crash or an allocation sized by a number in the file.
// Property: writing a record read back is stable (write(read(write(r))) == write(r)).
#include "batch/record.hpp"
#include "batch/resume.hpp"
#include "fuzz_common.hpp"

#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace catalyst::batch;
    std::string_view text(reinterpret_cast<const char*>(data), size);

    if (auto r = parse_record(text)) {
        std::string out;
        append_record(*r, out);
        FUZZ_CHECK(!out.empty() && out.back() == '\n');
        auto back = parse_record(std::string_view(out).substr(0, out.size() - 1));
        FUZZ_CHECK(back);
        std::string again;
        append_record(*back, again);
        FUZZ_CHECK(again == out);
    }

    try {
        auto st = scan_output(catalyst::fuzz::piecewise_reader(text, static_cast<std::uint32_t>(size), 61));
        FUZZ_CHECK(st.valid_bytes <= size);
        FUZZ_CHECK(st.ok + st.failed == st.records);
    } catch (const resume_error&) {
    }
    return 0;
}
