// The keys age derives from a file key: the header MAC key and the payload key
// (age.md, "Header MAC" and "Payload"), and the stanza-body seal every native
// recipient type uses to wrap the file key.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "valise/crypto/age.hpp"

namespace valise::crypto::detail {

inline constexpr std::size_t payload_nonce_size = 16;
// A sealed file key: 16 bytes and a 16-byte Poly1305 tag.
inline constexpr std::size_t wrapped_file_key_size = 32;

// HMAC-SHA-256 of the header up to and including "---", keyed with
// HKDF(file key, salt empty, info "header").
std::array<std::uint8_t, 32> header_mac(const file_key& key, std::span<const std::uint8_t> header);
// Constant-time comparison with the MAC found in the header.
bool header_mac_matches(const file_key& key, std::span<const std::uint8_t> header,
                        std::span<const std::uint8_t, 32> mac);

// HKDF(file key, salt nonce, info "payload").
secret_array<32> payload_key(const file_key& key,
                             std::span<const std::uint8_t, payload_nonce_size> nonce);

// ChaCha20-Poly1305 with a zero nonce (each wrap key seals one file key).
std::vector<std::uint8_t> seal_file_key(const secret_array<32>& wrap_key, const file_key& key);
// nullopt if `body` is not exactly wrapped_file_key_size bytes or does not authenticate.
std::optional<file_key> open_file_key(const secret_array<32>& wrap_key,
                                      std::span<const std::uint8_t> body);

}  // namespace valise::crypto::detail
