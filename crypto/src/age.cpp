// Encryptor and decryptor: the header (stanzas + MAC) around the STREAM payload,
// optionally inside ASCII armor; plus the error category and small helpers.
#include "valise/crypto/age.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>

#include "armor.hpp"
#include "header.hpp"
#include "kdf.hpp"
#include "stream.hpp"

namespace valise::crypto {
namespace {

using detail::as_bytes;

class age_error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "age"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::not_age_file:
        return "not an age-encrypted file";
      case errc::unsupported_version:
        return "unsupported age format version";
      case errc::malformed_header:
        return "the age header is malformed";
      case errc::header_mac_mismatch:
        return "the age header was modified (MAC mismatch)";
      case errc::no_identity_matched:
        return "no identity matched: the file is not encrypted to any of the given keys";
      case errc::work_factor_too_large:
        return "the passphrase work factor is too large to try safely";
      case errc::scrypt_not_alone:
        return "a passphrase stanza is mixed with other recipients";
      case errc::payload_truncated:
        return "the file is truncated";
      case errc::payload_tampered:
        return "a chunk failed authentication: the file is damaged, cut short or was tampered with";
      case errc::trailing_data:
        return "unexpected data after the end of the encrypted payload";
      case errc::armor_invalid:
        return "invalid ASCII armor";
      case errc::invalid_recipient:
        return "invalid recipient: expected an age1... public key";
      case errc::invalid_identity:
        return "invalid identity: expected AGE-SECRET-KEY-1... lines";
      case errc::no_recipients:
        return "no recipients given";
    }
    return "unknown age error";
  }
};

std::error_code error(errc e) {
  return make_error_code(e);
}

void derive(const file_key& key, std::span<const std::uint8_t> salt, std::string_view info,
            secret_array<32>& out) {
  detail::hkdf_sha256(key.span(), salt, info, out.span());
}

}  // namespace

const std::error_category& age_category() noexcept {
  static const age_error_category category;
  return category;
}

std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), age_category()};
}

std::string_view hint(errc e) noexcept {
  switch (e) {
    case errc::not_age_file:
      return "check that this is the encrypted file (.vls or .age) and that it was not converted "
             "in transit";
    case errc::unsupported_version:
      return "the file was made by a newer program; upgrade valise";
    case errc::malformed_header:
    case errc::header_mac_mismatch:
    case errc::payload_tampered:
    case errc::trailing_data:
      return "get a fresh copy of the file from its sender; it was changed after encryption";
    case errc::no_identity_matched:
      return "use the identity file (-i) of a key the file was encrypted to, or the right "
             "passphrase";
    case errc::work_factor_too_large:
      return "if you trust the sender, ask for a file made with a normal passphrase setting";
    case errc::scrypt_not_alone:
      return "the file is malformed; ask the sender to encrypt it again";
    case errc::payload_truncated:
      return "the file was cut short (interrupted copy or download); fetch it again";
    case errc::armor_invalid:
      return "the armored text was altered (e.g. by a mail client); send the file as an attachment";
    case errc::invalid_recipient:
      return "public keys start with age1; print one with `valise keygen` or `age-keygen -y`";
    case errc::invalid_identity:
      return "use an identity file written by `valise keygen` or `age-keygen`";
    case errc::no_recipients:
      return "give -r age1..., -R FILE or a passphrase";
  }
  return {};
}

result<std::size_t> memory_source::read(mutable_bytes out) {
  const std::size_t n = std::min(out.size(), data_.size() - offset_);
  std::memcpy(out.data(), data_.data() + offset_, n);
  offset_ += n;
  return n;
}

// ---- secrets ----------------------------------------------------------------

void secure_zero(void* data, std::size_t size) {
  sodium_memzero(data, size);
}

secret_string::secret_string(std::string&& value) {
  // Moving a short string copies it (SSO), so wipe the source either way.
  value_.reserve(value.size());
  value_.assign(value);
  secure_zero(value.data(), value.size());
  value.clear();
}

secret_string::secret_string(secret_string&& other) noexcept : value_(std::move(other.value_)) {
  secure_zero(other.value_.data(), other.value_.size());
  other.value_.clear();
}

secret_string& secret_string::operator=(secret_string&& other) noexcept {
  if (this != &other) {
    secure_zero(value_.data(), value_.size());
    value_ = std::move(other.value_);
    secure_zero(other.value_.data(), other.value_.size());
    other.value_.clear();
  }
  return *this;
}

