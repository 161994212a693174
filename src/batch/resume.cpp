#include "batch/resume.hpp"

#include "batch/record.hpp"

namespace catalyst::batch {
namespace {

// The table is sized by the largest line number: a number no input can reach (a damaged or
// foreign file) must not size an allocation, nor overflow `line + 1`.
constexpr std::uint64_t max_resume_line = std::uint64_t{1} << 32;

void count(resume_state& st, const result_record& r, bool collect_retriable) {
    if (r.line > max_resume_line)
        throw resume_error("output file has a record for input line " + std::to_string(r.line) +
                           ", beyond any input (at most " + std::to_string(max_resume_line) + " lines)");
    auto& slot = st.lines.at(r.line);
    if (slot & 1) return;  // an outcome already: the first one counts
    const std::uint64_t hash = line_key_hash(r.key);
    if (r.sending) {
        // In flight: keep the earliest time the key went out.
        slot = hash;
        auto [it, fresh] = st.first_sent.try_emplace(r.line, r.sent_ms.value_or(0));
        if (!fresh && r.sent_ms && *r.sent_ms < it->second) it->second = *r.sent_ms;
        return;
    }
    slot = hash | 1;
    ++st.records;
    if (r.dry_run) ++st.dry_run;
    const bool retriable = !r.ok && r.error != "validation_failed";
    auto pending = st.first_sent.find(r.line);
    if (collect_retriable && retriable) {
        const std::int64_t sent = r.sent_ms.value_or(0);
        if (pending == st.first_sent.end()) st.first_sent.emplace(r.line, sent);
        else if (sent < pending->second) pending->second = sent;
        st.retriable.push_back(r.line);
    } else if (pending != st.first_sent.end()) {
        st.first_sent.erase(pending);
    }
    if (r.ok) {
        ++st.ok;
    } else {
        ++st.failed;
        ++st.failed_by_reason[r.error];
    }
}

[[noreturn]] void not_ours(std::uint64_t number) {
    throw resume_error("output file line " + std::to_string(number) +
                       " is not a catalyst-batch record (another program's file?); nothing of it was changed");
}

[[noreturn]] void no_header() {
    throw resume_error("output file has no catalyst-batch header on its first line: it was written by a "
                       "catalyst-batch older than 0.2.0, or by another program. Nothing in it says which API, "
                       "key, campaign or shards produced it, so it is not resumed (nothing of it was changed). "
                       "Write to a new --output file: lines whose sessions exist are replayed by a server that "
                       "still keeps their idempotency keys (see docs/batch.md, key retention)");
}

// One complete line: a header or a record of ours, or the file is refused.
void take(resume_state& st, std::string_view text, std::uint64_t number, bool collect_retriable) {
    if (looks_like_header(text)) {
        auto h = parse_header(text);
        if (!h) not_ours(number);
        st.header = std::move(*h);
        ++st.headers;
        return;
    }
    if (st.headers == 0) no_header();
    auto r = parse_record(text);
    if (!r) not_ours(number);
    count(st, *r, collect_retriable);
}

}  // namespace

std::uint64_t line_key_hash(std::string_view key) noexcept {
    std::uint64_t h = 14695981039346656037ull;  // FNV-1a over the key (itself a SHA-256 prefix)
    for (char c : key) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ull;
    }
    h &= ~std::uint64_t{1};
    return h == 0 ? 2 : h;  // never 0: 0 means "nothing recorded"
}

std::uint64_t& line_table::at(std::uint64_t line) {
    const auto c = static_cast<std::size_t>(line >> chunk_bits);
    if (c >= chunks_.size()) chunks_.resize(c + 1);
    if (!chunks_[c]) chunks_[c] = std::make_unique<std::uint64_t[]>(chunk_mask + 1);  // zeroed
    return chunks_[c][line & chunk_mask];
}

std::uint64_t line_table::last_set() const noexcept {
    for (std::size_t c = chunks_.size(); c > 0; --c) {
        if (!chunks_[c - 1]) continue;
        for (std::uint64_t i = chunk_mask + 1; i > 0; --i)
            if (chunks_[c - 1][i - 1] != 0) return ((c - 1) << chunk_bits) + (i - 1);
    }
    return 0;
}

std::size_t line_table::bytes() const noexcept {
    std::size_t n = 0;
    for (const auto& c : chunks_)
        if (c) n += (chunk_mask + 1) * sizeof(std::uint64_t);
    return n;
}

std::string check_line(const resume_state& st, std::uint64_t line, std::string_view item_key) {
    const std::uint64_t recorded = st.key_hash(line);
    if (recorded == 0 || recorded == line_key_hash(item_key)) return {};
    return "input line " + std::to_string(line) + " is not the line the output file recorded under that number " +
           "(another input, or the input was edited: a line inserted, removed or changed at or before line " +
           std::to_string(line) + "). Appending lines at the end is fine; anything else needs another --output";
}

// Each line is judged one step late: only at the end is it known whether the last line was
// complete or torn (a crash between the bytes of one write).
resume_state scan_output(read_function read, bool collect_retriable) {
    resume_state st;
    line_reader reader(std::move(read), 1 << 20);  // our records are far shorter
    physical_line pl;
    std::uint64_t offset = 0;
    std::uint64_t pending_size = 0;
    std::uint64_t pending_number = 0;
    std::string pending;
    bool pending_oversized = false;
    bool have_pending = false;
    while (reader.next(pl)) {
        if (have_pending) {
            if (pending_oversized) not_ours(pending_number);
            take(st, pending, pending_number, collect_retriable);
        }
        have_pending = true;
        pending_number = pl.number;
        pending_size = pl.text.size() + 1;
        offset += pending_size;
        pending_oversized = pl.oversized;
        pending.assign(pl.oversized ? std::string_view{} : pl.text);
    }
    if (have_pending) {
        if (offset > reader.bytes_read()) {
            // No '\n' after the last line. A whole record of ours is kept (the '\n' is added);
            // the start of one is a write cut by a crash: dropped, and its line redone. Anything
            // else is not ours, and is not touched.
            offset -= pending_size;
            const bool whole = !pending_oversized && (looks_like_header(pending) ? parse_header(pending).has_value()
                                                                                 : parse_record(pending).has_value());
            if (whole) {
                take(st, pending, pending_number, collect_retriable);
                offset += pending_size - 1;
                st.unterminated = true;
            } else if (!pending_oversized &&
                       (std::string_view("{\"header\":").starts_with(pending.substr(0, 10)) ||
                        (st.headers > 0 && std::string_view("{\"line\":").starts_with(pending.substr(0, 8))))) {
                st.torn = true;
            } else {
                not_ours(pending_number);
            }
        } else {
            if (pending_oversized) not_ours(pending_number);
            take(st, pending, pending_number, collect_retriable);
        }
    }
    st.valid_bytes = offset;
    return st;
}

}  // namespace catalyst::batch
