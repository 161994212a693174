#ifndef CATALYST_SRC_CORE_RANDOM_HPP
#define CATALYST_SRC_CORE_RANDOM_HPP

// Non-cryptographic randomness (retry jitter, fault draws, request ids): one generator per
// thread, seeded from std::random_device. Secrets and tokens use OpenSSL's RAND_bytes.
// Exported (CATALYST_DECL): the sandbox and the command lines, outside libcatalyst, use it
// from a shared libcatalyst too.

#include <catalyst/export.hpp>

#include <random>

namespace catalyst::detail {

/// This thread's generator.
CATALYST_DECL std::mt19937_64& random_engine();

/// Uniform in [0, 1), from this thread's generator.
CATALYST_DECL double uniform01();

}  // namespace catalyst::detail

#endif
