// HKDF-SHA-256 is a few lines over libsodium's HMAC-SHA-256, which has no HKDF
// in the Debian 12 version (1.0.18). Intermediate keys are wiped.
#include "hkdf.hpp"

#include <sodium.h>

#include <algorithm>
#include <cassert>

#include "valise/crypto/secret.hpp"

namespace valise::crypto::detail {
namespace {

// libsodium declares its pointers nonnull: an empty span (age's HKDF has an
// empty salt) may hold a null one, which UBSan reports. Empty is empty either way.
const std::uint8_t* non_null(std::span<const std::uint8_t> bytes) {
  static constexpr std::uint8_t nothing = 0;
  return bytes.empty() ? &nothing : bytes.data();
}

// HMAC state holding a key: wiped when done.
struct hmac {
  explicit hmac(std::span<const std::uint8_t> key) {
    crypto_auth_hmacsha256_init(&state, non_null(key), key.size());
  }
  ~hmac() { secure_zero(&state, sizeof state); }
  hmac(const hmac&) = delete;
  hmac& operator=(const hmac&) = delete;
  void update(std::span<const std::uint8_t> data) {
    crypto_auth_hmacsha256_update(&state, non_null(data), data.size());
  }
  void final(std::span<std::uint8_t, 32> out) { crypto_auth_hmacsha256_final(&state, out.data()); }
  crypto_auth_hmacsha256_state state;
};

}  // namespace

void hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> message,
                 std::span<std::uint8_t, 32> out) {
  hmac h(key);
  h.update(message);
  h.final(out);
}

void hkdf_sha256(std::span<const std::uint8_t> ikm, std::span<const std::uint8_t> salt,
                 std::string_view info, std::span<std::uint8_t> out) {
  assert(out.size() <= 255 * 32);
  // Extract. An empty salt stands for 32 zero bytes (RFC 5869 section 2.2);
  // HMAC zero-pads its key, so passing it empty gives the same PRK.
  secret_array<32> prk;
  hmac_sha256(salt, ikm, prk.span());
  // Expand: T(i) = HMAC(PRK, T(i-1) || info || i).
  secret_array<32> block;
  std::size_t done = 0;
  for (std::uint8_t counter = 1; done < out.size(); ++counter) {
    hmac h(prk.span());
    if (counter > 1) h.update(block.span());
    h.update({reinterpret_cast<const std::uint8_t*>(info.data()), info.size()});
    h.update({&counter, 1});
    h.final(block.span());
    const std::size_t n = std::min<std::size_t>(block.span().size(), out.size() - done);
    std::copy_n(block.data, n, out.begin() + static_cast<std::ptrdiff_t>(done));
    done += n;
  }
}

}  // namespace valise::crypto::detail
