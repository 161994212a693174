// The client's metrics: the Prometheus text exposition (checked by a strict checker of the
// format, itself tested against what promtool refuses), its buckets, gauges and labels, and
// the counts after real traffic through the in-process sandbox.
#include "client_fixture.hpp"

#include <catalyst/client_params.hpp>
#include <catalyst/diagnostics.hpp>
#include <catalyst/error.hpp>
#include <catalyst/metrics.hpp>

#include <boost/asio/use_future.hpp>

#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

using namespace catalyst;

using metrics = catalyst::test::client_test;

TEST_F(metrics, prometheus_text_format) {
    metrics_snapshot m;
    m.requests = 7;
    m.successes = 5;
    m.failures = 2;
    m.failures_by_errc[static_cast<int>(errc::timeout)] = 2;
    m.retries_by_reason[static_cast<int>(retry_reason::rate_limited)] = 3;
    m.latency_buckets[0] = 4;
    m.latency_buckets[3] = 1;
    m.latency_buckets.back() = 2;
    m.latency_count = 7;
    m.latency_sum_seconds = 61.5;
    m.in_flight = 1;
    m.rate_allowed = 287.5;
    m.rate_pause_seconds = 0.25;
    m.rate_waits = 12;
    m.rate_local_rejects = 3;
    const auto t = m.to_prometheus();
    EXPECT_NE(
        t.find("# TYPE catalyst_client_requests_total counter\ncatalyst_client_requests_total 7\n"),
        std::string::npos);
    EXPECT_NE(t.find("# HELP catalyst_client_requests_total "), std::string::npos);
    EXPECT_NE(t.find("catalyst_client_failures_total{code=\"timeout\"} 2\n"), std::string::npos);
    EXPECT_NE(t.find("catalyst_client_failures_total{code=\"queue_full\"} 0\n"), std::string::npos);
    EXPECT_NE(t.find("catalyst_client_retries_total{reason=\"rate_limited\"} 3\n"),
              std::string::npos);
    EXPECT_NE(t.find("# TYPE catalyst_client_request_duration_seconds histogram\n"),
              std::string::npos);
    // Cumulative buckets.
    EXPECT_NE(t.find("catalyst_client_request_duration_seconds_bucket{le=\"0.001\"} 4\n"),
              std::string::npos);
    EXPECT_NE(t.find("catalyst_client_request_duration_seconds_bucket{le=\"0.0025\"} 4\n"),
              std::string::npos);
    EXPECT_NE(t.find("catalyst_client_request_duration_seconds_bucket{le=\"0.01\"} 5\n"),
              std::string::npos);
    EXPECT_NE(t.find("catalyst_client_request_duration_seconds_bucket{le=\"30\"} 5\n"),
              std::string::npos);
    EXPECT_NE(t.find("catalyst_client_request_duration_seconds_bucket{le=\"+Inf\"} 7\n"),
              std::string::npos);
    EXPECT_NE(t.find("catalyst_client_request_duration_seconds_sum 61.5\n"), std::string::npos);
    EXPECT_NE(t.find("catalyst_client_request_duration_seconds_count 7\n"), std::string::npos);
    EXPECT_NE(t.find("# TYPE catalyst_client_in_flight gauge\ncatalyst_client_in_flight 1\n"),
              std::string::npos);
    EXPECT_NE(
        t.find("# TYPE catalyst_client_rate_allowed gauge\ncatalyst_client_rate_allowed 287.5\n"),
        std::string::npos);
    EXPECT_NE(t.find("# TYPE catalyst_client_rate_pause_seconds "
                     "gauge\ncatalyst_client_rate_pause_seconds 0.25\n"),
              std::string::npos);
    EXPECT_NE(t.find("# TYPE catalyst_client_rate_waits_total "
                     "counter\ncatalyst_client_rate_waits_total 12\n"),
              std::string::npos);
    EXPECT_NE(t.find("catalyst_client_rate_local_rejects_total 3\n"), std::string::npos);
    // Every non-comment line is "name{labels} value" or "name value".
    std::size_t pos = 0;
    while (pos < t.size()) {
        auto eol = t.find('\n', pos);
        ASSERT_NE(eol, std::string::npos);
        auto line = t.substr(pos, eol - pos);
        if (line[0] != '#') {
            EXPECT_EQ(line.rfind("catalyst_client_", 0), 0u) << line;
            EXPECT_NE(line.find(' '), std::string::npos) << line;
        }
        pos = eol + 1;
    }
}

