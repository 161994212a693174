// No container engine is needed here (CI has none): what can be checked is that docker/ names
// real flags of the tools and real files of the repository, that the YAML parses, that every
// folder the containers write is created in the image and owned by its user, and that the Job
// carries the settings the "restricted" profile and our exit codes need. docs/sandbox.md says
// how the image and the compose stack were run for real with podman.
#include "process.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <regex>
#include <set>

namespace catalyst::batch {
namespace {

namespace fs = std::filesystem;

const fs::path source = CATALYST_SOURCE_DIR;

std::string help_of(const std::string& exe) {
    const auto dir = fs::temp_directory_path() / ("catalyst-batch-help-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    auto r = test::run(exe, {"--help"}, {}, dir.string());
    fs::remove_all(dir);
    EXPECT_EQ(r.code, 0) << exe << ": " << r.err;
    return r.out + r.err;
}

bool names_flag(const std::string& help, const std::string& flag) {
    // The flag as a whole word: "--shard" must not pass because "--shards" is there.
    const std::regex word("(^|[^a-z0-9-])" + flag + "($|[^a-z0-9-])");
    return std::regex_search(help, word);
}

struct command_line {
    std::string file;
    int line;
    std::string text;
    bool sandbox;
};

// The lines that hand arguments to our tools: ENTRYPOINT/CMD, YAML `command:`, `args:`,
// `entrypoint:` (inline lists, or the block list that follows).
std::vector<command_line> tool_lines(const fs::path& p) {
    std::vector<command_line> out;
    std::istringstream in(test::slurp(p.string()));
    std::string line;
    int n = 0;
    bool in_block = false;
    bool block_sandbox = false;
    const std::regex opener(R"(^\s*-?\s*(command|args|entrypoint|test):\s*(.*)$)");
    std::smatch m;
    while (std::getline(in, line)) {
        ++n;
        if (line.starts_with("ENTRYPOINT") || line.starts_with("CMD")) {
            out.push_back({p.filename().string(), n, line, line.find("catalyst-sandbox") != std::string::npos});
            continue;
        }
        if (std::regex_match(line, m, opener)) {
            const bool sb = line.find("catalyst-sandbox") != std::string::npos;
            if (m[2].str().empty()) {
                in_block = true;
                block_sandbox = sb;
            } else {
                in_block = false;
                out.push_back({p.filename().string(), n, line, sb});
            }
            continue;
        }
        if (in_block && std::regex_search(line, std::regex(R"(^\s*- )"))) {
            out.push_back({p.filename().string(), n, line, block_sandbox});
            continue;
        }
        in_block = false;
    }
    return out;
}

TEST(docker, files_exist) {
    for (const char* f : {"docker/Dockerfile", "docker/compose.yaml", "docker/batch-indexed-job.yaml"})
        EXPECT_TRUE(fs::exists(source / f)) << f;
}

TEST(docker, every_flag_is_a_real_flag_of_its_tool) {
    const std::string batch_help = help_of(CATALYST_BATCH_EXE);
#ifdef CATALYST_SANDBOX_EXE
    const std::string sandbox_help = help_of(CATALYST_SANDBOX_EXE);
#else
    const std::string sandbox_help;
#endif
    int checked = 0;
    const std::regex flag(R"(--[a-z][a-z0-9-]*)");
    for (const char* f : {"docker/Dockerfile", "docker/compose.yaml", "docker/batch-indexed-job.yaml"}) {
        for (const auto& cl : tool_lines(source / f)) {
            for (auto it = std::sregex_iterator(cl.text.begin(), cl.text.end(), flag); it != std::sregex_iterator();
                 ++it) {
                const std::string name = it->str();
                const std::string& help = cl.sandbox ? sandbox_help : batch_help;
                EXPECT_TRUE(names_flag(help, name))
                    << cl.file << ":" << cl.line << ": " << name << " is not a flag of "
                    << (cl.sandbox ? "catalyst-sandbox" : "catalyst-batch");
                ++checked;
            }
        }
    }
    EXPECT_GE(checked, 10);  // the files do pass flags: an empty scan would prove nothing
}

TEST(docker, names_only_files_that_exist) {
    int checked = 0;
    // /opt/catalyst/config/X in the image is config/X of the repository (COPY config/).
    const std::regex cfg(R"(/opt/catalyst/(config/[A-Za-z0-9._-]+))");
    const std::regex copy(R"(^COPY\s+(?!--from)(.+)\s+\S+$)");
    for (const char* f : {"docker/Dockerfile", "docker/compose.yaml", "docker/batch-indexed-job.yaml"}) {
        const std::string text = test::slurp((source / f).string());
        for (auto it = std::sregex_iterator(text.begin(), text.end(), cfg); it != std::sregex_iterator(); ++it) {
            EXPECT_TRUE(fs::exists(source / (*it)[1].str())) << f << ": " << (*it)[1].str();
            ++checked;
        }
        std::istringstream in(text);
        std::string line;
        std::smatch m;
        while (std::getline(in, line)) {
            if (!std::regex_match(line, m, copy)) continue;
            std::istringstream srcs(m[1].str());
            std::string s;
            while (srcs >> s) {
                EXPECT_TRUE(fs::exists(source / s)) << f << ": COPY " << s;
                ++checked;
            }
        }
    }
    // The compose file builds with the Dockerfile it names.
    const std::string compose = test::slurp((source / "docker/compose.yaml").string());
    EXPECT_NE(compose.find("dockerfile: docker/Dockerfile"), std::string::npos);
    EXPECT_GE(checked, 5);
}

const std::vector<std::string> yaml_files = {"docker/compose.yaml", "docker/batch-indexed-job.yaml"};

/// The project's version, from `project(catalyst VERSION x.y.z ...)`.
std::string project_version() {
    const std::string cmake = test::slurp((source / "CMakeLists.txt").string());
    std::smatch m;
    if (!std::regex_search(cmake, m, std::regex(R"(project\(catalyst VERSION ([0-9.]+))"))) return "?";
    return m[1];
}

/// The YAML file as JSON through python3's yaml module; nullopt when that is not installed.
std::optional<boost::json::value> yaml_as_json(const fs::path& p) {
    const std::string cmd = "python3 -c 'import sys, json, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))' '" +
                            p.string() + "' 2>/dev/null";
    std::string out;
    if (FILE* f = ::popen(cmd.c_str(), "r")) {
        char buf[4096];
        std::size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
        if (::pclose(f) != 0) return std::nullopt;
    }
    boost::system::error_code ec;
    auto v = boost::json::parse(out, ec);
    if (ec) return std::nullopt;
    return v;
}

/// The runtime stage's RUN steps, continuation lines joined.
std::string runtime_stage_runs() {
    const std::string text = test::slurp((source / "docker/Dockerfile").string());
    const auto stage = text.rfind("\nFROM ");
    std::string joined = std::regex_replace(text.substr(stage == std::string::npos ? 0 : stage), std::regex(R"(\\\n)"), " ");
    std::string runs;
    std::istringstream in(joined);
    std::string line;
    while (std::getline(in, line))
        if (line.starts_with("RUN ")) runs += line + "\n";
    return runs;
}

/// Folders the image creates owned by uid:gid 10001 (`install -d -o 10001 -g 10001 ... DIRS`).
std::set<std::string> folders_owned_by_the_user() {
    std::set<std::string> out;
    const std::string runs = runtime_stage_runs();
    const std::regex install(R"(install\s+-d\s+-o\s+10001\s+-g\s+10001(\s+-m\s+0?[0-7]{3})?((\s+/[A-Za-z0-9/_.-]+)+))");
    for (auto it = std::sregex_iterator(runs.begin(), runs.end(), install); it != std::sregex_iterator(); ++it) {
        std::istringstream dirs((*it)[2].str());
        std::string d;
        while (dirs >> d) out.insert(d);
    }
    return out;
}

TEST(docker, yaml_is_well_formed) {
    // Structural checks that need no YAML library: no tabs, indentation in steps of 2, balanced
    // flow brackets on every line.
    for (const auto& f : yaml_files) {
        std::istringstream in(test::slurp((source / f).string()));
        std::string line;
        int n = 0;
        while (std::getline(in, line)) {
            ++n;
            EXPECT_EQ(line.find('\t'), std::string::npos) << f << ":" << n << ": a tab";
            const auto indent = line.find_first_not_of(' ');
            if (indent == std::string::npos || line[indent] == '#') continue;
            EXPECT_EQ(indent % 2, 0u) << f << ":" << n << ": odd indentation";
            int square = 0, curly = 0;
            bool quoted = false;
            for (char c : line.substr(0, line.find(" #"))) {
                if (c == '"') quoted = !quoted;
                if (quoted) continue;
                square += c == '[' ? 1 : c == ']' ? -1 : 0;
                curly += c == '{' ? 1 : c == '}' ? -1 : 0;
            }
            EXPECT_EQ(square, 0) << f << ":" << n << ": unbalanced [ ]";
            EXPECT_EQ(curly, 0) << f << ":" << n << ": unbalanced { }";
        }
    }
    for (const auto& f : yaml_files) {
        const auto v = yaml_as_json(source / f);
        if (!v) GTEST_SKIP() << "python3 with the yaml module is not installed: the full parse is skipped";
        EXPECT_TRUE(v->is_object()) << f;
    }
}

TEST(docker, the_image_creates_every_folder_the_containers_write_owned_by_its_user) {
    const std::string docker = test::slurp((source / "docker/Dockerfile").string());
    EXPECT_NE(docker.find("useradd --system --uid 10001 --gid 10001"), std::string::npos);
    EXPECT_NE(docker.find("\nUSER 10001"), std::string::npos);
    const auto owned = folders_owned_by_the_user();
    // Every mount that is not read-only, in compose ("name:/path" without ":ro") and in the Job
    // (volumeMounts without readOnly: true).
    std::set<std::string> writable;
    const std::string compose = test::slurp((source / "docker/compose.yaml").string());
    const std::regex short_volume(R"RE("[A-Za-z0-9_.-]+:(/[A-Za-z0-9/_.-]*)(:ro)?")RE");
    for (auto it = std::sregex_iterator(compose.begin(), compose.end(), short_volume); it != std::sregex_iterator(); ++it)
        if (!(*it)[2].matched) writable.insert((*it)[1]);
    const std::string job = test::slurp((source / "docker/batch-indexed-job.yaml").string());
    const std::regex mount(R"(\{name: [a-z0-9-]+, mountPath: (/[A-Za-z0-9/_.-]*)(, readOnly: true)?\})");
    for (auto it = std::sregex_iterator(job.begin(), job.end(), mount); it != std::sregex_iterator(); ++it)
        if (!(*it)[2].matched) writable.insert((*it)[1]);
    EXPECT_EQ(writable, (std::set<std::string>{"/certs", "/results", "/data"}));
    for (const auto& w : writable) EXPECT_TRUE(owned.count(w)) << w << " is mounted writable but the image does not create it owned by 10001";

    // Every output the tools are told to write lies in one of those folders; the sandbox's
    // --cert-dir too.
    int outputs = 0;
    for (const std::string& text : {compose, job}) {
        const std::regex output(R"RE((--output|--cert-dir)("?,\s*"?|\n\s*- )(/[A-Za-z0-9/_.$()-]+))RE");
        for (auto it = std::sregex_iterator(text.begin(), text.end(), output); it != std::sregex_iterator(); ++it) {
            const std::string path = (*it)[3];
            const bool inside = std::any_of(owned.begin(), owned.end(), [&](const std::string& d) {
                return path == d || path.starts_with(d + "/");
            });
            EXPECT_TRUE(inside) << (*it)[1] << " " << path << " is not in a folder the user owns";
            ++outputs;
        }
    }
    EXPECT_GE(outputs, 3);
}

TEST(docker, compose_health_check_asks_the_sandbox_itself) {
    const std::string compose = test::slurp((source / "docker/compose.yaml").string());
    EXPECT_NE(compose.find(R"(test: ["CMD", "catalyst-sandbox", "--health-check", "https://127.0.0.1:8443/sandbox/health"])"),
              std::string::npos);
    EXPECT_NE(compose.find(R"("--listen", "0.0.0.0:8443")"), std::string::npos) << "the port the health check probes";
    EXPECT_EQ(compose.find("test -s"), std::string::npos) << "a file test is not a health check";
    EXPECT_NE(compose.find("image: catalyst:" + project_version()), std::string::npos);
    EXPECT_EQ(compose.find(":latest"), std::string::npos);
}

TEST(docker, the_job_is_versioned_restricted_and_maps_our_exit_codes) {
    const auto v = yaml_as_json(source / "docker/batch-indexed-job.yaml");
    if (!v) GTEST_SKIP() << "python3 with the yaml module is not installed";
    const auto& spec = v->at("spec");
    EXPECT_EQ(spec.at("completionMode").as_string(), "Indexed");
    EXPECT_EQ(spec.at("podReplacementPolicy").as_string(), "Failed");
    const auto& pod = spec.at("template").at("spec");
    EXPECT_EQ(pod.at("restartPolicy").as_string(), "Never");  // required by podFailurePolicy
    const auto& psc = pod.at("securityContext");
    EXPECT_EQ(psc.at("runAsNonRoot").as_bool(), true);
    EXPECT_EQ(psc.at("runAsUser").as_int64(), 10001);
    EXPECT_EQ(psc.at("fsGroup").as_int64(), 10001);
    EXPECT_EQ(psc.at("seccompProfile").at("type").as_string(), "RuntimeDefault");
    const auto& containers = pod.at("containers").as_array();
    ASSERT_EQ(containers.size(), 1u);
    const auto& c = containers[0];
    EXPECT_EQ(c.at("image").as_string(), "catalyst:" + project_version());
    EXPECT_EQ(c.at("imagePullPolicy").as_string(), "IfNotPresent");
    const auto& csc = c.at("securityContext");
    EXPECT_EQ(csc.at("allowPrivilegeEscalation").as_bool(), false);
    EXPECT_EQ(csc.at("capabilities").at("drop").as_array(), boost::json::array({"ALL"}));
    EXPECT_FALSE(csc.as_object().contains("privileged") && csc.at("privileged").as_bool());

    // catalyst-batch: 1 some leads failed (the index is done), 2 bad config (all would fail),
    // 3 aborted (retry).
    std::map<std::int64_t, std::string> action_of;
    bool disruption_ignored = false;
    for (const auto& rule : spec.at("podFailurePolicy").at("rules").as_array()) {
        const auto action = std::string(rule.at("action").as_string());
        if (rule.as_object().contains("onExitCodes")) {
            const auto& e = rule.at("onExitCodes");
            EXPECT_EQ(e.at("containerName").as_string(), c.at("name").as_string());
            EXPECT_EQ(e.at("operator").as_string(), "In");
            for (const auto& code : e.at("values").as_array()) action_of[code.as_int64()] = action;
        } else {
            for (const auto& cond : rule.at("onPodConditions").as_array())
                disruption_ignored |= cond.at("type").as_string() == "DisruptionTarget" && action == "Ignore";
        }
    }
    EXPECT_EQ(action_of[1], "FailIndex");
    EXPECT_EQ(action_of[2], "FailJob");
    EXPECT_EQ(action_of[3], "Count");
    EXPECT_TRUE(disruption_ignored);
}

}  // namespace
}  // namespace catalyst::batch
