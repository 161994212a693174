#ifndef CATALYST_SRC_TLS_OPENSSL_BLOCK_CACHE_HPP
#define CATALYST_SRC_TLS_OPENSSL_BLOCK_CACHE_HPP

// The allocation hooks behind catalyst::install_openssl_block_cache(), for tests that call
// them directly (installing them is a one-way, process-wide step).

#include <cstddef>

namespace catalyst::detail::openssl_blocks {

void* block_malloc(std::size_t n, const char* file, int line) noexcept;
void* block_realloc(void* p, std::size_t n, const char* file, int line) noexcept;
void block_free(void* p, const char* file, int line) noexcept;

/// Which allocation hooks OpenSSL has now.
enum class hooks { openssl_defaults, block_cache, other };
hooks installed_hooks() noexcept;

}  // namespace catalyst::detail::openssl_blocks

#endif
