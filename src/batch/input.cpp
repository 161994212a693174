#include "batch/input.hpp"
#include "core/text.hpp"

#include <catalyst/json.hpp>
#include <catalyst/validation.hpp>

#include <algorithm>
#include <array>
#include <charconv>

namespace catalyst::batch {
namespace {

using detail::trim;

enum field_id : int {
    f_first_name, f_last_name, f_email, f_country, f_address, f_city, f_postal_code, f_phone,
    f_campaign_id, f_customer_ip, f_amount, f_currency, f_billing_type, f_billing_frequency,
    f_trial_interval_unit, f_trial_period, f_trial_price, f_gateway_id, f_max_payment_attempts,
    f_webhook_profile_id, f_hosted_page_id, f_count
};

constexpr std::array<std::string_view, f_count> field_names{
    "first_name", "last_name", "email", "country", "address", "city", "postal_code", "phone",
    "campaign_id", "customer_ip", "amount", "currency", "billing_type", "billing_frequency",
    "trial_interval_unit", "trial_period", "trial_price", "gateway_id", "max_payment_attempts",
    "webhook_profile_id", "hosted_page_id"};

std::string field_path(int id) {
    std::string p = id <= f_phone ? "lead." : "";
    p.append(field_names[static_cast<std::size_t>(id)]);
    return p;
}

std::optional<std::string> optional_cell(const std::string& cell) {
    if (cell.empty()) return std::nullopt;
    return cell;
}

void set_int(std::optional<long long>& dst, const std::string& cell, int id, field_errors& errors) {
    if (cell.empty()) return;
    long long v = 0;
    auto r = std::from_chars(cell.data(), cell.data() + cell.size(), v);
    if (r.ec != std::errc{} || r.ptr != cell.data() + cell.size())
        errors.push_back({field_path(id), "must be an integer"});
    else
        dst = v;
}

template <class E, class Parse>
void set_enum(std::optional<E>& dst, const std::string& cell, int id, field_errors& errors, Parse parse,
              std::string_view allowed) {
    if (cell.empty()) return;
    if (auto v = parse(cell))
        dst = *v;
    else
        errors.push_back({field_path(id), "must be one of " + std::string(allowed)});
}

bool ends_with_ci(std::string_view s, std::string_view suffix) {
    if (s.size() < suffix.size()) return false;
    auto tail = s.substr(s.size() - suffix.size());
    return std::equal(tail.begin(), tail.end(), suffix.begin(), [](char a, char b) {
        return (a >= 'A' && a <= 'Z' ? a - 'A' + 'a' : a) == b;
    });
}

}  // namespace

std::string_view to_string(input_format f) noexcept { return f == input_format::csv ? "csv" : "jsonl"; }

std::optional<input_format> parse_input_format(std::string_view s) noexcept {
    if (s == "jsonl") return input_format::jsonl;
    if (s == "csv") return input_format::csv;
    return std::nullopt;
}

std::optional<input_format> format_from_path(std::string_view path) noexcept {
    if (ends_with_ci(path, ".csv")) return input_format::csv;
    if (ends_with_ci(path, ".jsonl") || ends_with_ci(path, ".ndjson") || ends_with_ci(path, ".json"))
        return input_format::jsonl;
    return std::nullopt;
}

const std::vector<std::string_view>& csv_columns() {
    static const std::vector<std::string_view> v(field_names.begin(), field_names.end());
    return v;
}

input_source::input_source(read_function read, input_params params)
    : reader_(std::move(read), params.max_line), params_(std::move(params)) {}

bool input_source::next(input_item& out) {
    out.errors.clear();
    out.request = session_request{};
    return params_.format == input_format::csv ? next_csv(out) : next_jsonl(out);
}

// Default campaign, validation and the key: the same for both formats.
void input_source::finish(input_item& out) {
    if (!out.request.campaign_id && params_.default_campaign) out.request.campaign_id = params_.default_campaign;
    out.errors = validate(out.request);
    out.key = key_of(out.request);
}

bool input_source::next_content_line(physical_line& pl, input_item& out) {
    for (;;) {
        if (!reader_.next(pl)) return false;
        if (pl.oversized) {
            out.line = pl.number;
            out.errors.push_back(
                {"non_field_errors", "line longer than " + std::to_string(params_.max_line) + " bytes"});
            out.key = key_of_raw("oversized line " + std::to_string(pl.number));
            return true;
        }
        if (!trim(pl.text).empty()) {
            out.line = pl.number;
            return true;
        }
        ++empty_lines_;
    }
}

bool input_source::next_jsonl(input_item& out) {
    physical_line pl;
    if (!next_content_line(pl, out)) return false;
    if (pl.oversized) return true;
    if (!decode(pl.text, out.request, out.errors, unknown_fields::reject)) {
        out.key = key_of_raw(pl.text);
        return true;
    }
    finish(out);
    return true;
}

void input_source::read_header() {
    header_read_ = true;
    physical_line pl;
    for (;;) {
        if (!reader_.next(pl)) return;  // empty input: no header, no records
        if (pl.oversized) throw input_error("CSV header (line " + std::to_string(pl.number) + ") is too long");
        if (!trim(pl.text).empty()) break;
        ++empty_lines_;
    }
    const auto r = parse_csv_record(pl.text, cells_);
    if (r.status != csv_status::complete)
        throw input_error("CSV header (line " + std::to_string(pl.number) + "), column " +
                          std::to_string(r.column) + ": " + std::string(r.reason));
    columns_.clear();
    std::array<bool, f_count> seen{};
    for (std::size_t i = 0; i < cells_.size(); ++i) {
        auto name = trim(cells_[i]);
        if (name.starts_with("lead.")) name.remove_prefix(5);
        auto it = std::find(field_names.begin(), field_names.end(), name);
        if (it == field_names.end())
            // The cell's text is not quoted: a data row given as the header would put a lead's
            // values into the job's logs. The column number finds it.
            throw input_error("CSV header, column " + std::to_string(i + 1) +
                              ": not a known field name (known: first_name, last_name, email, "
                              "country, address, city, postal_code, phone, campaign_id, "
                              "customer_ip, amount, currency, billing_type, billing_frequency, "
                              "trial_interval_unit, trial_period, trial_price, gateway_id, "
                              "max_payment_attempts, webhook_profile_id, hosted_page_id)");
        const auto id = static_cast<int>(it - field_names.begin());
        if (seen[static_cast<std::size_t>(id)])
            throw input_error("CSV header, column " + std::to_string(i + 1) + ": field " +
                              std::string(field_names[static_cast<std::size_t>(id)]) + " appears twice");
        seen[static_cast<std::size_t>(id)] = true;
        columns_.push_back(id);
    }
    for (int id : {f_first_name, f_last_name, f_email, f_country})
        if (!seen[static_cast<std::size_t>(id)])
            throw input_error("CSV header: required column \"" + std::string(field_names[static_cast<std::size_t>(id)]) +
                              "\" is missing");
}

void input_source::map_row(input_item& out) {
    auto& r = out.request;
    auto& e = out.errors;
    for (std::size_t i = 0; i < cells_.size(); ++i) {
        const std::string& c = cells_[i];
        const int id = columns_[i];
        switch (id) {
            case f_first_name: r.lead.first_name = c; break;
            case f_last_name: r.lead.last_name = c; break;
            case f_email: r.lead.email = c; break;
            case f_country: r.lead.country = c; break;
            case f_address: r.lead.address = optional_cell(c); break;
            case f_city: r.lead.city = optional_cell(c); break;
            case f_postal_code: r.lead.postal_code = optional_cell(c); break;
            case f_phone: r.lead.phone = optional_cell(c); break;
            case f_campaign_id: r.campaign_id = optional_cell(c); break;
            case f_customer_ip: r.customer_ip = optional_cell(c); break;
            case f_amount: r.amount = optional_cell(c); break;
            case f_currency: r.currency = optional_cell(c); break;
            case f_billing_type:
                set_enum(r.billing_type, c, id, e, parse_billing_type, "ONE_OFF, RECURRING, TRIAL_RECURRING");
                break;
            case f_billing_frequency:
                set_enum(r.billing_frequency, c, id, e, parse_billing_frequency,
                         "WEEKLY, BIWEEKLY, MONTHLY, QUARTERLY, SEMIANNUALLY, YEARLY");
                break;
            case f_trial_interval_unit:
                set_enum(r.trial_interval_unit, c, id, e, parse_trial_interval_unit, "day, week, month");
                break;
            case f_trial_period: set_int(r.trial_period, c, id, e); break;
            case f_trial_price: r.trial_price = optional_cell(c); break;
            case f_gateway_id: r.gateway_id = optional_cell(c); break;
            case f_max_payment_attempts: set_int(r.max_payment_attempts, c, id, e); break;
            case f_webhook_profile_id: r.webhook_profile_id = optional_cell(c); break;
            case f_hosted_page_id: r.hosted_page_id = optional_cell(c); break;
            default: break;
        }
    }
}

bool input_source::next_csv(input_item& out) {
    if (!header_read_) read_header();
    if (columns_.empty()) return false;
    physical_line pl;
    if (!next_content_line(pl, out)) return false;
    if (pl.oversized) return true;
    record_.assign(pl.text);
    csv_result r = parse_csv_record(record_, cells_);
    // A quoted field may hold line breaks: the record goes on over the next lines.
    while (r.status == csv_status::open_quote) {
        if (!reader_.next(pl)) {
            out.errors.push_back({"non_field_errors", "CSV quoting: quoted field in column " +
                                                          std::to_string(r.column) +
                                                          " not closed at the end of input"});
            out.key = key_of_raw(record_);
            return true;
        }
        if (pl.oversized || record_.size() + 1 + pl.text.size() > params_.max_line) {
            out.errors.push_back({"non_field_errors", "CSV record longer than " +
                                                          std::to_string(params_.max_line) +
                                                          " bytes (a quote not closed?)"});
            out.key = key_of_raw(record_);
            return true;
        }
        record_.push_back('\n');
        record_.append(pl.text);
        r = parse_csv_record(record_, cells_);
    }
    if (r.status == csv_status::malformed) {
        out.errors.push_back({"non_field_errors", "CSV quoting: column " + std::to_string(r.column) + ": " +
                                                      std::string(r.reason)});
        out.key = key_of_raw(record_);
        return true;
    }
    if (cells_.size() != columns_.size()) {
        out.errors.push_back({"non_field_errors", "CSV row has " + std::to_string(cells_.size()) +
                                                      " fields, the header has " +
                                                      std::to_string(columns_.size())});
        out.key = key_of_raw(record_);
        return true;
    }
    map_row(out);
    if (!out.errors.empty()) {
        out.key = key_of_raw(record_);
        return true;
    }
    finish(out);
    return true;
}

}  // namespace catalyst::batch
