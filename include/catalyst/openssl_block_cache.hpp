#ifndef CATALYST_OPENSSL_BLOCK_CACHE_HPP
#define CATALYST_OPENSSL_BLOCK_CACHE_HPP

#include <catalyst/export.hpp>

namespace catalyst {

/// Optional and process-wide: serves OpenSSL's small allocations from a cache per thread.
///
/// OpenSSL 3.0's record layer allocates and frees a 40-byte block each time it builds a record
/// header or a TLS 1.3 nonce (about four per request), and no API of OpenSSL avoids them. With
/// this cache installed, blocks of up to 64 bytes that a thread frees are kept (at most 256 per
/// thread, some 20 KB) and handed back to its next small allocations: in steady state a
/// request then costs no heap allocation at all. Larger allocations go to malloc as before.
///
/// Call it first in `main()`, before anything uses OpenSSL: OpenSSL accepts allocation hooks
/// only before its first allocation. Returns false, and changes nothing, when it is too late
/// or when OpenSSL's allocation hooks are not its defaults any more (another allocator was
/// installed with `CRYPTO_set_mem_functions`: blocks of one freed by the other would corrupt
/// the heap); true when the cache is installed (also when it was already).
///
/// Nothing may install OpenSSL allocation hooks after it, for the same reason: OpenSSL would
/// hand the cache's blocks to the other allocator.
///
/// It replaces OpenSSL's allocator for the whole process, which is why the library never
/// installs it on its own.
CATALYST_DECL bool install_openssl_block_cache() noexcept;

}  // namespace catalyst

#endif
