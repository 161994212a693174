// No container engine runs here: what can be checked is that docker/ names real flags of the
// tools and real files of the repository.
#include "process.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

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
    const std::regex opener(R"(^\s*-?\s*(command|args|entrypoint):\s*(.*)$)");
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

}  // namespace
}  // namespace catalyst::batch
