#include "batch/csv.hpp"

namespace catalyst::batch {

csv_result parse_csv_record(std::string_view text, std::vector<std::string>& fields) {
    fields.clear();
    fields.emplace_back();
    std::size_t i = 0;
    const std::size_t n = text.size();
    for (;;) {
        std::string& field = fields.back();
        const std::size_t column = fields.size();
        if (i < n && text[i] == '"') {
            ++i;
            for (;;) {
                if (i >= n) return {csv_status::open_quote, column, "quoted field not closed"};
                const char c = text[i++];
                if (c != '"') {
                    field.push_back(c);
                    continue;
                }
                if (i < n && text[i] == '"') {
                    field.push_back('"');
                    ++i;
                    continue;
                }
                break;
            }
            if (i == n) return {};
            if (text[i] != ',')
                return {csv_status::malformed, column, "unexpected character after a closing quote"};
            ++i;
            fields.emplace_back();
            continue;
        }
        const std::size_t start = i;
        while (i < n && text[i] != ',') {
            if (text[i] == '"') return {csv_status::malformed, column, "quote inside an unquoted field"};
            ++i;
        }
        field.assign(text.substr(start, i - start));
        if (i == n) return {};
        ++i;
        fields.emplace_back();
    }
}

}  // namespace catalyst::batch
