// The scrypt recipient type (age.md): a passphrase stretched with scrypt
// (N = 2^work factor, r = 8, p = 1) seals the file key. The work factor comes
// from the file, so decryption caps it: a hostile file must not make the
// technician's machine spend gigabytes and minutes.
#include <sodium.h>

#include "base64.hpp"
#include "key_schedule.hpp"
#include "valise/crypto/age.hpp"

namespace valise::crypto {
namespace {

constexpr std::string_view stanza_type = "scrypt";
constexpr std::string_view salt_label = "age-encryption.org/v1/scrypt";
constexpr std::size_t salt_size = 16;
// Above this scrypt needs 128 GiB; age refuses it too.
constexpr int highest_work_factor = 30;

std::error_code error(errc e) {
  return make_error_code(e);
}

result<secret_array<32>> derive_wrap_key(const secret_string& passphrase,
                                         std::span<const std::uint8_t> salt, int work_factor) {
  std::uint8_t full_salt[salt_label.size() + salt_size];
  std::copy(salt_label.begin(), salt_label.end(), full_salt);
  std::copy(salt.begin(), salt.end(), full_salt + salt_label.size());
  secret_array<32> key;
  const auto text = passphrase.view();
  if (crypto_pwhash_scryptsalsa208sha256_ll(reinterpret_cast<const std::uint8_t*>(text.data()),
                                            text.size(), full_salt, sizeof full_salt,
                                            std::uint64_t{1} << work_factor, 8, 1, key.data,
                                            sizeof key.data) != 0) {
    return std::make_error_code(std::errc::not_enough_memory);
  }
  return key;
}

// "^[1-9][0-9]*$" (age.md); nullopt otherwise. Values past the highest
// supported factor saturate to it + 1, which every limit refuses.
std::optional<int> parse_work_factor(std::string_view text) {
  if (text.empty() || text[0] < '1' || text[0] > '9') return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = std::min(value * 10 + (c - '0'), highest_work_factor + 1);
  }
  return value;
}

}  // namespace

scrypt_recipient::scrypt_recipient(secret_string passphrase, int work_factor)
    : passphrase_(std::move(passphrase)), work_factor_(work_factor) {}

result<std::vector<stanza>> scrypt_recipient::wrap(const file_key& key) const {
  if (passphrase_.empty() || work_factor_ < 1) {
    return std::make_error_code(std::errc::invalid_argument);
  }
  if (work_factor_ > highest_work_factor) return error(errc::work_factor_too_large);
  std::uint8_t salt[salt_size];
  randombytes_buf(salt, sizeof salt);
  auto wrap_key = derive_wrap_key(passphrase_, salt, work_factor_);
  if (!wrap_key) return wrap_key.error();
  stanza s{.type = std::string(stanza_type),
           .args = {detail::base64_encode(salt, /*padded=*/false), std::to_string(work_factor_)},
           .body = detail::seal_file_key(*wrap_key, key)};
  return std::vector<stanza>{std::move(s)};
}

scrypt_identity::scrypt_identity(secret_string passphrase, int max_work_factor)
    : passphrase_(std::move(passphrase)), max_work_factor_(max_work_factor) {}

result<std::optional<file_key>> scrypt_identity::unwrap(std::span<const stanza> stanzas) const {
  for (const auto& s : stanzas) {
    if (s.type != stanza_type) continue;
    // A passphrase authenticates the sender only if it is the sole recipient.
    if (stanzas.size() != 1) return error(errc::scrypt_not_alone);
    if (s.args.size() != 2) return error(errc::malformed_header);
    const auto salt = detail::base64_decode(s.args[0], /*padded=*/false);
    const auto work_factor = parse_work_factor(s.args[1]);
    if (!salt || salt->size() != salt_size || !work_factor ||
        s.body.size() != detail::wrapped_file_key_size) {
      return error(errc::malformed_header);
    }
    if (*work_factor > std::min(max_work_factor_, highest_work_factor)) {
      return error(errc::work_factor_too_large);
    }
    auto wrap_key = derive_wrap_key(passphrase_, *salt, *work_factor);
    if (!wrap_key) return wrap_key.error();
    if (auto key = detail::open_file_key(*wrap_key, s.body)) return std::optional<file_key>(*key);
  }
  return std::optional<file_key>();
}

}  // namespace valise::crypto
