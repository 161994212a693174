#include <catalyst/openssl_block_cache.hpp>

#include "tls/openssl_block_cache.hpp"

#include <openssl/crypto.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace catalyst {
namespace detail::openssl_blocks {
namespace {

constexpr std::size_t small_size = 64;  // OpenSSL's per-record blocks are 40 bytes
constexpr std::size_t header = alignof(std::max_align_t);  // keeps malloc's alignment
constexpr unsigned max_cached = 256;

// Each block starts with a header holding its size: 0 for a small (cached) block of
// `small_size` bytes, else the size asked for.
std::size_t& size_of(void* raw) noexcept { return *static_cast<std::size_t*>(raw); }
void* user(void* raw) noexcept { return static_cast<char*>(raw) + header; }
void* raw_of(void* p) noexcept { return static_cast<char*>(p) - header; }

// Trivially destructible, so that it stays usable while a thread exits: OpenSSL frees its
// per-thread state after the C++ thread_local destructors (the drain below) have run.
struct free_list {
    void* head;
    unsigned count;
    bool closed;  // the thread is exiting: free, do not keep
};
thread_local free_list cache{};

// Gives a thread's blocks back when it exits. Touched on the first block kept, which
// registers the destructor.
struct drain_at_exit {
    ~drain_at_exit() {
        cache.closed = true;
        while (void* raw = cache.head) {
            cache.head = *static_cast<void**>(user(raw));
            std::free(raw);
        }
        cache.count = 0;
    }
};
thread_local drain_at_exit drain;

// `header + n` must not wrap around: a huge request would get a tiny block.
bool too_large(std::size_t n) noexcept { return n > SIZE_MAX - header; }

}  // namespace

void* block_malloc(std::size_t n, const char*, int) noexcept {
    if (n <= small_size) {
        void* raw = cache.head;
        if (raw) {
            cache.head = *static_cast<void**>(user(raw));
            --cache.count;
        } else if (!(raw = std::malloc(header + small_size))) {
            return nullptr;
        }
        size_of(raw) = 0;
        return user(raw);
    }
    if (too_large(n)) return nullptr;
    void* raw = std::malloc(header + n);
    if (!raw) return nullptr;
    size_of(raw) = n;
    return user(raw);
}

void block_free(void* p, const char*, int) noexcept {
    if (!p) return;
    void* raw = raw_of(p);
    if (size_of(raw) == 0 && !cache.closed && cache.count < max_cached) {
        (void)&drain;  // registers the drain at this thread's exit
        *static_cast<void**>(p) = cache.head;
        cache.head = raw;
        ++cache.count;
        return;
    }
    std::free(raw);
}

void* block_realloc(void* p, std::size_t n, const char* file, int line) noexcept {
    if (!p) return block_malloc(n, file, line);
    if (n == 0) {
        block_free(p, file, line);
        return nullptr;
    }
    void* raw = raw_of(p);
    const std::size_t old = size_of(raw);
    if (old == 0 && n <= small_size) return p;
    if (old == 0) {
        void* q = block_malloc(n, file, line);
        if (!q) return nullptr;
        std::memcpy(q, p, small_size);
        block_free(p, file, line);
        return q;
    }
    if (too_large(n)) return nullptr;  // the block stays as it was, as realloc leaves it
    void* moved = std::realloc(raw, header + n);
    if (!moved) return nullptr;
    size_of(moved) = n;
    return user(moved);
}

hooks installed_hooks() noexcept {
    // OpenSSL's defaults are its own CRYPTO_malloc, CRYPTO_realloc and CRYPTO_free: crypto/mem.c
    // initialises its hooks to those three functions (each calls the C library itself while
    // its hook is still itself), and CRYPTO_get_mem_functions returns them until someone sets
    // others. So the addresses tell: those three are the defaults, ours are ours, anything
    // else is another allocator. (Were OpenSSL's own view of those addresses ever to differ
    // from ours, the defaults would look like another allocator: the cache is refused, never
    // mixed with one.)
    CRYPTO_malloc_fn m = nullptr;
    CRYPTO_realloc_fn r = nullptr;
    CRYPTO_free_fn f = nullptr;
    CRYPTO_get_mem_functions(&m, &r, &f);
    if (m == &CRYPTO_malloc && r == &CRYPTO_realloc && f == &CRYPTO_free) return hooks::openssl_defaults;
    if (m == &block_malloc && r == &block_realloc && f == &block_free) return hooks::block_cache;
    return hooks::other;
}

}  // namespace detail::openssl_blocks

bool install_openssl_block_cache() noexcept {
    using namespace detail::openssl_blocks;
    switch (installed_hooks()) {
    case hooks::block_cache: return true;  // installed already
    case hooks::other: return false;       // blocks of ours freed by another allocator, or the reverse
    case hooks::openssl_defaults: break;
    }
    return CRYPTO_set_mem_functions(block_malloc, block_realloc, block_free) == 1;
}

}  // namespace catalyst
