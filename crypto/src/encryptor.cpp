// Encryption: a fresh file key wrapped for every recipient, the header and its
// MAC, the payload nonce, then the STREAM payload; optionally inside armor.
#include <sodium.h>

#include <algorithm>

#include "armor.hpp"
#include "bytes.hpp"
#include "header.hpp"
#include "key_schedule.hpp"
#include "stream.hpp"
#include "valise/crypto/age.hpp"

namespace valise::crypto {

struct encryptor::impl {
  // The armor writer (if any) sits between the stream writer and the output.
  std::unique_ptr<detail::armor_writer> armor;
  std::unique_ptr<detail::stream_writer> stream;
  bool finished = false;
};

encryptor::encryptor(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
encryptor::encryptor(encryptor&&) noexcept = default;
encryptor& encryptor::operator=(encryptor&&) noexcept = default;
encryptor::~encryptor() = default;

result<encryptor> encryptor::create(std::span<const recipient* const> recipients, byte_sink& out,
                                    encrypt_options options) {
  if (recipients.empty()) return make_error_code(errc::no_recipients);
  file_key key;
  randombytes_buf(key.data, sizeof key.data);
  std::vector<stanza> stanzas;
  for (const auto* r : recipients) {
    auto wrapped = r->wrap(key);
    if (!wrapped) return wrapped.error();
    for (auto& s : *wrapped) {
      if (!detail::is_valid_stanza(s)) return std::make_error_code(std::errc::invalid_argument);
      stanzas.push_back(std::move(s));
    }
  }
  // age.md: a passphrase stanza must be alone, or it would not authenticate the sender.
  const bool has_scrypt = std::any_of(stanzas.begin(), stanzas.end(),
                                      [](const stanza& s) { return s.type == "scrypt"; });
  if (has_scrypt && stanzas.size() > 1) return make_error_code(errc::scrypt_not_alone);

  auto p = std::make_unique<impl>();
  byte_sink* sink = &out;
  if (options.armor) {
    p->armor = std::make_unique<detail::armor_writer>(out);
    sink = p->armor.get();
  }
  std::string header = detail::encode_header_without_mac(stanzas);
  header += detail::encode_mac_line(detail::header_mac(key, detail::as_bytes(header)));
  std::uint8_t nonce[detail::payload_nonce_size];
  randombytes_buf(nonce, sizeof nonce);
  if (auto r = sink->write(detail::as_bytes(header)); !r) return r.error();
  if (auto r = sink->write(nonce); !r) return r.error();
  p->stream =
      std::make_unique<detail::stream_writer>(detail::payload_key(key, nonce).span(), *sink);
  return encryptor(std::move(p));
}

result<void> encryptor::write(bytes data) {
  return impl_->stream->write(data);
}

result<void> encryptor::finish() {
  if (impl_->finished) return {};
  impl_->finished = true;
  if (auto r = impl_->stream->finish(); !r) return r;
  if (impl_->armor) return impl_->armor->finish();
  return {};
}

}  // namespace valise::crypto
