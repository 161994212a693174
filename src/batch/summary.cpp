#include "batch/summary.hpp"

#include "batch/timestamp.hpp"
#include "batch/tool.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

namespace catalyst::batch {

namespace json = boost::json;

std::string exit_meaning(int code) {
    switch (code) {
    case exit_ok: return "every line ok";
    case exit_failed: return "some lines failed";
    case exit_usage: return "usage, configuration, input or output error";
    case exit_aborted: return "aborted by SIGINT/SIGTERM; rerun to resume";
    default: return "unknown";
    }
}

namespace {

json::object counts_json(const run_stats& s) {
    json::object errors;
    for (const auto& [reason, n] : s.failed_by_reason) errors[reason] = n;
    json::object previous_errors;
    for (const auto& [reason, n] : s.previous_failed_by_reason) previous_errors[reason] = n;
    const auto validation = s.failed_by_reason.find("validation_failed");
    json::object c;
    c["lines_read"] = s.lines_read;
    c["skipped_already_done"] = s.skipped_done;
    c["empty_lines"] = s.empty_lines;
    c["other_shards"] = s.other_shards;
    c["records"] = s.done();
    c["sent"] = s.sent;
    c["ok"] = s.ok();
    c["created"] = s.created;
    c["replayed"] = s.replayed;
    c["reused"] = s.reused;
    c["validated_only"] = s.validated;
    c["failed"] = s.failed;
    c["validation_failed"] = validation == s.failed_by_reason.end() ? 0 : validation->second;
    c["errors"] = std::move(errors);
    c["previous_ok"] = s.previous_ok;
    c["previous_failed"] = s.previous_failed;
    c["previous_errors"] = std::move(previous_errors);
    return c;
}

[[noreturn]] void fail(const std::string& what, const std::string& path) {
    throw std::system_error(errno, std::generic_category(), "summary: cannot " + what + " " + path);
}

}  // namespace

std::string summary_json(const run_report& r, int exit_code, std::int64_t ended_ms, std::int64_t elapsed_ms) {
    const double secs = static_cast<double>(std::max<std::int64_t>(elapsed_ms, 0)) / 1000.0;
    const std::uint64_t sessions = r.stats.created + r.stats.replayed + r.stats.reused;
    json::object o;
    o["summary"] = "catalyst-batch";
    o["tool_version"] = r.header.version;
    o["started_at"] = format_utc(r.header.started_ms);
    o["ended_at"] = format_utc(ended_ms);
    o["elapsed_seconds"] = secs;
    o["target"] = r.target_known ? json::value(target_json(r.header.target)) : json::value(nullptr);
    o["api_key_sha256_8"] = r.header.key_fingerprint;
    o["campaign"] = r.header.campaign ? json::value(*r.header.campaign) : json::value(nullptr);
    o["shard"] = std::to_string(r.header.shard.index) + "/" + std::to_string(r.header.shard.count);
    o["dry_run"] = r.header.dry_run;
    o["input"] = r.input;
    o["output"] = r.output.empty() ? std::string("-") : r.output;
    o["counts"] = counts_json(r.stats);
    o["sessions_per_second"] = secs > 0 ? static_cast<double>(sessions) / secs : 0.0;
    o["allowed_rate_per_second"] = r.stats.allowed_rate ? json::value(*r.stats.allowed_rate) : json::value(nullptr);
    o["exit_code"] = exit_code;
    o["exit_meaning"] = exit_meaning(exit_code);
    o["error"] = r.error.empty() ? json::value(nullptr) : json::value(r.error);
    std::string out = json::serialize(o);
    out.push_back('\n');
    return out;
}

void write_file_atomically(const std::string& path, const std::string& data) {
    // Beside the target (a rename does not cross file systems), named after this process so
    // that two runs writing the same summary do not share a temporary.
    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) fail("create", tmp);
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int e = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            errno = e;
            fail("write", tmp);
        }
        done += static_cast<std::size_t>(n);
    }
    const bool synced = ::fsync(fd) == 0;
    const int e_sync = errno;
    if (::close(fd) != 0 || !synced) {
        const int e = synced ? errno : e_sync;
        ::unlink(tmp.c_str());
        errno = e;
        fail("sync", tmp);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int e = errno;
        ::unlink(tmp.c_str());
        errno = e;
        fail("rename over", path);
    }
    const auto slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
        ::fsync(dfd);  // the rename itself survives a power loss
        ::close(dfd);
    }
}

}  // namespace catalyst::batch
