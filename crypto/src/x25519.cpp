// The X25519 recipient type (age.md): an ephemeral Diffie-Hellman share per
// stanza, the file key sealed under HKDF(shared secret, share || recipient).
#include <sodium.h>

#include <algorithm>
#include <cstring>

#include "base64.hpp"
#include "bech32.hpp"
#include "hkdf.hpp"
#include "key_schedule.hpp"
#include "valise/crypto/age.hpp"

namespace valise::crypto {
namespace {

constexpr std::string_view stanza_type = "X25519";
constexpr std::string_view wrap_label = "age-encryption.org/v1/X25519";
// Case-sensitive, as age compares them: recipients are lower case, identities upper case.
constexpr std::string_view recipient_hrp = "age";
constexpr std::string_view identity_hrp = "AGE-SECRET-KEY-";
constexpr std::size_t key_size = crypto_scalarmult_BYTES;

std::error_code error(errc e) {
  return make_error_code(e);
}

secret_array<32> wrap_key(const secret_array<32>& shared, std::span<const std::uint8_t> share,
                          std::span<const std::uint8_t> recipient) {
  std::uint8_t salt[2 * key_size];
  std::memcpy(salt, share.data(), key_size);
  std::memcpy(salt + key_size, recipient.data(), key_size);
  secret_array<32> key;
  detail::hkdf_sha256(shared.span(), salt, wrap_label, key.span());
  return key;
}

}  // namespace

result<x25519_recipient> x25519_recipient::parse(std::string_view text) {
  const auto decoded = detail::bech32_decode(text);
  if (!decoded || decoded->hrp != recipient_hrp || decoded->data.size() != key_size) {
    return error(errc::invalid_recipient);
  }
  x25519_recipient r;
  std::memcpy(r.public_key_, decoded->data.data(), key_size);
  return r;
}

std::string x25519_recipient::to_string() const {
  return detail::bech32_encode(recipient_hrp, public_key_);
}

result<std::vector<stanza>> x25519_recipient::wrap(const file_key& key) const {
  secret_array<32> ephemeral;
  randombytes_buf(ephemeral.data, sizeof ephemeral.data);
  std::uint8_t share[key_size];
  crypto_scalarmult_base(share, ephemeral.data);
  secret_array<32> shared;
  if (crypto_scalarmult(shared.data, ephemeral.data, public_key_) != 0) {
    return error(errc::invalid_recipient);  // a low-order point: the secret would be zero
  }
  stanza s{.type = std::string(stanza_type),
           .args = {detail::base64_encode(share, /*padded=*/false)},
           .body = detail::seal_file_key(wrap_key(shared, share, public_key_), key)};
  return std::vector<stanza>{std::move(s)};
}

x25519_identity x25519_identity::generate() {
  x25519_identity id;
  randombytes_buf(id.secret_key_.data, sizeof id.secret_key_.data);
  return id;
}

result<x25519_identity> x25519_identity::parse(std::string_view text) {
  auto decoded = detail::bech32_decode(text);
  if (!decoded) return error(errc::invalid_identity);
  const bool valid = decoded->hrp == identity_hrp && decoded->data.size() == key_size;
  x25519_identity id;
  if (valid) std::memcpy(id.secret_key_.data, decoded->data.data(), key_size);
  secure_zero(decoded->data.data(), decoded->data.size());
  if (!valid) return error(errc::invalid_identity);
  return id;
}

std::string x25519_identity::to_string() const {
  std::string text = detail::bech32_encode(identity_hrp, secret_key_.span());
  // ASCII only, whatever the C locale (a Turkish one maps 'i' to a dotted I).
  std::transform(text.begin(), text.end(), text.begin(), [](char c) {
    return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
  });
  return text;
}

x25519_recipient x25519_identity::to_recipient() const {
  x25519_recipient r;
  crypto_scalarmult_base(r.public_key_, secret_key_.data);
  return r;
}

result<std::optional<file_key>> x25519_identity::unwrap(std::span<const stanza> stanzas) const {
  const auto recipient = to_recipient();
  for (const auto& s : stanzas) {
    if (s.type != stanza_type) continue;
    // A stanza of our type must be well-formed, or the whole header is refused.
    if (s.args.size() != 1) return error(errc::malformed_header);
    const auto share = detail::base64_decode(s.args[0], /*padded=*/false);
    if (!share || share->size() != key_size || s.body.size() != detail::wrapped_file_key_size) {
      return error(errc::malformed_header);
    }
    secret_array<32> shared;
    if (crypto_scalarmult(shared.data, secret_key_.data, share->data()) != 0) {
      return error(errc::malformed_header);  // all-zero shared secret: a low-order share
    }
    if (auto key = detail::open_file_key(wrap_key(shared, *share, recipient.public_key_), s.body)) {
      return std::optional<file_key>(*key);
    }
  }
  return std::optional<file_key>();
}

}  // namespace valise::crypto
