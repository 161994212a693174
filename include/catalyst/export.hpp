#ifndef CATALYST_EXPORT_HPP
#define CATALYST_EXPORT_HPP

// CATALYST_DECL marks what libcatalyst exports: the public API in include/catalyst/. The
// library is compiled with hidden visibility (-fvisibility=hidden), so a shared libcatalyst
// exports these declarations and nothing of its internals.
//
// ELF and Mach-O: default visibility, for the static and the shared library alike (a static
// libcatalyst linked into a user's shared library keeps its API visible there).
// Windows: dllexport while building the DLL (CATALYST_SOURCE), dllimport when using it
// (CATALYST_DYN_LINK, set by the CMake package for a shared build); nothing for a static one.

#if defined(_WIN32) || defined(__CYGWIN__)
#if defined(CATALYST_DYN_LINK) && defined(CATALYST_SOURCE)
#define CATALYST_DECL __declspec(dllexport)
#elif defined(CATALYST_DYN_LINK)
#define CATALYST_DECL __declspec(dllimport)
#else
#define CATALYST_DECL
#endif
#elif defined(__GNUC__) || defined(__clang__)
#define CATALYST_DECL __attribute__((visibility("default")))
#else
#define CATALYST_DECL
#endif

#endif
