// install_openssl_block_cache() over another allocator's hooks: refused, and those hooks stay.
// An executable of its own: OpenSSL takes hooks only before its first allocation, and
// nothing in this one uses OpenSSL before the test does.
#include <catalyst/openssl_block_cache.hpp>

#include <gtest/gtest.h>

#include <openssl/crypto.h>

#include <atomic>
#include <cstdlib>

namespace {

std::atomic<int> foreign_calls{0};

void* foreign_malloc(std::size_t n, const char*, int) {
    ++foreign_calls;
    return std::malloc(n);
}
void* foreign_realloc(void* p, std::size_t n, const char*, int) {
    ++foreign_calls;
    return std::realloc(p, n);
}
void foreign_free(void* p, const char*, int) { std::free(p); }

TEST(openssl_block_cache, refused_over_another_allocator) {
    CRYPTO_malloc_fn m = nullptr;
    CRYPTO_realloc_fn r = nullptr;
    CRYPTO_free_fn f = nullptr;
    CRYPTO_get_mem_functions(&m, &r, &f);
    ASSERT_TRUE(m == &CRYPTO_malloc && r == &CRYPTO_realloc && f == &CRYPTO_free)
        << "OpenSSL's hooks are not its defaults at the start: the test cannot tell";
    ASSERT_EQ(CRYPTO_set_mem_functions(foreign_malloc, foreign_realloc, foreign_free), 1)
        << "OpenSSL allocated before the test: it takes no hooks any more";

    // Installing now would let the cache free the other allocator's blocks (or the reverse).
    EXPECT_FALSE(catalyst::install_openssl_block_cache());

    CRYPTO_get_mem_functions(&m, &r, &f);
    EXPECT_TRUE(m == &foreign_malloc && r == &foreign_realloc && f == &foreign_free) << "the hooks were replaced";
    void* p = OPENSSL_malloc(24);
    ASSERT_NE(p, nullptr);
    OPENSSL_free(p);
    EXPECT_GT(foreign_calls.load(), 0) << "OpenSSL no longer allocates through the other allocator";
}

}  // namespace
