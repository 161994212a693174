// install_openssl_block_cache() (src/tls/openssl_block_cache.*): its allocation hooks called
// directly, and the refusal to install over OpenSSL's allocator once it is in use. (Over
// another allocator: tests/tls/foreign_hooks, an executable of its own, since hooks can be
// set only before OpenSSL's first allocation.)
#include "tls/openssl_block_cache.hpp"

#include <catalyst/openssl_block_cache.hpp>

#include <gtest/gtest.h>

#include <openssl/ssl.h>

#include <cstdint>
#include <cstring>

namespace {

using namespace catalyst::detail::openssl_blocks;

// The hooks put a header before each block: a size that would wrap `header + n` around must
// be refused, not served with a tiny block that OpenSSL then takes for a huge one.
TEST(openssl_block_cache, a_size_that_wraps_with_the_header_is_refused) {
    for (const std::size_t n : {SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 8, SIZE_MAX - 15}) {
        void* p = block_malloc(n, __FILE__, __LINE__);
        EXPECT_EQ(p, nullptr) << n;
        if (p) return;  // do not touch a block of the wrong size
    }
    void* big = block_malloc(1000, __FILE__, __LINE__);
    ASSERT_NE(big, nullptr);
    std::memset(big, 0x5a, 1000);
    void* grown = block_realloc(big, SIZE_MAX - 8, __FILE__, __LINE__);
    EXPECT_EQ(grown, nullptr);
    if (grown) return;
    EXPECT_EQ(static_cast<unsigned char*>(big)[999], 0x5a) << "a refused realloc must leave the block as it was";

    void* small = block_malloc(16, __FILE__, __LINE__);  // a cached block
    ASSERT_NE(small, nullptr);
    std::memset(small, 0x33, 16);
    grown = block_realloc(small, SIZE_MAX, __FILE__, __LINE__);
    EXPECT_EQ(grown, nullptr);
    if (grown) return;
    EXPECT_EQ(static_cast<unsigned char*>(small)[15], 0x33);

    // Ordinary sizes go on as before.
    void* moved = block_realloc(small, 4096, __FILE__, __LINE__);
    ASSERT_NE(moved, nullptr);
    EXPECT_EQ(static_cast<unsigned char*>(moved)[15], 0x33);
    block_free(moved, __FILE__, __LINE__);
    block_free(big, __FILE__, __LINE__);
}

// Here OpenSSL is in use already (the test binary's static initialisers set it up): its
// hooks are its defaults, and it is too late to install the cache.
TEST(openssl_block_cache, too_late_is_refused_and_changes_nothing) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_method());  // OpenSSL has allocated, whatever ran before
    ASSERT_NE(ctx, nullptr);
    SSL_CTX_free(ctx);
    EXPECT_EQ(installed_hooks(), hooks::openssl_defaults) << "OpenSSL's own allocator was not recognised";
    EXPECT_FALSE(catalyst::install_openssl_block_cache());
    EXPECT_EQ(installed_hooks(), hooks::openssl_defaults);
}

}  // namespace