// --- A strict checker of the Prometheus text exposition format (0.0.4) ------------------------
// What `promtool check metrics` parses and lints, for the parts we emit: HELP/TYPE once per
// family and before its samples, a family's samples together, metric and label name grammar,
// label value escapes, no duplicate series, counters named *_total, histograms with _bucket
// `le` strictly increasing up to +Inf, cumulative counts, _count equal to the +Inf bucket, and
// a _sum. Returns the problems found ("" = clean).
namespace {

bool metric_name_ok(std::string_view s) {
    if (s.empty()) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        const bool a = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        if (!a && !(i > 0 && c >= '0' && c <= '9')) return false;
    }
    return true;
}
bool label_name_ok(std::string_view s) {
    return metric_name_ok(s) && s.find(':') == std::string_view::npos && !s.starts_with("__");
}
bool value_ok(const std::string& v, double& out) {
    if (v == "+Inf") return out = std::numeric_limits<double>::infinity(), true;
    if (v == "-Inf" || v == "NaN") return out = 0, true;
    std::size_t used = 0;
    try {
        out = std::stod(v, &used);
    } catch (...) {
        return false;
    }
    return used == v.size();
}

struct series {
    std::string name;
    std::vector<std::pair<std::string, std::string>> labels;  // in order
    double value = 0;
};

std::string check_exposition(const std::string& text) {
    std::ostringstream problems;
    if (text.empty() || text.back() != '\n') problems << "text must end with a newline\n";
    std::map<std::string, std::string> type_of;
    std::set<std::string> helped, finished_families, seen_series;
    std::string current_family;
    std::vector<series> samples;
    const auto family_of = [&](const std::string& name) {
        for (const char* suffix : {"_bucket", "_sum", "_count"}) {
            const std::string sfx = suffix;
            if (name.size() > sfx.size() &&
                name.compare(name.size() - sfx.size(), sfx.size(), sfx) == 0) {
                const std::string base = name.substr(0, name.size() - sfx.size());
                if (type_of.count(base) && type_of[base] == "histogram") return base;
            }
        }
        return name;
    };
    std::istringstream in(text);
    std::size_t n = 0;
    for (std::string line; std::getline(in, line);) {
        ++n;
        const std::string where = "line " + std::to_string(n) + ": ";
        if (line.empty()) {
            problems << where << "empty line\n";
            continue;
        }
        if (line[0] == '#') {
            std::istringstream ls(line);
            std::string hash, kind, name, rest;
            ls >> hash >> kind >> name;
            std::getline(ls, rest);
            if (kind != "HELP" && kind != "TYPE") continue;  // a plain comment
            if (!metric_name_ok(name)) problems << where << "bad metric name in " << kind << "\n";
            if (finished_families.count(name) || (current_family != name && type_of.count(name)))
                problems << where << kind << " for " << name << " after its samples or twice\n";
            if (kind == "HELP") {
                if (!helped.insert(name).second)
                    problems << where << "second HELP for " << name << "\n";
                if (rest.size() < 2) problems << where << "empty HELP\n";
            } else {
                const std::string t = rest.empty() ? "" : rest.substr(1);
                if (type_of.count(name)) problems << where << "second TYPE for " << name << "\n";
                if (t != "counter" && t != "gauge" && t != "histogram" && t != "summary" &&
                    t != "untyped")
                    problems << where << "unknown type '" << t << "'\n";
                if (t == "counter" && !name.ends_with("_total"))
                    problems << where << "counter " << name << " not named *_total\n";
                type_of[name] = t;
            }
            if (current_family != name && !current_family.empty())
                finished_families.insert(current_family);
            current_family = name;
            continue;
        }
        // name{labels} value
        series s;
        std::size_t i = 0;
        while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
        s.name = line.substr(0, i);
        if (!metric_name_ok(s.name)) problems << where << "bad metric name '" << s.name << "'\n";
        std::string key = s.name + "{";
        if (i < line.size() && line[i] == '{') {
            ++i;
            std::set<std::string> names;
            while (i < line.size() && line[i] != '}') {
                std::size_t eq = line.find('=', i);
                if (eq == std::string::npos) {
                    problems << where << "label without '='\n";
                    break;
                }
                const std::string lname = line.substr(i, eq - i);
                if (!label_name_ok(lname))
                    problems << where << "bad label name '" << lname << "'\n";
                if (!names.insert(lname).second)
                    problems << where << "label " << lname << " twice\n";
                i = eq + 1;
                if (i >= line.size() || line[i] != '"') {
                    problems << where << "label value not quoted\n";
                    break;
                }
                ++i;
                std::string value;
                bool closed = false;
                while (i < line.size()) {
                    const char c = line[i++];
                    if (c == '"') {
                        closed = true;
                        break;
                    }
                    if (c == '\\') {
                        if (i >= line.size()) break;
                        const char e = line[i++];
                        if (e == 'n')
                            value += '\n';
                        else if (e == '\\' || e == '"')
                            value += e;
                        else
                            problems << where << "bad escape \\" << e << "\n";
                    } else {
                        value += c;
                    }
                }
                if (!closed) problems << where << "unterminated label value\n";
                s.labels.emplace_back(lname, value);
                key += lname + "=" + value + ",";
                if (i < line.size() && line[i] == ',') ++i;
            }
            if (i >= line.size() || line[i] != '}') problems << where << "unterminated label set\n";
            ++i;
        }
        if (i >= line.size() || line[i] != ' ') {
            problems << where << "no space before the value\n";
            continue;
        }
        std::string value = line.substr(i + 1);
        if (auto sp = value.find(' '); sp != std::string::npos)
            value = value.substr(0, sp);  // timestamp
        if (!value_ok(value, s.value)) problems << where << "bad value '" << value << "'\n";
        const std::string fam = family_of(s.name);
        if (!type_of.count(fam)) problems << where << "sample of " << fam << " without TYPE\n";
        if (fam != current_family) {
            if (finished_families.count(fam))
                problems << where << "samples of " << fam << " not together\n";
            if (!current_family.empty()) finished_families.insert(current_family);
            current_family = fam;
        }
        if (!seen_series.insert(key).second)
            problems << where << "duplicate series " << key << "\n";
        samples.push_back(std::move(s));
    }
    // Histograms: per label set without `le`.
    for (const auto& [fam, type] : type_of) {
        if (type != "histogram") continue;
        std::map<std::string, std::vector<std::pair<double, double>>>
            buckets;  // labels -> (le, count)
        std::map<std::string, double> counts;
        std::set<std::string> sums;
        for (const auto& s : samples) {
            std::string key;
            std::string le;
            for (const auto& [k, v] : s.labels) {
                if (k == "le")
                    le = v;
                else
                    key += k + "=" + v + ",";
            }
            if (s.name == fam + "_bucket") {
                double b = 0;
                if (!value_ok(le, b)) problems << fam << ": bucket without a valid le\n";
                buckets[key].emplace_back(b, s.value);
            } else if (s.name == fam + "_count") {
                counts[key] = s.value;
            } else if (s.name == fam + "_sum") {
                sums.insert(key);
            }
        }
        if (buckets.empty()) problems << fam << ": no buckets\n";
        for (const auto& [key, bs] : buckets) {
            for (std::size_t i = 1; i < bs.size(); ++i) {
                if (!(bs[i].first > bs[i - 1].first))
                    problems << fam << "{" << key << "}: le not increasing\n";
                if (bs[i].second < bs[i - 1].second)
                    problems << fam << "{" << key << "}: counts not cumulative\n";
            }
            if (bs.empty() || bs.back().first != std::numeric_limits<double>::infinity())
                problems << fam << "{" << key << "}: no +Inf bucket last\n";
            if (!counts.count(key))
                problems << fam << "{" << key << "}: no _count\n";
            else if (!bs.empty() && counts[key] != bs.back().second)
                problems << fam << "{" << key << "}: _count differs from the +Inf bucket\n";
            if (!sums.count(key)) problems << fam << "{" << key << "}: no _sum\n";
        }
    }
    return problems.str();
}

