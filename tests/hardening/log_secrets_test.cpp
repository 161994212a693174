// Secrets and personal data never reach a log. A workload with faults on (so that error,
// retry and diagnostic paths run too) goes through the client with its logger capturing
// everything it says (the client has no level filter: the hook receives every level, trace
// included), through the sandbox (with its journal on) and through the batch tool (its
// stderr and output file); then every byte any of them produced is searched for the API key
// and for each test lead's name, email and phone. The client's logger alone is checked the
// same way over retries and reconnections with a caller's idempotency keys.
#include "batch/tool.hpp"
#include "client/client_fixture.hpp"

#include <catalyst/client.hpp>
#include <catalyst/json.hpp>
#include <catalyst/sandbox.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/use_future.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

namespace catalyst {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

using log_secrets = test::client_test;

constexpr const char* secret_key = "rk_live_S3CRETKEYabcdef0123456789";
constexpr const char* wrong_key = "rk_live_WR0NGKEYabcdef9876543210";

struct person {
    std::string first, last, email, phone;
};

std::vector<person> people() {
    std::vector<person> v;
    for (int i = 0; i < 12; ++i) {
        const std::string n = std::to_string(i);
        v.push_back({"Zebulon" + n, "Quixotica" + n + "-Marchetti",
                     "zebulon.quixotica" + n + "@secret-lead.example",
                     "+33 6 12 34 56 " + std::string(i < 10 ? "0" : "") + n});
    }
    return v;
}

std::string read_all(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// Everything that must never appear.
void expect_clean(const std::string& what, const std::string& text) {
    EXPECT_FALSE(text.empty()) << what << " produced nothing: the test would prove nothing";
    for (const char* k : {secret_key, wrong_key, "S3CRETKEY", "WR0NGKEY"})
        EXPECT_EQ(text.find(k), std::string::npos)
            << what << " contains the API key fragment " << k << ":\n"
            << text;
    for (const auto& p : people()) {
        // The email's local part and domain separately too: a log may cut at the '@'.
        for (const std::string& s :
             {p.first, p.last, p.email, p.phone, std::string("zebulon.quixotica"),
              std::string("secret-lead.example")})
            EXPECT_EQ(text.find(s), std::string::npos) << what << " contains \"" << s << "\":\n"
                                                       << text.substr(0, 4000);
    }
}

session_request request_for(const person& p, bool valid) {
    session_request r = test::valid_request(p.email);
    r.lead.first_name = p.first;
    r.lead.last_name = p.last;
    r.lead.phone = p.phone;
    r.lead.address = "1 rue du Secret";
    r.lead.city = "Paris";
    r.lead.postal_code = "75001";
    if (!valid) {
        r.lead.email = p.email + "@";  // invalid: two '@'
        r.customer_ip = "not-an-ip " + p.first;
    }
    return r;
}

TEST_F(log_secrets, no_api_key_and_no_lead_data_in_any_log) {
    const fs::path dir =
        fs::temp_directory_path() / ("catalyst-log-secrets-" + std::to_string(::getpid()));
    fs::create_directories(dir);

    sandbox_params sp;
    sp.api_keys = {secret_key};
    sp.cert_dir = (dir / "certs").string();
    sp.journal_file = (dir / "journal.jsonl").string();
    sp.threads = 2;
    sp.campaigns = default_sandbox_campaigns();
    sandbox sb(sp);
    sb.start();
    fault_params f;
    f.server_error.every_nth = 3;
    f.garbage_body.every_nth = 5;
    f.close_after_create.every_nth = 4;
    f.truncated_body.every_nth = 7;
    sb.set_faults(f);

    // --- the client, logging everything ---
    std::mutex m;
    std::string client_log, diag_text;
    auto run_client = [&](const char* key, const std::string& campaign) {
        client_params p = test::trusting(sb);
        p.api_key = key;
        p.retry.base_backoff = 1ms;
        p.retry.max_backoff = 5ms;
        std::ostringstream params_dump;
        params_dump << p;
        diag_text += params_dump.str() + "\n";
        boost::asio::io_context ctx;
        auto guard = boost::asio::make_work_guard(ctx);
        client cl(ctx, p);
        cl.set_logger([&](log_level l, std::string_view msg) {
            std::lock_guard lock(m);
            client_log += std::string(to_string(l)) + " " + std::string(msg) + "\n";
        });
        const auto ps = people();
        std::vector<diagnostics> diags(ps.size() * 2);
        unsigned done = 0;
        for (std::size_t i = 0; i < ps.size(); ++i) {
            for (bool valid : {true, false}) {
                auto req = request_for(ps[i], valid);
                req.campaign_id = campaign;
                cl.async_create_session(req, request_options{}, &diags[i * 2 + (valid ? 0 : 1)],
                                        [&](boost::system::error_code ec, session s) {
                                            std::lock_guard lock(m);
                                            diag_text += ec.message() + " " + s.token + " " +
                                                         s.payment_url + "\n";
                                            ++done;
                                        });
            }
        }
        for (int i = 0; i < 6000 && done < diags.size(); ++i) ctx.run_for(10ms);
        EXPECT_EQ(done, diags.size());
        for (const auto& d : diags) {
            diag_text += d.to_string() + "\n" + d.body_excerpt + "\n" + d.detail + "\n" +
                         d.no_retry_reason + "\n";
            for (const auto& fe : d.fields) diag_text += fe.field + ": " + fe.message + "\n";
            for (const auto& a : d.history) diag_text += a.error + "\n";
        }
        diag_text += cl.metrics().to_prometheus();
    };
    run_client(secret_key, "a1b2c3d4-e5f6-7890-abcd-ef1234567890");
    run_client(secret_key, "11111111-1111-4111-8111-111111111111");  // reject duplicates: 409s
    run_client(secret_key, "11111111-1111-4111-8111-111111111111");
    run_client(wrong_key, "a1b2c3d4-e5f6-7890-abcd-ef1234567890");  // 401s
    EXPECT_NE(client_log.find("connected"), std::string::npos) << "the logger heard nothing:\n"
                                                               << client_log;

    // --- the batch tool: stderr and its output file ---
    {
        std::ofstream in(dir / "leads.jsonl");
        for (const auto& p : people()) {
            in << to_json(request_for(p, true)) << "\n" << to_json(request_for(p, false)) << "\n";
            in << R"({"lead":{"first_name":")" << p.first << R"(","email":")" << p.email
               << R"(","bogus":1}})"
               << "\n";
            in << "{not json " << p.email << "\n";
        }
        std::ofstream(dir / "key") << secret_key << "\n";
    }
    ::setenv("CATALYST_CA_FILE", sb.ca_file().c_str(), 1);
    const std::string url = sb.base_url(), key_file = (dir / "key").string(),
                      out = (dir / "out.jsonl").string(), input = (dir / "leads.jsonl").string();
    std::vector<std::string> args = {"catalyst-batch",
                                     "--base-url",
                                     url,
                                     "--api-key-file",
                                     key_file,
                                     "--output",
                                     out,
                                     "--progress",
                                     "plain",
                                     "--progress-interval-ms",
                                     "1",
                                     "--concurrency",
                                     "4",
                                     input};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::fflush(stdout);
    std::fflush(stderr);
    const int saved_err = ::dup(2), saved_out = ::dup(1);
    const int capture = ::open((dir / "batch.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(capture, 0);
    ::dup2(capture, 2);
    ::dup2(capture, 1);
    const int rc = batch::run_tool(static_cast<int>(args.size()), argv.data());
    std::fflush(stdout);
    std::fflush(stderr);
    ::dup2(saved_err, 2);
    ::dup2(saved_out, 1);
    ::close(saved_err);
    ::close(saved_out);
    ::close(capture);
    ::unsetenv("CATALYST_CA_FILE");
    EXPECT_EQ(rc, batch::exit_failed)
        << read_all(dir / "batch.log");  // some lines are invalid on purpose
    sb.stop();

    expect_clean("client log", client_log);
    expect_clean("client diagnostics", diag_text);
    expect_clean("sandbox journal", read_all(sp.journal_file));
    expect_clean("batch stderr", read_all(dir / "batch.log"));
    expect_clean("batch output", read_all(out));
    fs::remove_all(dir);
}

TEST_F(log_secrets, logger_never_sees_secrets_or_personal_data) {
    sandbox_params sp;
    sp.faults.server_error.every_nth = 2;
    sp.faults.close_before_read.every_nth = 3;
    start(sp);
    auto p = params();
    p.threads = 1;
    p.max_connections = 2;
    client c(p);
    std::mutex m;
    std::vector<std::string> lines;
    c.set_logger([&](log_level, std::string_view msg) {
        std::lock_guard lock(m);
        lines.emplace_back(msg);
    });
    request_options o;
    o.idempotency_key = "secret-key-0123456789";
    auto r = test::valid_request("private.person@example.com");
    r.lead.first_name = "Zebediah";
    r.lead.last_name = "Quackenbush";
    r.lead.phone = "+49301234567";
    for (int i = 0; i < 10; ++i) {
        o.idempotency_key = "secret-key-" + std::to_string(i) + "-0123456789";
        try {
            c.async_create_session(r, o, boost::asio::use_future).get();
        } catch (const boost::system::system_error&) {
        }
    }
    std::lock_guard lock(m);
    EXPECT_FALSE(lines.empty());
    for (const auto& l : lines) {
        for (const char* secret :
             {"rk_test_123", "secret-key", "private.person", "Zebediah", "Quackenbush", "+4930"})
            EXPECT_EQ(l.find(secret), std::string::npos) << l;
    }
}

}  // namespace
}  // namespace catalyst
