// HMAC-SHA-256 and HKDF-SHA-256 (RFC 5869) on libsodium: age derives every key
// (wrap keys, header MAC key, payload key) with them.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace valise::crypto::detail {

void hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> message,
                 std::span<std::uint8_t, 32> out);

// Extract with `salt`, then expand with `info` into `out` (at most 255 * 32 bytes).
void hkdf_sha256(std::span<const std::uint8_t> ikm, std::span<const std::uint8_t> salt,
                 std::string_view info, std::span<std::uint8_t> out);

}  // namespace valise::crypto::detail
