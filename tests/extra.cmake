# Extra test suites of subsystems that live outside src/ (append only).
# catalyst-bench's pure parts, and its drivers against the client and an in-process sandbox.
if(CATALYST_BUILD_BENCH AND TARGET catalyst_sandbox AND EXISTS ${PROJECT_SOURCE_DIR}/bench/harness/CMakeLists.txt)
  catalyst_add_test_suite(bench catalyst_bench_driver catalyst::sandbox)
  # bench/ is added after tests/: its targets are named here before they exist (resolved at
  # generate time). soak_verdict_test.cpp needs the verdict; tools_cli_test.cpp runs the tools.
  if(TARGET catalyst_bench_tests AND EXISTS ${PROJECT_SOURCE_DIR}/bench/soak/verdict.cpp)
    target_link_libraries(catalyst_bench_tests PRIVATE catalyst_soak_core)
    add_dependencies(catalyst_bench_tests catalyst-bench catalyst-soak)
    target_compile_definitions(catalyst_bench_tests PRIVATE CATALYST_BENCH_EXE="$<TARGET_FILE:catalyst-bench>"
                                                            CATALYST_SOAK_EXE="$<TARGET_FILE:catalyst-soak>")
  endif()
endif()
# catalyst-batch's end-to-end tests run the real binary (tests/batch/e2e_test.cpp).
if(TARGET catalyst_batch_tests AND TARGET catalyst-batch)
  add_dependencies(catalyst_batch_tests catalyst-batch)
  target_compile_definitions(catalyst_batch_tests PRIVATE CATALYST_BATCH_EXE="$<TARGET_FILE:catalyst-batch>")
  if(TARGET catalyst-sandbox)
    add_dependencies(catalyst_batch_tests catalyst-sandbox)
    target_compile_definitions(catalyst_batch_tests PRIVATE CATALYST_SANDBOX_EXE="$<TARGET_FILE:catalyst-sandbox>")
  endif()
endif()
# Hardening: fault matrix, log secrets, security checks, inputs the fuzzers found.
if(TARGET catalyst_batch)
  catalyst_add_test_suite(hardening catalyst_batch catalyst::sandbox)
endif()
# The command-line layer every tool shares (src/cli).
if(TARGET catalyst_cli)
  catalyst_add_test_suite(cli catalyst_cli)
endif()
# catalyst-sandbox's command-line style (tests/sandbox/cli_style_test.cpp) checks --version.
if(TARGET catalyst_sandbox_tests AND TARGET catalyst_cli)
  target_link_libraries(catalyst_sandbox_tests PRIVATE catalyst_cli)
endif()
