// The age v1 file format (C2SP age.md): encrypt to recipients, decrypt with
// identities, streaming in bounded memory. A recipient wraps a file key into
// stanzas; an identity unwraps one. Everything else (header codec, STREAM payload,
// armor, bech32) is internal to this module.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "valise/crypto/io.hpp"
#include "valise/crypto/result.hpp"
#include "valise/crypto/secret.hpp"

namespace valise::crypto {

// Kinds of failure a caller can branch on. Each maps to one sentence in
// message() and one hint (what to do) in hint().
enum class errc {
  not_age_file = 1,       // input does not start like an age file (binary or armored)
  unsupported_version,    // age-encryption.org/vN other than v1
  malformed_header,       // header does not parse (stanza syntax, base64, ...)
  header_mac_mismatch,    // header parsed and a stanza unwrapped, but the MAC is wrong
  no_identity_matched,    // no identity (key or passphrase) unwraps any stanza
  work_factor_too_large,  // scrypt work factor above the configured maximum
  scrypt_not_alone,       // scrypt stanza mixed with others (spec forbids)
  payload_truncated,      // stream ended before the final chunk
  payload_tampered,       // a chunk failed authentication
  trailing_data,          // bytes after the final chunk
  armor_invalid,          // ASCII armor malformed
  invalid_recipient,      // an age1... string or recipients file entry is malformed
  invalid_identity,       // an AGE-SECRET-KEY-1... string or identity file is malformed
  no_recipients,          // encrypting with no recipient
};

const std::error_category& age_category() noexcept;
std::error_code make_error_code(errc e) noexcept;
// One line telling the user what to do about an error of this kind.
std::string_view hint(errc e) noexcept;

using file_key = secret_array<16>;

struct stanza {
  std::string type;
  std::vector<std::string> args;
  std::vector<std::uint8_t> body;
};

class recipient {
 public:
  virtual ~recipient() = default;
  virtual result<std::vector<stanza>> wrap(const file_key& key) const = 0;
};

class identity {
 public:
  virtual ~identity() = default;
  // nullopt: none of the stanzas is for this identity. Error: a stanza is for this
  // identity type but is malformed or unacceptable (fatal for the whole header).
  virtual result<std::optional<file_key>> unwrap(std::span<const stanza> stanzas) const = 0;
};

class x25519_recipient final : public recipient {
 public:
  static result<x25519_recipient> parse(std::string_view age1);
  std::string to_string() const;  // age1...
  result<std::vector<stanza>> wrap(const file_key& key) const override;

 private:
  std::uint8_t public_key_[32] = {};
  friend class x25519_identity;
};

class x25519_identity final : public identity {
 public:
  static x25519_identity generate();
  static result<x25519_identity> parse(std::string_view age_secret_key);
  std::string to_string() const;  // AGE-SECRET-KEY-1... (upper case)
  x25519_recipient to_recipient() const;
  result<std::optional<file_key>> unwrap(std::span<const stanza> stanzas) const override;

 private:
  secret_array<32> secret_key_;
};

class scrypt_recipient final : public recipient {
 public:
  explicit scrypt_recipient(secret_string passphrase, int work_factor = 18);
  result<std::vector<stanza>> wrap(const file_key& key) const override;

 private:
  secret_string passphrase_;
  int work_factor_;
};

class scrypt_identity final : public identity {
 public:
  // Refuses stanzas whose work factor exceeds max_work_factor (errc::work_factor_too_large).
  explicit scrypt_identity(secret_string passphrase, int max_work_factor = 22);
  result<std::optional<file_key>> unwrap(std::span<const stanza> stanzas) const override;

 private:
  secret_string passphrase_;
  int max_work_factor_;
};

// Identity file as age-keygen writes it: comments (#), blank lines, one
// AGE-SECRET-KEY-1... per line.
result<std::vector<x25519_identity>> parse_identity_file(std::string_view text);
// Recipients file: comments, blank lines, one age1... per line.
result<std::vector<x25519_recipient>> parse_recipients_file(std::string_view text);
// The text age-keygen writes for a new key (created/public key comments, key line).
std::string format_identity_file(const x25519_identity& id);

// A random passphrase for the out-of-band (SMS, phone) workflow: at least 100
// bits, words and digits without look-alike characters.
secret_string generate_passphrase();

struct encrypt_options {
  bool armor = false;
};

// Encrypts what is written to it into `out`. Call finish() exactly once; without
// it the output is an unterminated (invalid) age file.
class encryptor final : public byte_sink {
 public:
  static result<encryptor> create(std::span<const recipient* const> recipients, byte_sink& out,
                                  encrypt_options options = {});
  encryptor(encryptor&&) noexcept;
  encryptor& operator=(encryptor&&) noexcept;
  ~encryptor() override;

  result<void> write(bytes data) override;
  result<void> finish();

 private:
  struct impl;
  explicit encryptor(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

// Reads an age file (binary or armored, detected) from `in` and releases
// plaintext only once each chunk is authenticated. The first bad chunk is an
// error; plaintext released before it was genuine.
class decryptor final : public byte_source {
 public:
  static result<decryptor> open(byte_source& in, std::span<const identity* const> identities);
  // As above; if no identity matched and the file is passphrase-encrypted,
  // asks `passphrase` for one (so a prompt appears only for such files).
  using passphrase_fn = std::function<result<secret_string>()>;
  static result<decryptor> open(byte_source& in, std::span<const identity* const> identities,
                                const passphrase_fn& passphrase);
  decryptor(decryptor&&) noexcept;
  decryptor& operator=(decryptor&&) noexcept;
  ~decryptor() override;

  result<std::size_t> read(mutable_bytes out) override;

 private:
  struct impl;
  explicit decryptor(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace valise::crypto

template <>
struct std::is_error_code_enum<valise::crypto::errc> : std::true_type {};
