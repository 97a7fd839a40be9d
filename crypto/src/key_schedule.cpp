// Key derivation from the file key, and file-key sealing for stanza bodies.
// Both ends (encryptor, decryptor, recipients) share these so that labels and
// sizes are written once.
#include "key_schedule.hpp"

#include <sodium.h>

#include "hkdf.hpp"

namespace valise::crypto::detail {
namespace {

constexpr std::uint8_t zero_nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES] = {};
static_assert(wrapped_file_key_size ==
              sizeof(file_key::data) + crypto_aead_chacha20poly1305_ietf_ABYTES);

}  // namespace

std::array<std::uint8_t, 32> header_mac(const file_key& key, std::span<const std::uint8_t> header) {
  secret_array<32> mac_key;
  hkdf_sha256(key.span(), {}, "header", mac_key.span());
  std::array<std::uint8_t, 32> mac{};
  hmac_sha256(mac_key.span(), header, mac);
  return mac;
}

bool header_mac_matches(const file_key& key, std::span<const std::uint8_t> header,
                        std::span<const std::uint8_t, 32> mac) {
  const auto expected = header_mac(key, header);
  return sodium_memcmp(expected.data(), mac.data(), expected.size()) == 0;
}

secret_array<32> payload_key(const file_key& key,
                             std::span<const std::uint8_t, payload_nonce_size> nonce) {
  secret_array<32> out;
  hkdf_sha256(key.span(), nonce, "payload", out.span());
  return out;
}

std::vector<std::uint8_t> seal_file_key(const secret_array<32>& wrap_key, const file_key& key) {
  std::vector<std::uint8_t> body(wrapped_file_key_size);
  crypto_aead_chacha20poly1305_ietf_encrypt(body.data(), nullptr, key.data, sizeof key.data,
                                            nullptr, 0, nullptr, zero_nonce, wrap_key.data);
  return body;
}

std::optional<file_key> open_file_key(const secret_array<32>& wrap_key,
                                      std::span<const std::uint8_t> body) {
  // The size is checked before decrypting (age.md: against partitioning oracles).
  if (body.size() != wrapped_file_key_size) return std::nullopt;
  file_key key;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(key.data, nullptr, nullptr, body.data(),
                                                body.size(), nullptr, 0, zero_nonce,
                                                wrap_key.data) != 0) {
    return std::nullopt;
  }
  return key;
}

}  // namespace valise::crypto::detail
