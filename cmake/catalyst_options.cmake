# Compile settings shared by every catalyst target.

# Asio and Beast are compiled once, in src/asio/*.cpp, not in every unit that includes them.
# Asio keeps freed handler memory per thread for reuse, 2 blocks per kind by default: a
# thread serving several connections at once frees more than 2 before it allocates again,
# and a request then costs heap allocations. 16 lets a request cost none in steady state
# (tests/client/allocation). It changes a class layout: every unit must see the same value,
# hence a public definition like the others.
set(CATALYST_PUBLIC_DEFINITIONS
  BOOST_ASIO_SEPARATE_COMPILATION
  BOOST_BEAST_SEPARATE_COMPILATION
  BOOST_ASIO_NO_DEPRECATED
  BOOST_ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE=16)

set(CATALYST_WARNINGS -Wall -Wextra -Wpedantic)

if(CATALYST_SANITIZE)
  add_compile_options(-fsanitize=${CATALYST_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=${CATALYST_SANITIZE})
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang" AND CATALYST_SANITIZE MATCHES "undefined")
    # clang 14's function-type check puts prologue data into the split functions of coroutine
    # frames and then fails with "Cannot represent a difference across sections".
    add_compile_options(-fno-sanitize=function)
  endif()
endif()

# Profile-guided optimisation (gcc), in two builds of one build folder (scripts/build-pgo.sh
# runs both and the training between them): `generate` instruments every unit, a training run
# writes its profile to CATALYST_PGO_DIR, and `use` compiles again with it. A request runs once
# through some 80 KB of the client's code plus OpenSSL's, more than a 32 KB instruction cache
# holds; the profile puts the hot paths together, away from the error paths, and inlines where
# the calls are (bench/README.md, "the instruction cache"). Code the training never ran is
# optimised as without a profile (-fprofile-partial-training).
set(CATALYST_PGO "" CACHE STRING "Profile-guided optimisation (gcc): empty (off), generate or use")
set_property(CACHE CATALYST_PGO PROPERTY STRINGS "" generate use)
set(CATALYST_PGO_DIR "${CMAKE_BINARY_DIR}/pgo-profile" CACHE PATH
    "Where CATALYST_PGO=generate writes the profile and CATALYST_PGO=use reads it")
if(CATALYST_PGO)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    message(FATAL_ERROR "CATALYST_PGO needs gcc (got ${CMAKE_CXX_COMPILER_ID})")
  endif()
  if(CATALYST_PGO STREQUAL "generate")
    # Counters updated atomically where the target has atomics: the client's threads and the
    # training's sandbox run at once.
    add_compile_options(-fprofile-generate=${CATALYST_PGO_DIR} -fprofile-update=prefer-atomic)
    add_link_options(-fprofile-generate=${CATALYST_PGO_DIR})
  elseif(CATALYST_PGO STREQUAL "use")
    if(NOT IS_DIRECTORY "${CATALYST_PGO_DIR}")
      message(FATAL_ERROR "CATALYST_PGO=use: no profile in ${CATALYST_PGO_DIR} (build with CATALYST_PGO=generate and run the training first: scripts/build-pgo.sh)")
    endif()
    add_compile_options(-fprofile-use=${CATALYST_PGO_DIR} -fprofile-partial-training -Wno-missing-profile)
  else()
    message(FATAL_ERROR "CATALYST_PGO is '${CATALYST_PGO}': empty, generate or use")
  endif()
endif()

# Link-time optimisation: the library, the tools and whatever links them are optimised as one
# program at link time. Most of a request's instruction-cache misses are spread thin over the
# client's small functions across many files (bench/README.md, "the instruction cache"); LTO
# inlines across them and drops what nothing calls. The objects are fat (machine code beside
# gcc's intermediate code), so that the installed static library still links into a program
# built without LTO, or by another compiler. gcc only: clang 14 makes bitcode-only objects,
# which nothing but clang's own LTO could link.
option(CATALYST_LTO "Link-time optimisation of the library and everything built with it (gcc)" OFF)
if(CATALYST_LTO)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    message(FATAL_ERROR "CATALYST_LTO needs gcc (got ${CMAKE_CXX_COMPILER_ID})")
  endif()
  include(CheckIPOSupported)
  check_ipo_supported(RESULT catalyst_ipo_ok OUTPUT catalyst_ipo_why LANGUAGES CXX)
  if(NOT catalyst_ipo_ok)
    message(FATAL_ERROR "CATALYST_LTO: no link-time optimisation with this toolchain: ${catalyst_ipo_why}")
  endif()
  set(CMAKE_INTERPROCEDURAL_OPTIMIZATION ON)
  set(CMAKE_CXX_COMPILE_OPTIONS_IPO -flto=auto -ffat-lto-objects)
endif()

function(catalyst_target_defaults target)
  target_compile_options(${target} PRIVATE ${CATALYST_WARNINGS})
endfunction()

# The shared library's ABI version: while the major version is 0, every minor version may
# break it (as catalystConfigVersion.cmake's SameMinorVersion says), so it is "0.MINOR".
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(CATALYST_SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
else()
  set(CATALYST_SOVERSION ${PROJECT_VERSION_MAJOR})
endif()

# libcatalyst itself: position-independent (a static libcatalyst can be linked into a user's
# shared library) and hidden visibility, so that only what carries CATALYST_DECL
# (catalyst/export.hpp) is exported from a shared libcatalyst.
function(catalyst_library_defaults target)
  catalyst_target_defaults(${target})
  set_target_properties(${target} PROPERTIES
    POSITION_INDEPENDENT_CODE ON
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
endfunction()
