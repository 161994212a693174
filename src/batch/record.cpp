#include "batch/record.hpp"

#include "batch/timestamp.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace catalyst::batch {

namespace json = boost::json;

void append_record(const result_record& r, std::string& out) {
    json::object o;
    o["line"] = r.line;
    o["key"] = r.key;
    o["outcome"] = r.sending ? "sending" : r.ok ? "ok" : "error";
    if (r.sending) {
        if (r.sent_ms) o["sent_at"] = format_utc(*r.sent_ms);
        out.append(json::serialize(o));
        out.push_back('\n');
        return;
    }
    if (r.ok) {
        if (r.dry_run) {
            o["dry_run"] = true;
        } else {
            o["session_token"] = r.session_token;
            o["payment_url"] = r.payment_url;
            o["status"] = r.status;
            o["replayed"] = r.replayed;
            o["reused"] = r.reused;
        }
    } else {
        o["error"] = r.error;
        o["message"] = r.message;
    }
    o["http_status"] = r.http_status;
    o["attempts"] = r.attempts;
    o["latency_ms"] = r.latency_ms;
    if (r.sent_ms) o["sent_at"] = format_utc(*r.sent_ms);
    if (r.finished_ms) o["finished_at"] = format_utc(*r.finished_ms);
    out.append(json::serialize(o));
    out.push_back('\n');
}

std::optional<result_record> parse_record(std::string_view line) {
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const auto& o = v.get_object();
    result_record r;
    const auto* line_no = o.if_contains("line");
    const auto* key = o.if_contains("key");
    const auto* outcome = o.if_contains("outcome");
    if (!line_no || !key || !outcome || !key->is_string() || !outcome->is_string()) return std::nullopt;
    if (line_no->is_uint64()) r.line = line_no->get_uint64();
    else if (line_no->is_int64() && line_no->get_int64() > 0) r.line = static_cast<std::uint64_t>(line_no->get_int64());
    else return std::nullopt;
    r.key = key->get_string();
    if (outcome->get_string() == "ok") r.ok = true;
    else if (outcome->get_string() == "sending") r.sending = true;
    else if (outcome->get_string() != "error") return std::nullopt;
    auto str = [&](const char* name, std::string& dst) {
        if (const auto* p = o.if_contains(name); p && p->is_string()) dst = p->get_string();
    };
    auto boolean = [&](const char* name, bool& dst) {
        if (const auto* p = o.if_contains(name); p && p->is_bool()) dst = p->get_bool();
    };
    auto number = [&](const char* name, auto& dst) {
        if (const auto* p = o.if_contains(name)) {
            if (p->is_uint64()) dst = static_cast<std::remove_reference_t<decltype(dst)>>(p->get_uint64());
            else if (p->is_int64() && p->get_int64() >= 0)
                dst = static_cast<std::remove_reference_t<decltype(dst)>>(p->get_int64());
        }
    };
    str("session_token", r.session_token);
    str("payment_url", r.payment_url);
    str("status", r.status);
    boolean("replayed", r.replayed);
    boolean("reused", r.reused);
    boolean("dry_run", r.dry_run);
    str("error", r.error);
    str("message", r.message);
    number("http_status", r.http_status);
    number("attempts", r.attempts);
    number("latency_ms", r.latency_ms);
    auto time = [&](const char* name, std::optional<std::int64_t>& dst) {
        if (const auto* p = o.if_contains(name); p && p->is_string()) dst = parse_utc(p->get_string());
    };
    time("sent_at", r.sent_ms);
    time("finished_at", r.finished_ms);
    return r;
}

}  // namespace catalyst::batch
