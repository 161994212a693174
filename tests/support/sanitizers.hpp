#ifndef CATALYST_TESTS_SUPPORT_SANITIZERS_HPP
#define CATALYST_TESTS_SUPPORT_SANITIZERS_HPP

// Whether this build runs under AddressSanitizer or ThreadSanitizer (gcc defines
// __SANITIZE_*__, clang answers __has_feature). Tests that count real-time rates skip there:
// instrumented code cannot keep up with the rates they count; tests that time or size their
// work allow more time or do less. The macro is for what only the preprocessor can choose (a
// sanitizer's own interface), the constant for everything else.

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CATALYST_TEST_UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CATALYST_TEST_UNDER_SANITIZER 1
#endif
#endif
#ifndef CATALYST_TEST_UNDER_SANITIZER
#define CATALYST_TEST_UNDER_SANITIZER 0
#endif

namespace catalyst::test {

inline constexpr bool under_sanitizer = CATALYST_TEST_UNDER_SANITIZER != 0;

}  // namespace catalyst::test

#endif
