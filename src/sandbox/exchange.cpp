#include "sandbox/exchange.hpp"

#include "core/json_string.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace catalyst::sandbox_detail {

using detail::append_json_string;

void detail(api_response& out, unsigned status, std::string_view text) {
    out.status = status;
    out.body = "{\"detail\":";
    append_json_string(out.body, text);
    out.body += '}';
}

void detail_code(api_response& out, unsigned status, std::string_view text, std::string_view code) {
    detail(out, status, text);
    out.body.pop_back();
    out.body += ",\"code\":";
    append_json_string(out.body, code);
    out.body += '}';
}

void not_found(api_response& out) {
    out.status = 404;
    out.body = R"({"detail":"Not found."})";
}

void method_not_allowed(api_response& out, std::string_view allow) {
    detail(out, 405, "Method not allowed.");
    out.headers += "Allow: ";
    out.headers += allow;
    out.headers += "\r\n";
}

void throttled(api_response& out, unsigned seconds) {
    const auto n = std::to_string(std::max(1u, seconds));
    detail(out, 429, "Request was throttled. Expected available in " + n + " seconds.");
    out.headers += "Retry-After: " + n + "\r\n";
}

std::string field_errors_body(const field_errors& errors) {
    // Field order is kept as validate() reported it; "lead.x" paths are grouped under "lead".
    struct group {
        std::string name;
        std::vector<std::pair<std::string, std::vector<std::string>>> children;  // empty name: messages of the group itself
    };
    std::vector<group> groups;
    auto find_group = [&](std::string_view name) -> group& {
        for (auto& g : groups)
            if (g.name == name) return g;
        groups.push_back({std::string(name), {}});
        return groups.back();
    };
    auto add_to = [](group& g, std::string_view child, const std::string& msg) {
        for (auto& c : g.children)
            if (c.first == child) {
                c.second.push_back(msg);
                return;
            }
        g.children.push_back({std::string(child), {msg}});
    };
    for (const auto& e : errors) {
        std::string_view f = e.field.empty() ? std::string_view("non_field_errors") : std::string_view(e.field);
        const auto dot = f.find('.');
        if (dot == std::string_view::npos) add_to(find_group(f), "", e.message);
        else add_to(find_group(f.substr(0, dot)), f.substr(dot + 1), e.message);
    }
    auto messages = [](std::string& out, const std::vector<std::string>& ms) {
        out += '[';
        for (std::size_t i = 0; i < ms.size(); ++i) {
            if (i) out += ',';
            append_json_string(out, ms[i]);
        }
        out += ']';
    };
    std::string out = "{";
    bool first = true;
    for (const auto& g : groups) {
        if (!first) out += ',';
        first = false;
        append_json_string(out, g.name);
        out += ':';
        const bool flat = g.children.size() == 1 && g.children.front().first.empty();
        if (flat) {
            messages(out, g.children.front().second);
            continue;
        }
        // A group with both its own messages and children: the own ones go under "non_field_errors".
        out += '{';
        for (std::size_t i = 0; i < g.children.size(); ++i) {
            if (i) out += ',';
            append_json_string(out, g.children[i].first.empty() ? "non_field_errors" : g.children[i].first);
            out += ':';
            messages(out, g.children[i].second);
        }
        out += '}';
    }
    out += '}';
    return out;
}

std::string iso_time(std::chrono::system_clock::time_point t) {
    const auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - secs).count();
    const std::time_t tt = std::chrono::system_clock::to_time_t(secs);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    return buf;
}

}  // namespace catalyst::sandbox_detail