secret_string::~secret_string() {
  secure_zero(value_.data(), value_.size());
}

// ---- encryptor --------------------------------------------------------------

struct encryptor::impl {
  std::unique_ptr<detail::armor_writer> armor;
  std::unique_ptr<detail::stream_writer> stream;
};

encryptor::encryptor(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
encryptor::encryptor(encryptor&&) noexcept = default;
encryptor& encryptor::operator=(encryptor&&) noexcept = default;
encryptor::~encryptor() = default;

result<encryptor> encryptor::create(std::span<const recipient* const> recipients, byte_sink& out,
                                    encrypt_options options) {
  if (recipients.empty()) return error(errc::no_recipients);
  file_key key;
  randombytes_buf(key.data, sizeof key.data);
  std::vector<stanza> stanzas;
  for (const auto* r : recipients) {
    auto wrapped = r->wrap(key);
    if (!wrapped) return wrapped.error();
    stanzas.insert(stanzas.end(), wrapped->begin(), wrapped->end());
  }
  const bool has_scrypt = std::any_of(stanzas.begin(), stanzas.end(),
                                      [](const stanza& s) { return s.type == "scrypt"; });
  if (has_scrypt && stanzas.size() > 1) return error(errc::scrypt_not_alone);

  auto p = std::make_unique<impl>();
  byte_sink* sink = &out;
  if (options.armor) {
    p->armor = std::make_unique<detail::armor_writer>(out);
    sink = p->armor.get();
  }
  std::string header = detail::encode_header_without_mac(stanzas);
  secret_array<32> mac_key;
  derive(key, {}, "header", mac_key);
  std::array<std::uint8_t, 32> mac{};
  detail::hmac_sha256(mac_key.span(), as_bytes(header), mac);
  header += detail::encode_mac_line(mac);
  std::uint8_t nonce[detail::payload_nonce_size];
  randombytes_buf(nonce, sizeof nonce);
  if (auto r = sink->write(as_bytes(header)); !r) return r.error();
  if (auto r = sink->write(nonce); !r) return r.error();
  secret_array<32> payload_key;
  derive(key, nonce, "payload", payload_key);
  p->stream = std::make_unique<detail::stream_writer>(payload_key.span(), *sink);
  return encryptor(std::move(p));
}

result<void> encryptor::write(bytes data) {
  return impl_->stream->write(data);
}

result<void> encryptor::finish() {
  if (auto r = impl_->stream->finish(); !r) return r;
  if (impl_->armor) return impl_->armor->finish();
  return {};
}

// ---- decryptor --------------------------------------------------------------

namespace {

// Reads until the header's MAC line is complete; returns everything read so far.
result<std::vector<std::uint8_t>> read_header_bytes(byte_source& in, std::size_t& header_size) {
  std::vector<std::uint8_t> buf;
  std::size_t scanned = 0;
  for (;;) {
    const std::string_view text(reinterpret_cast<const char*>(buf.data()), buf.size());
    // Fail fast on input that cannot be an age file.
    const auto prefix =
        detail::version_prefix.substr(0, std::min(buf.size(), detail::version_prefix.size()));
    if (text.substr(0, prefix.size()) != prefix) return error(errc::not_age_file);
    if (auto end = detail::find_header_end(text.substr(0, buf.size()))) {
      header_size = *end;
      return buf;
    }
    scanned = buf.size();
    if (scanned >= detail::max_header_size) return error(errc::malformed_header);
    buf.resize(scanned + 4096);
    auto n = in.read({buf.data() + scanned, 4096});
    if (!n) return n.error();
    buf.resize(scanned + *n);
    if (*n == 0) {
      return error(buf.size() < detail::version_prefix.size() ? errc::not_age_file
                                                              : errc::malformed_header);
    }
  }
}

// Peeks at the first bytes: armored files start (after optional whitespace)
// with the PEM begin line.
class peeking_source final : public byte_source {
 public:
  explicit peeking_source(byte_source& in) : in_(in) {}
  result<bool> is_armored() {
    using boost::system::in_place_error;
    while (buf_.size() < 64) {
      std::uint8_t tmp[64];
      auto n = in_.read({tmp, 64 - buf_.size()});
      if (!n) return {in_place_error, n.error()};
      if (*n == 0) break;
      buf_.insert(buf_.end(), tmp, tmp + *n);
      const auto first = std::find_if(buf_.begin(), buf_.end(), [](std::uint8_t c) {
        return c != ' ' && c != '\t' && c != '\r' && c != '\n';
      });
      if (first != buf_.end() && *first != '-') return false;
    }
    const std::string_view text(reinterpret_cast<const char*>(buf_.data()), buf_.size());
    const auto start = text.find_first_not_of(" \t\r\n");
    return start != text.npos && text.substr(start, 10) == "-----BEGIN";
  }
  result<std::size_t> read(mutable_bytes out) override {
    if (pos_ < buf_.size()) {
      const std::size_t n = std::min(out.size(), buf_.size() - pos_);
      std::memcpy(out.data(), buf_.data() + pos_, n);
      pos_ += n;
      return n;
    }
    return in_.read(out);
  }

 private:
  byte_source& in_;
  std::vector<std::uint8_t> buf_;
  std::size_t pos_ = 0;
};

}  // namespace

struct decryptor::impl {
  explicit impl(byte_source& in) : peek(in) {}
  peeking_source peek;
  std::unique_ptr<detail::armor_reader> armor;
  std::unique_ptr<detail::stream_reader> stream;
};

decryptor::decryptor(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
decryptor::decryptor(decryptor&&) noexcept = default;
decryptor& decryptor::operator=(decryptor&&) noexcept = default;
decryptor::~decryptor() = default;

result<decryptor> decryptor::open(byte_source& in, std::span<const identity* const> identities) {
  return open(in, identities, {});
}

result<decryptor> decryptor::open(byte_source& in, std::span<const identity* const> identities,
                                  const passphrase_fn& passphrase) {
  auto p = std::make_unique<impl>(in);
  auto armored = p->peek.is_armored();
  if (!armored) return armored.error();
  byte_source* source = &p->peek;
  if (*armored) {
    p->armor = std::make_unique<detail::armor_reader>(p->peek);
    source = p->armor.get();
  }
  std::size_t header_size = 0;
  auto buf = read_header_bytes(*source, header_size);
  if (!buf) return buf.error();
  const std::string_view text(reinterpret_cast<const char*>(buf->data()), header_size);
  auto header = detail::parse_header(text);
  if (!header) return header.error();

  const auto& stanzas = header->stanzas;
  const bool has_scrypt = std::any_of(stanzas.begin(), stanzas.end(),
                                      [](const stanza& s) { return s.type == "scrypt"; });
  if (has_scrypt && stanzas.size() > 1) return error(errc::scrypt_not_alone);

  std::optional<file_key> key;
  for (const auto* id : identities) {
    auto unwrapped = id->unwrap(stanzas);
    if (!unwrapped) return unwrapped.error();
    if (*unwrapped) {
      key = **unwrapped;
      break;
    }
  }
  if (!key && has_scrypt && passphrase) {
    auto asked = passphrase();
    if (!asked) return asked.error();
    auto unwrapped = scrypt_identity(std::move(*asked)).unwrap(stanzas);
    if (!unwrapped) return unwrapped.error();
    if (*unwrapped) key = **unwrapped;
  }
  if (!key) return error(errc::no_identity_matched);

  secret_array<32> mac_key;
  derive(*key, {}, "header", mac_key);
  std::array<std::uint8_t, 32> mac{};
  detail::hmac_sha256(mac_key.span(), as_bytes(text.substr(0, header->mac_input_size)), mac);
  if (sodium_memcmp(mac.data(), header->mac.data(), mac.size()) != 0) {
    return error(errc::header_mac_mismatch);
  }

  // The payload nonce follows the header; part of it may already be buffered.
  std::vector<std::uint8_t> rest(buf->begin() + static_cast<std::ptrdiff_t>(header_size),
                                 buf->end());
  while (rest.size() < detail::payload_nonce_size) {
    std::uint8_t tmp[detail::payload_nonce_size];
    auto n = source->read({tmp, detail::payload_nonce_size - rest.size()});
    if (!n) return n.error();
    if (*n == 0) return error(errc::malformed_header);  // no room for the nonce
    rest.insert(rest.end(), tmp, tmp + *n);
  }
  secret_array<32> payload_key;
  derive(*key, {rest.data(), detail::payload_nonce_size}, "payload", payload_key);
  p->stream = std::make_unique<detail::stream_reader>(
      payload_key.span(), *source,
      std::span<const std::uint8_t>(rest).subspan(detail::payload_nonce_size));
  return decryptor(std::move(p));
}

result<std::size_t> decryptor::read(mutable_bytes out) {
  return impl_->stream->read(out);
}

}  // namespace valise::crypto
