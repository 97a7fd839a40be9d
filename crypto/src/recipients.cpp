// The native recipient types: X25519 keys and scrypt passphrases, and the key
// file formats age-keygen reads and writes.
#include <sodium.h>

#include <charconv>
#include <chrono>
#include <cstring>

#include "encoding.hpp"
#include "kdf.hpp"
#include "valise/crypto/age.hpp"

namespace valise::crypto {
namespace {

using detail::as_bytes;

constexpr std::string_view x25519_label = "age-encryption.org/v1/X25519";
constexpr std::string_view scrypt_label = "age-encryption.org/v1/scrypt";
constexpr std::size_t wrapped_key_size =
    sizeof(file_key::data) + crypto_aead_chacha20poly1305_ietf_ABYTES;

std::error_code error(errc e) {
  return make_error_code(e);
}

// Stanza bodies: ChaCha20-Poly1305 with a zero nonce (each wrap key is used once).
std::vector<std::uint8_t> wrap_file_key(const secret_array<32>& wrap_key, const file_key& key) {
  std::vector<std::uint8_t> body(wrapped_key_size);
  const std::uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES] = {};
  crypto_aead_chacha20poly1305_ietf_encrypt(body.data(), nullptr, key.data, sizeof key.data,
                                            nullptr, 0, nullptr, nonce, wrap_key.data);
  return body;
}

std::optional<file_key> unwrap_file_key(const secret_array<32>& wrap_key,
                                        std::span<const std::uint8_t> body) {
  file_key key;
  const std::uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES] = {};
  if (crypto_aead_chacha20poly1305_ietf_decrypt(key.data, nullptr, nullptr, body.data(),
                                                body.size(), nullptr, 0, nonce,
                                                wrap_key.data) != 0) {
    return std::nullopt;
  }
  return key;
}

std::optional<std::vector<std::uint8_t>> decode_argument(const std::string& arg, std::size_t size) {
  auto bytes = detail::base64_decode(arg, /*padded=*/false);
  if (!bytes || bytes->size() != size) return std::nullopt;
  return bytes;
}

void derive_x25519_wrap_key(const secret_array<32>& shared, std::span<const std::uint8_t> share,
                            std::span<const std::uint8_t> recipient, secret_array<32>& out) {
  std::uint8_t salt[64];
  std::memcpy(salt, share.data(), 32);
  std::memcpy(salt + 32, recipient.data(), 32);
  detail::hkdf_sha256(shared.span(), salt, x25519_label, out.span());
}

bool derive_scrypt_wrap_key(std::string_view passphrase, std::span<const std::uint8_t> salt,
                            int work_factor, secret_array<32>& out) {
  std::vector<std::uint8_t> full_salt(as_bytes(scrypt_label).begin(), as_bytes(scrypt_label).end());
  full_salt.insert(full_salt.end(), salt.begin(), salt.end());
  return crypto_pwhash_scryptsalsa208sha256_ll(
             reinterpret_cast<const std::uint8_t*>(passphrase.data()), passphrase.size(),
             full_salt.data(), full_salt.size(), std::uint64_t{1} << work_factor, 8, 1, out.data,
             sizeof out.data) == 0;
}

// Work factor as the spec wants it: decimal, no sign, no leading zero.
std::optional<int> parse_work_factor(const std::string& text) {
  if (text.empty() || text.size() > 2 || text[0] < '1' || text[0] > '9') return std::nullopt;
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

// ---- X25519 -----------------------------------------------------------------

result<x25519_recipient> x25519_recipient::parse(std::string_view text) {
  auto decoded = detail::bech32_decode(text);
  if (!decoded || decoded->hrp != "age" || decoded->data.size() != 32 ||
      text.substr(0, 4) != "age1") {
    return error(errc::invalid_recipient);
  }
  x25519_recipient r;
  std::memcpy(r.public_key_, decoded->data.data(), 32);
  return r;
}

std::string x25519_recipient::to_string() const {
  return detail::bech32_encode("age", public_key_);
}

result<std::vector<stanza>> x25519_recipient::wrap(const file_key& key) const {
  secret_array<32> ephemeral;
  randombytes_buf(ephemeral.data, sizeof ephemeral.data);
  std::uint8_t share[32];
  crypto_scalarmult_base(share, ephemeral.data);
  secret_array<32> shared;
  if (crypto_scalarmult(shared.data, ephemeral.data, public_key_) != 0) {
    return error(errc::invalid_recipient);  // a low-order point
  }
  secret_array<32> wrap_key;
  derive_x25519_wrap_key(shared, share, public_key_, wrap_key);
  stanza s{.type = "X25519",
           .args = {detail::base64_encode(share, false)},
           .body = wrap_file_key(wrap_key, key)};
  return std::vector<stanza>{std::move(s)};
}

x25519_identity x25519_identity::generate() {
  x25519_identity id;
  randombytes_buf(id.secret_key_.data, sizeof id.secret_key_.data);
  return id;
}

result<x25519_identity> x25519_identity::parse(std::string_view text) {
  auto decoded = detail::bech32_decode(text);
  if (!decoded || decoded->hrp != "age-secret-key-" || decoded->data.size() != 32) {
    if (decoded) secure_zero(decoded->data.data(), decoded->data.size());
    return error(errc::invalid_identity);
  }
  x25519_identity id;
  std::memcpy(id.secret_key_.data, decoded->data.data(), 32);
  secure_zero(decoded->data.data(), decoded->data.size());
  return id;
}

std::string x25519_identity::to_string() const {
  std::string text = detail::bech32_encode("age-secret-key-", secret_key_.span());
  for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
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
    if (s.type != "X25519") continue;
    if (s.args.size() != 1) return error(errc::malformed_header);
    const auto share = decode_argument(s.args[0], 32);
    if (!share || s.body.size() != wrapped_key_size) return error(errc::malformed_header);
    secret_array<32> shared;
    if (crypto_scalarmult(shared.data, secret_key_.data, share->data()) != 0) {
      return error(errc::malformed_header);  // all-zero shared secret
    }
    secret_array<32> wrap_key;
    derive_x25519_wrap_key(shared, *share, recipient.public_key_, wrap_key);
    if (auto key = unwrap_file_key(wrap_key, s.body)) return std::optional<file_key>(*key);
  }
  return std::optional<file_key>();
}

