#include "kdf.hpp"

#include <sodium.h>

#include <algorithm>

#include "valise/crypto/secret.hpp"

namespace valise::crypto::detail {

void hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> message,
                 std::span<std::uint8_t, 32> out) {
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, key.data(), key.size());
  crypto_auth_hmacsha256_update(&state, message.data(), message.size());
  crypto_auth_hmacsha256_final(&state, out.data());
  secure_zero(&state, sizeof state);
}

void hkdf_sha256(std::span<const std::uint8_t> ikm, std::span<const std::uint8_t> salt,
                 std::string_view info, std::span<std::uint8_t> out) {
  // Extract: an empty salt means a block of zeros (RFC 5869 2.2), which HMAC
  // pads to anyway, so an empty key gives the same PRK.
  secret_array<32> prk;
  hmac_sha256(salt, ikm, prk.span());
  // Expand.
  secret_array<32> block;
  std::size_t done = 0;
  for (std::uint8_t counter = 1; done < out.size(); ++counter) {
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, prk.data, sizeof prk.data);
    if (counter > 1) crypto_auth_hmacsha256_update(&state, block.data, sizeof block.data);
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const std::uint8_t*>(info.data()),
                                  info.size());
    crypto_auth_hmacsha256_update(&state, &counter, 1);
    crypto_auth_hmacsha256_final(&state, block.data);
    secure_zero(&state, sizeof state);
    const std::size_t n = std::min<std::size_t>(32, out.size() - done);
    std::copy_n(block.data, n, out.begin() + static_cast<std::ptrdiff_t>(done));
    done += n;
  }
}

}  // namespace valise::crypto::detail
