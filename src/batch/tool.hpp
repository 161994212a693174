#ifndef CATALYST_BATCH_TOOL_HPP
#define CATALYST_BATCH_TOOL_HPP

namespace catalyst::batch {

/// Exit codes of catalyst-batch.
enum exit_code : int {
    exit_ok = 0,        ///< every line has an ok record
    exit_failed = 1,    ///< some lines have an error record
    exit_usage = 2,     ///< bad command line, configuration, input header or output file
    exit_aborted = 3,   ///< SIGINT/SIGTERM: in-flight lines finished and written, rerun resumes
};

/// The whole tool: options, configuration (file, environment, flags), the embedded sandbox
/// when no base URL is configured, the run, the summary. Returns the exit code.
int run_tool(int argc, char** argv);

}  // namespace catalyst::batch

#endif
