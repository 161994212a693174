#ifndef CATALYST_SRC_SANDBOX_SHA256_HPP
#define CATALYST_SRC_SANDBOX_SHA256_HPP

#include <array>
#include <string_view>

namespace catalyst::sandbox_detail {

using sha256_digest = std::array<unsigned char, 32>;

/// SHA-256 of `data` (OpenSSL); throws std::runtime_error when OpenSSL fails.
sha256_digest sha256(std::string_view data);

/// Equal digests, compared in constant time.
bool same_digest(const sha256_digest& a, const sha256_digest& b) noexcept;

}  // namespace catalyst::sandbox_detail

#endif