metrics_snapshot filled_snapshot() {
    metrics_snapshot m;
    m.requests = 7;
    m.successes = 5;
    m.failures = 2;
    m.failures_by_errc[static_cast<int>(errc::timeout)] = 2;
    m.latency_buckets[0] = 4;
    m.latency_buckets[3] = 1;
    m.latency_buckets.back() = 2;
    m.latency_count = 7;
    m.latency_sum_seconds = 61.5;
    return m;
}

}  // namespace

TEST_F(metrics, the_checker_catches_what_promtool_refuses) {
    // The checker must be able to fail: each of these texts breaks one rule.
    const std::string help = "# HELP x_total X.\n# TYPE x_total counter\n";
    EXPECT_EQ(check_exposition(help + "x_total 1\n"), "");
    EXPECT_NE(check_exposition(help + "x_total 1"), "");                     // no final newline
    EXPECT_NE(check_exposition(help + "x_total{a=\"1\",a=\"2\"} 1\n"), "");  // label twice
    EXPECT_NE(check_exposition(help + "x_total{1a=\"1\"} 1\n"), "");         // label name
    EXPECT_NE(check_exposition(help + "x_total{a=\"\\t\"} 1\n"), "");        // escape
    EXPECT_NE(check_exposition(help + "x_total{a=\"1\"} 1\nx_total{a=\"1\"} 2\n"),
              "");                                                            // duplicate
    EXPECT_NE(check_exposition(help + "x_total one\n"), "");                  // value
    EXPECT_NE(check_exposition(help + help + "x_total 1\n"), "");             // HELP twice
    EXPECT_NE(check_exposition("# HELP x X.\n# TYPE x counter\nx 1\n"), "");  // counter name
    EXPECT_NE(check_exposition("y 1\n"), "");                                 // no TYPE
    const std::string h = "# HELP h H.\n# TYPE h histogram\n";
    EXPECT_EQ(
        check_exposition(h + "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n"),
        "");
    EXPECT_NE(check_exposition(h + "h_bucket{le=\"1\"} 1\nh_bucket{le=\"0.5\"} "
                                   "2\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n"),
              "");
    EXPECT_NE(
        check_exposition(h + "h_bucket{le=\"1\"} 3\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n"),
        "");
    EXPECT_NE(check_exposition(h + "h_bucket{le=\"1\"} 1\nh_sum 3\nh_count 1\n"), "");  // no +Inf
    EXPECT_NE(
        check_exposition(h + "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 5\n"),
        "");
    EXPECT_NE(check_exposition(help + "x_total 1\n" + h +
                               "h_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\nx_total{a=\"b\"} 1\n"),
              "");
}

