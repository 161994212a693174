#include "sandbox/stats.hpp"

#include "sandbox/rate_schedule.hpp"

#include "core/json_string.hpp"
#include "core/text.hpp"


namespace catalyst::sandbox_detail {

using detail::append_json_string;
using detail::append_uint;

namespace {

// The counters of sandbox_stats, by name, for the snapshot, the reset and the JSON.
struct counter_row {
    std::string_view name;
    std::atomic<std::uint64_t> stats_counters::*counter;
    std::uint64_t sandbox_stats::*field;
};

constexpr counter_row counter_rows[] = {
    {"connections", &stats_counters::connections, &sandbox_stats::connections},
    {"connections_rejected", &stats_counters::connections_rejected, &sandbox_stats::connections_rejected},
    {"requests", &stats_counters::requests, &sandbox_stats::requests},
    {"created", &stats_counters::created, &sandbox_stats::created},
    {"replayed", &stats_counters::replayed, &sandbox_stats::replayed},
    {"duplicates_rejected", &stats_counters::duplicates_rejected, &sandbox_stats::duplicates_rejected},
    {"duplicates_reused", &stats_counters::duplicates_reused, &sandbox_stats::duplicates_reused},
    {"idempotency_conflicts", &stats_counters::idempotency_conflicts, &sandbox_stats::idempotency_conflicts},
    {"idempotency_in_progress", &stats_counters::idempotency_in_progress, &sandbox_stats::idempotency_in_progress},
    {"rate_limited", &stats_counters::rate_limited, &sandbox_stats::rate_limited},
    {"malformed", &stats_counters::malformed, &sandbox_stats::malformed},
    {"sessions_evicted", &stats_counters::sessions_evicted, &sandbox_stats::sessions_evicted},
    {"idempotency_expired", &stats_counters::idempotency_expired, &sandbox_stats::idempotency_expired},
    {"idempotency_evicted", &stats_counters::idempotency_evicted, &sandbox_stats::idempotency_evicted},
};

void member(std::string& b, std::string_view name) {
    b += '"';
    b += name;
    b += "\":";
}

// `"name":value,`; `close` turns the last ',' into the object's '}'.
void put(std::string& b, std::string_view name, std::uint64_t v) {
    member(b, name);
    append_uint(b, v);
    b += ',';
}
// Rates as people write them: 400, 2.5 (Boost.JSON would write 4E2).
void put(std::string& b, std::string_view name, double v) {
    member(b, name);
    b += format_rate(v);
    b += ',';
}
void close(std::string& b) { b.back() = '}'; }

}  // namespace

std::string to_json(const sandbox_global_limit_stats& g) {
    if (!g.enabled) return "null";
    std::string b = "{\"schedule\":";
    append_json_string(b, g.schedule);
    b += ',';
    put(b, "elapsed_ms", g.elapsed_ms);
    put(b, "limit", g.limit);
    put(b, "burst", g.burst);
    put(b, "accepted", g.accepted);
    put(b, "throttled", g.throttled);
    b += "\"seconds\":[";
    for (const auto& s : g.seconds) {
        b += '{';
        put(b, "second", s.second);
        put(b, "limit", s.limit);
        put(b, "accepted", s.accepted);
        put(b, "throttled", s.throttled);
        close(b);
        b += ',';
    }
    if (b.back() == ',') b.pop_back();
    b += "]}";
    return b;
}

sandbox_stats stats_counters::snapshot() const {
    sandbox_stats s;
    for (const auto& row : counter_rows) s.*row.field = (this->*row.counter).load(std::memory_order_relaxed);
    for (unsigned i = 0; i < by_status.size(); ++i)
        if (auto v = by_status[i].load(std::memory_order_relaxed)) s.responses_by_status[i] = v;
    for (unsigned i = 0; i < faults.size(); ++i)
        if (auto v = faults[i].load(std::memory_order_relaxed))
            s.faults_injected[std::string(name(static_cast<fault_kind>(i)))] = v;
    return s;
}

void stats_counters::zero() noexcept {
    for (const auto& row : counter_rows) (this->*row.counter).store(0, std::memory_order_relaxed);
    for (auto& a : by_status) a.store(0, std::memory_order_relaxed);
    for (auto& a : faults) a.store(0, std::memory_order_relaxed);
}

std::string to_json(const sandbox_stats& s) {
    std::string b = "{";
    for (const auto& row : counter_rows) put(b, row.name, s.*row.field);
    put(b, "sessions_held", s.sessions_held);
    put(b, "idempotency_records_held", s.idempotency_records_held);
    b += "\"responses_by_status\":{";
    bool first = true;
    for (const auto& [k, v] : s.responses_by_status) {
        if (!first) b += ',';
        first = false;
        b += '"';
        append_uint(b, k);
        b += "\":";
        append_uint(b, v);
    }
    b += "},\"faults_injected\":{";
    first = true;
    for (const auto& [k, v] : s.faults_injected) {
        if (!first) b += ',';
        first = false;
        append_json_string(b, k);
        b += ':';
        append_uint(b, v);
    }
    b += "},\"global_rate_limit\":";
    b += to_json(s.global_rate_limit);
    b += '}';
    return b;
}

}  // namespace catalyst::sandbox_detail
