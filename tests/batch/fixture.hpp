#ifndef CATALYST_TESTS_BATCH_FIXTURE_HPP
#define CATALYST_TESTS_BATCH_FIXTURE_HPP

// The real catalyst-batch binary against an in-process sandbox started per test, in a fresh
// directory: shared by the end-to-end suites.
#include "batch/header.hpp"
#include "batch/record.hpp"
#include "process.hpp"

#include <catalyst/sandbox.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <sstream>

namespace catalyst::batch {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline const std::string exe = CATALYST_BATCH_EXE;
inline constexpr const char* campaign = "a1b2c3d4-e5f6-7890-abcd-ef1234567890";


inline std::string lead_json(int i) {
    return R"({"campaign_id":"a1b2c3d4-e5f6-7890-abcd-ef1234567890","lead":{"first_name":"Firstname)" + std::to_string(i) + R"(","last_name":"Lastname)" +
           std::to_string(i) + R"(","email":"person)" + std::to_string(i) + R"(@example.com","country":"GB"}})";
}

inline std::string leads(int n) {
    std::string s;
    for (int i = 1; i <= n; ++i) s += lead_json(i) + "\n";
    return s;
}

class batch_e2e : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("catalyst-batch-test-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        sandbox_params sp;
        sp.threads = 2;
        sb_ = std::make_unique<sandbox>(sp);
        sb_->start();
        test::spit(path("ca.pem"), sb_->ca_pem());
    }
    void TearDown() override {
        sb_->stop();
        fs::remove_all(dir_);
    }

    std::string path(const std::string& name) const { return (dir_ / name).string(); }

    std::map<std::string, std::string> env() const {
        return {{"CATALYST_BASE_URL", sb_->base_url()},
                {"CATALYST_CA_FILE", dir_.string() + "/ca.pem"},
                {"CATALYST_API_KEY", "rk_test_123"}};
    }

    test::result run(std::vector<std::string> args, std::map<std::string, std::string> e = {},
                     const std::string& stdin_path = {}) {
        if (e.empty()) e = env();
        return test::run(exe, args, e, dir_.string(), stdin_path);
    }

    // Every outcome record of an output file (headers and `sending` records left out), every
    // line checked to be a complete line of ours.
    std::vector<result_record> records(const std::string& file) {
        std::vector<result_record> v;
        std::istringstream in(test::slurp(file));
        std::string line;
        while (std::getline(in, line)) {
            if (looks_like_header(line)) {
                EXPECT_TRUE(parse_header(line)) << "not a header: " << line;
                continue;
            }
            auto r = parse_record(line);
            EXPECT_TRUE(r) << "not a record: " << line;
            if (r && !r->sending) v.push_back(*r);
        }
        return v;
    }

    // The headers of an output file, in order.
    std::vector<run_header> headers(const std::string& file) {
        std::vector<run_header> v;
        std::istringstream in(test::slurp(file));
        std::string line;
        while (std::getline(in, line))
            if (auto h = looks_like_header(line) ? parse_header(line) : std::nullopt) v.push_back(*h);
        return v;
    }

    // The ledger has no session twice for one idempotency key, and every ok token is in it.
    void expect_ledger_consistent(const std::vector<result_record>& recs) {
        const auto ledger = sb_->ledger();
        std::set<std::string> keys, tokens;
        for (const auto& e : ledger) {
            EXPECT_TRUE(keys.insert(e.idempotency_key).second) << "duplicate session for one key";
            tokens.insert(e.token);
        }
        for (const auto& r : recs)
            if (r.ok) {
                EXPECT_TRUE(tokens.count(r.session_token)) << "line " << r.line;
            }
    }

    fs::path dir_;
    std::unique_ptr<sandbox> sb_;
};

// Outcome records in a file (no header, no `sending` record): how far a run got.
inline int outcomes_in(const std::string& file) {
    std::istringstream in(test::slurp(file));
    std::string line;
    int n = 0;
    while (std::getline(in, line))
        if (line.starts_with("{\"line\":") && line.find("\"outcome\":\"sending\"") == std::string::npos) ++n;
    return n;
}

}  // namespace catalyst::batch

#endif
