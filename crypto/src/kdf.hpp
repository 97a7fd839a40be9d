// HMAC-SHA-256 and HKDF-SHA-256 (RFC 5869) on libsodium, as age derives every key.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace valise::crypto::detail {

void hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> message,
                 std::span<std::uint8_t, 32> out);

// Fills `out` (at most 255 * 32 bytes).
void hkdf_sha256(std::span<const std::uint8_t> ikm, std::span<const std::uint8_t> salt,
                 std::string_view info, std::span<std::uint8_t> out);

inline std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace valise::crypto::detail
