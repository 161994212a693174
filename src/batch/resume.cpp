#include "batch/resume.hpp"

#include "batch/record.hpp"

#include <optional>

namespace catalyst::batch {
namespace {

// The bitmap is sized by the largest line number: a number no input can reach (a damaged or
// foreign file) must not size an allocation, nor overflow `line + 1`.
constexpr std::uint64_t max_resume_line = std::uint64_t{1} << 32;

void count(resume_state& st, const result_record& r) {
    if (r.line > max_resume_line)
        throw resume_error("output file has a record for input line " + std::to_string(r.line) +
                           ", beyond any input (at most " + std::to_string(max_resume_line) + " lines)");
    if (r.line >= st.done.size()) st.done.resize(std::max<std::size_t>(r.line + 1, st.done.size() * 2));
    if (st.done[r.line]) return;
    st.done[r.line] = true;
    ++st.records;
    if (r.dry_run) ++st.dry_run;
    if (r.ok) {
        ++st.ok;
        if (st.sample_keys.size() < 256) st.sample_keys.emplace(r.line, r.key);
    } else {
        ++st.failed;
        ++st.failed_by_reason[r.error];
    }
}

}  // namespace

// Each line is judged one step late: only at the end is it known whether the last line was
// complete or torn (a crash between the bytes of one write).
resume_state scan_output(read_function read) {
    resume_state st;
    line_reader reader(std::move(read), 1 << 20);  // our records are far shorter
    physical_line pl;
    std::uint64_t offset = 0;
    std::uint64_t pending_size = 0;
    std::uint64_t pending_number = 0;
    std::optional<result_record> pending;
    bool have_pending = false;
    while (reader.next(pl)) {
        if (have_pending) {
            if (!pending)
                throw resume_error("output file line " + std::to_string(pending_number) +
                                   " is not a catalyst-batch record (wrong file?)");
            count(st, *pending);
        }
        have_pending = true;
        pending_number = pl.number;
        pending_size = pl.text.size() + 1;
        offset += pending_size;
        pending = pl.oversized ? std::nullopt : parse_record(pl.text);
    }
    if (have_pending) {
        if (offset > reader.bytes_read()) {
            // No '\n' after the last line: the write was cut. It is dropped and redone.
            st.torn = true;
            offset -= pending_size;
        } else if (!pending) {
            throw resume_error("output file line " + std::to_string(pending_number) +
                               " is not a catalyst-batch record (wrong file?)");
        } else {
            count(st, *pending);
        }
    }
    st.valid_bytes = offset;
    return st;
}

}  // namespace catalyst::batch
