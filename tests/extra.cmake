# Extra test suites of subsystems that live outside src/ (append only).
if(CATALYST_BUILD_BENCH AND EXISTS ${PROJECT_SOURCE_DIR}/bench/harness/CMakeLists.txt)
  catalyst_add_test_suite(bench catalyst_bench_core)
endif()