TEST_F(metrics, the_text_is_valid_exposition_format) {
    EXPECT_EQ(check_exposition(metrics_snapshot{}.to_prometheus()), "");
    EXPECT_EQ(check_exposition(filled_snapshot().to_prometheus()), "");
}

TEST_F(metrics, buckets_reach_past_the_default_overall_timeout) {
    EXPECT_GT(latency_bucket_bounds.back(), client_params{}.overall_timeout.count() / 1000.0);
    const auto t = filled_snapshot().to_prometheus();
    EXPECT_NE(t.find("catalyst_client_request_duration_seconds_bucket{le=\"120\"} 5\n"),
              std::string::npos);
}

TEST_F(metrics, gauges_and_constant_labels_with_escaped_values) {
    auto m = filled_snapshot();
    m.open_connections = 3;
    m.queued = 9;
    m.backing_off = 2;
    m.labels = {{"client", "check\"out\\eu\nx"}, {"bad-name", "dropped"}};
    const auto t = m.to_prometheus();
    EXPECT_EQ(check_exposition(t), "");
    const std::string l = "client=\"check\\\"out\\\\eu\\nx\"";
    EXPECT_NE(
        t.find("# TYPE catalyst_client_open_connections gauge\ncatalyst_client_open_connections{" +
               l + "} 3\n"),
        std::string::npos)
        << t;
    EXPECT_NE(t.find("catalyst_client_queue_depth{" + l + "} 9\n"), std::string::npos);
    EXPECT_NE(t.find("catalyst_client_backing_off{" + l + "} 2\n"), std::string::npos);
    EXPECT_NE(t.find("catalyst_client_failures_total{" + l + ",code=\"timeout\"} 2\n"),
              std::string::npos);
    EXPECT_NE(t.find("catalyst_client_request_duration_seconds_bucket{" + l + ",le=\"+Inf\"} 7\n"),
              std::string::npos);
    EXPECT_EQ(t.find("dropped"), std::string::npos);
}

TEST_F(metrics, two_clients_in_one_exposition_do_not_clash) {
    auto a = filled_snapshot();
    auto b = filled_snapshot();
    // Without labels the two clients' series are the same: the checker sees duplicates.
    EXPECT_NE(check_exposition(to_prometheus({a, b})), "");
    a.labels = {{"client", "checkout"}};
    b.labels = {{"client", "refunds"}};
    const auto t = to_prometheus({a, b});
    EXPECT_EQ(check_exposition(t), "") << t;
    EXPECT_NE(t.find("catalyst_client_requests_total{client=\"checkout\"} "
                     "7\ncatalyst_client_requests_total{client=\"refunds\"} 7\n"),
              std::string::npos)
        << t;
}

TEST_F(metrics, metrics_render_after_real_traffic) {
    start();
    client c(params());
    c.async_create_session(catalyst::test::valid_request(), boost::asio::use_future).get();
    const auto text = c.metrics().to_prometheus();
    EXPECT_NE(text.find("catalyst_client_successes_total 1\n"), std::string::npos) << text;
    EXPECT_NE(text.find("catalyst_client_connections_opened_total 1\n"), std::string::npos) << text;
    EXPECT_NE(text.find("catalyst_client_request_duration_seconds_count 1\n"), std::string::npos)
        << text;
}