// ---- scrypt -----------------------------------------------------------------

scrypt_recipient::scrypt_recipient(secret_string passphrase, int work_factor)
    : passphrase_(std::move(passphrase)), work_factor_(work_factor) {}

result<std::vector<stanza>> scrypt_recipient::wrap(const file_key& key) const {
  std::uint8_t salt[16];
  randombytes_buf(salt, sizeof salt);
  secret_array<32> wrap_key;
  if (!derive_scrypt_wrap_key(passphrase_.view(), salt, work_factor_, wrap_key)) {
    return std::make_error_code(std::errc::not_enough_memory);
  }
  stanza s{.type = "scrypt",
           .args = {detail::base64_encode(salt, false), std::to_string(work_factor_)},
           .body = wrap_file_key(wrap_key, key)};
  return std::vector<stanza>{std::move(s)};
}

scrypt_identity::scrypt_identity(secret_string passphrase, int max_work_factor)
    : passphrase_(std::move(passphrase)), max_work_factor_(max_work_factor) {}

result<std::optional<file_key>> scrypt_identity::unwrap(std::span<const stanza> stanzas) const {
  for (const auto& s : stanzas) {
    if (s.type != "scrypt") continue;
    // A passphrase authenticates the sender only if it is the sole recipient.
    if (stanzas.size() != 1) return error(errc::scrypt_not_alone);
    if (s.args.size() != 2) return error(errc::malformed_header);
    const auto salt = decode_argument(s.args[0], 16);
    const auto work_factor = parse_work_factor(s.args[1]);
    if (!salt || !work_factor || s.body.size() != wrapped_key_size) {
      return error(errc::malformed_header);
    }
    if (*work_factor > max_work_factor_) return error(errc::work_factor_too_large);
    secret_array<32> wrap_key;
    if (!derive_scrypt_wrap_key(passphrase_.view(), *salt, *work_factor, wrap_key)) {
      return std::make_error_code(std::errc::not_enough_memory);
    }
    if (auto key = unwrap_file_key(wrap_key, s.body)) return std::optional<file_key>(*key);
  }
  return std::optional<file_key>();
}

// ---- key files --------------------------------------------------------------

namespace {

// Calls `on_line` for each line that is not blank or a comment.
template <class F>
result<void> for_each_key_line(std::string_view text, errc bad, F on_line) {
  while (!text.empty()) {
    const auto lf = text.find('\n');
    auto line = text.substr(0, lf);
    text = lf == std::string_view::npos ? std::string_view{} : text.substr(lf + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    if (!on_line(line)) return error(bad);
  }
  return {};
}

}  // namespace

result<std::vector<x25519_identity>> parse_identity_file(std::string_view text) {
  std::vector<x25519_identity> ids;
  auto r = for_each_key_line(text, errc::invalid_identity, [&](std::string_view line) {
    auto id = x25519_identity::parse(line);
    if (id) ids.push_back(*id);
    return id.has_value();
  });
  if (!r) return r.error();
  if (ids.empty()) return error(errc::invalid_identity);
  return ids;
}

result<std::vector<x25519_recipient>> parse_recipients_file(std::string_view text) {
  std::vector<x25519_recipient> recipients;
  auto r = for_each_key_line(text, errc::invalid_recipient, [&](std::string_view line) {
    auto recipient = x25519_recipient::parse(line);
    if (recipient) recipients.push_back(*recipient);
    return recipient.has_value();
  });
  if (!r) return r.error();
  if (recipients.empty()) return error(errc::invalid_recipient);
  return recipients;
}

std::string format_identity_file(const x25519_identity& id) {
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char created[32];
  std::strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return std::string("# created: ") + created + "\n# public key: " + id.to_recipient().to_string() +
         "\n" + id.to_string() + "\n";
}

}  // namespace valise::crypto
