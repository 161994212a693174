#ifndef CATALYST_TESTS_SUPPORT_SANITIZERS_HPP
#define CATALYST_TESTS_SUPPORT_SANITIZERS_HPP

// Whether this build runs under AddressSanitizer or ThreadSanitizer (gcc defines
// __SANITIZE_*__, clang answers __has_feature). Tests that count real-time rates skip there:
// instrumented code cannot keep up with the rates they count.

namespace catalyst::test {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool under_sanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool under_sanitizer = true;
#else
inline constexpr bool under_sanitizer = false;
#endif
#else
inline constexpr bool under_sanitizer = false;
#endif

}  // namespace catalyst::test

#endif
