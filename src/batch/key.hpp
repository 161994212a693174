#ifndef CATALYST_BATCH_KEY_HPP
#define CATALYST_BATCH_KEY_HPP

#include <catalyst/session_request.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace catalyst::batch {

/// The stable identity of one input line. Derived from the content only (never from the line
/// number), so a re-ordered or re-exported file maps each lead to the same key, and the same
/// key on every machine and every run.
struct line_key {
    std::string hex;              ///< first 128 bits of SHA-256, 32 lower-case hex digits
    std::uint64_t shard_hash = 0; ///< first 64 bits of the same digest, for sharding
};

/// A fixed, versioned encoding of every field of `req` (campaign included): our own, so that
/// a change in the JSON encoder never changes the keys of leads already sent.
std::string canonical_encoding(const session_request& req);

/// The key of a request that was read and validated.
line_key key_of(const session_request& req);

/// The key of a line that could not be read as a request (its raw bytes).
line_key key_of_raw(std::string_view raw);

/// The first `digits` (at most 64) lower-case hex digits of SHA-256 over `data`.
std::string sha256_hex(std::string_view data, std::size_t digits);

/// "cb1-" + the key: what is sent as Idempotency-Key.
std::string idempotency_key(const line_key& k);

/// One worker's part of the input: lines whose key hash is `index` modulo `count`.
struct shard_spec {
    unsigned index = 0;
    unsigned count = 1;
    bool contains(const line_key& k) const noexcept { return count <= 1 || k.shard_hash % count == index; }
};

/// "I/N" with 0 <= I < N; std::nullopt otherwise.
std::optional<shard_spec> parse_shard(std::string_view s);

}  // namespace catalyst::batch

#endif
