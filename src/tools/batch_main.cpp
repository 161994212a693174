// catalyst-batch: one payment session per input line, exactly once across crashes and reruns.
// Everything lives in src/batch (a library, so that tests reach it); see docs/batch.md.
#include "batch/tool.hpp"

int main(int argc, char** argv) { return catalyst::batch::run_tool(argc, argv); }
