// Decryption: detect armor, read and parse the header, find a stanza that one
// of the identities unwraps, check the header MAC, then hand the rest of the
// input to the STREAM reader. Nothing of the payload is released before this.
#include <algorithm>
#include <cstring>

#include "armor.hpp"
#include "bytes.hpp"
#include "header.hpp"
#include "key_schedule.hpp"
#include "stream.hpp"
#include "valise/crypto/age.hpp"

namespace valise::crypto {
namespace {

// Far beyond any real header (a few hundred bytes per recipient).
constexpr std::size_t max_header_size = 1 << 20;
constexpr std::size_t first_header_read = 4096;
constexpr std::string_view armor_marker = "-----BEGIN";

std::error_code error(errc e) {
  return make_error_code(e);
}

// What age (Go's bytes.TrimSpace) skips before the armor.
constexpr const char* whitespace = " \t\n\v\f\r";

// Bytes already read (while sniffing for armor), then the rest of the input.
class prefixed_source final : public byte_source {
 public:
  explicit prefixed_source(byte_source& in) : in_(in) {}
  std::vector<std::uint8_t>& prefix() { return prefix_; }
  result<std::size_t> read(mutable_bytes out) override {
    if (pos_ == prefix_.size()) return in_.read(out);
    const std::size_t n = std::min(out.size(), prefix_.size() - pos_);
    std::memcpy(out.data(), prefix_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  byte_source& in_;
  std::vector<std::uint8_t> prefix_;
  std::size_t pos_ = 0;
};

// Like `age -d`: armored if, after at most armor_max_whitespace whitespace
// bytes, the input starts with "-----BEGIN". Reads only as far as needed to
// tell; the armor reader then checks the exact begin line.
result<bool> sniff_armor(byte_source& in, std::vector<std::uint8_t>& seen) {
  for (;;) {
    const auto text = detail::as_text(seen);
    const auto start = text.find_first_not_of(whitespace);
    if (start == std::string_view::npos ? seen.size() > detail::armor_max_whitespace
                                        : start > detail::armor_max_whitespace) {
      return false;
    }
    if (start != std::string_view::npos) {
      const auto candidate = text.substr(start, armor_marker.size());
      if (!armor_marker.starts_with(candidate)) return false;
      if (candidate.size() == armor_marker.size()) return true;
    }
    std::uint8_t more[64];
    auto n = in.read(more);
    if (!n) return {boost::system::in_place_error, n.error()};
    if (*n == 0) return false;
    seen.insert(seen.end(), more, more + *n);
  }
}

// Reads until parse_header() finds a complete header, with geometrically
// growing reads so that parsing stays linear. Returns the bytes read.
result<std::vector<std::uint8_t>> read_header(byte_source& in, detail::header& out) {
  std::vector<std::uint8_t> buf;
  std::size_t target = first_header_read;
  bool eof = false;
  for (;;) {
    while (buf.size() < target && !eof) {
      const std::size_t size = buf.size();
      buf.resize(target);
      auto n = in.read({buf.data() + size, target - size});
      buf.resize(size + (n ? *n : 0));
      if (!n) return n.error();
      eof = *n == 0;
    }
    auto parsed = detail::parse_header(buf);
    if (!parsed) return parsed.error();
    if (*parsed) {
      out = std::move(**parsed);
      return buf;
    }
    if (eof) {
      // Cut short: before the version line could be told, it is not an age file.
      return error(buf.size() < detail::version_line.size() ? errc::not_age_file
                                                            : errc::malformed_header);
    }
    if (buf.size() >= max_header_size) return error(errc::malformed_header);
    target = std::min(2 * target, max_header_size);
  }
}

// The file key from the first identity that unwraps a stanza, or from a
// passphrase asked for only if the file is passphrase-encrypted.
result<file_key> unwrap(std::span<const stanza> stanzas,
                        std::span<const identity* const> identities,
                        const decryptor::passphrase_fn& passphrase) {
  const bool has_scrypt = std::any_of(stanzas.begin(), stanzas.end(),
                                      [](const stanza& s) { return s.type == "scrypt"; });
  if (has_scrypt && stanzas.size() > 1) return error(errc::scrypt_not_alone);
  for (const auto* id : identities) {
    auto key = id->unwrap(stanzas);
    if (!key) return key.error();
    if (*key) return **key;
  }
  if (has_scrypt && passphrase) {
    auto asked = passphrase();
    if (!asked) return asked.error();
    auto key = scrypt_identity(std::move(*asked)).unwrap(stanzas);
    if (!key) return key.error();
    if (*key) return **key;
  }
  return error(errc::no_identity_matched);
}

}  // namespace

struct decryptor::impl {
  explicit impl(byte_source& in) : input(in) {}
  prefixed_source input;
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
  auto armored = sniff_armor(in, p->input.prefix());
  if (!armored) return armored.error();
  byte_source* source = &p->input;
  if (*armored) {
    p->armor = std::make_unique<detail::armor_reader>(p->input);
    source = p->armor.get();
  }

  detail::header header;
  auto buf = read_header(*source, header);
  if (!buf) return buf.error();
  auto key = unwrap(header.stanzas, identities, passphrase);
  if (!key) return key.error();
  const std::span<const std::uint8_t> read(*buf);
  if (!detail::header_mac_matches(*key, read.first(header.mac_input_size), header.mac)) {
    return error(errc::header_mac_mismatch);
  }

  // The payload nonce follows the header; part of it may already be read.
  std::vector<std::uint8_t> rest(read.begin() + static_cast<std::ptrdiff_t>(header.size),
                                 read.end());
  while (rest.size() < detail::payload_nonce_size) {
    std::uint8_t more[detail::payload_nonce_size];
    auto n = source->read({more, detail::payload_nonce_size - rest.size()});
    if (!n) return n.error();
    if (*n == 0) return error(errc::malformed_header);  // no room for the nonce
    rest.insert(rest.end(), more, more + *n);
  }
  const auto nonce = std::span<const std::uint8_t>(rest).first<detail::payload_nonce_size>();
  p->stream = std::make_unique<detail::stream_reader>(
      detail::payload_key(*key, nonce).span(), *source,
      std::span<const std::uint8_t>(rest).subspan(detail::payload_nonce_size));
  return decryptor(std::move(p));
}

result<std::size_t> decryptor::read(mutable_bytes out) {
  return impl_->stream->read(out);
}

}  // namespace valise::crypto
