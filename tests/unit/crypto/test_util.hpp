// Helpers shared by the crypto tests: hex, random bytes, whole-buffer
// encrypt/decrypt through the public API, and a source that trickles its input.
#pragma once

#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "valise/crypto/age.hpp"

namespace valise::crypto::test {

constexpr std::size_t chunk = 64 * 1024;

inline std::vector<std::uint8_t> bytes_of(std::string_view s) {
  return {s.begin(), s.end()};
}

inline std::string text_of(const std::vector<std::uint8_t>& v) {
  return {v.begin(), v.end()};
}

inline std::string hex(std::span<const std::uint8_t> data) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (auto b : data) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

inline std::vector<std::uint8_t> unhex(std::string_view h) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

inline std::vector<std::uint8_t> random_bytes(std::size_t n) {
  std::vector<std::uint8_t> data(n);
  if (n > 0) randombytes_buf(data.data(), n);  // nonnull in libsodium, even for 0 bytes
  return data;
}

// Returns at most `step` bytes per read: exercises every boundary of the parsers.
class trickle_source final : public byte_source {
 public:
  trickle_source(bytes data, std::size_t step) : data_(data), step_(step) {}
  result<std::size_t> read(mutable_bytes out) override {
    const std::size_t n = std::min({out.size(), step_, data_.size() - pos_});
    std::copy_n(data_.begin() + static_cast<std::ptrdiff_t>(pos_), n, out.begin());
    pos_ += n;
    return n;
  }

 private:
  bytes data_;
  std::size_t step_;
  std::size_t pos_ = 0;
};

inline std::vector<std::uint8_t> encrypt(const std::vector<std::uint8_t>& plain,
                                         std::vector<const recipient*> recipients,
                                         bool armor = false, std::size_t write_size = 1000) {
  memory_sink out;
  auto e = encryptor::create(recipients, out, {.armor = armor});
  EXPECT_TRUE(e) << e.error().message();
  if (!e) return {};
  for (std::size_t i = 0; i < plain.size(); i += write_size) {
    EXPECT_TRUE(e->write({plain.data() + i, std::min(write_size, plain.size() - i)}));
  }
  EXPECT_TRUE(e->finish());
  return out.data();
}

// What a decryption released, and how it ended.
struct decrypted {
  std::vector<std::uint8_t> plaintext;
  std::error_code error;
};

inline decrypted decrypt_from(byte_source& in, std::vector<const identity*> ids,
                              std::size_t read_size = 100000) {
  decrypted d;
  auto dec = decryptor::open(in, ids);
  if (!dec) {
    d.error = dec.error();
    return d;
  }
  std::vector<std::uint8_t> buf(read_size);
  for (;;) {
    auto n = dec->read(buf);
    if (!n) {
      d.error = n.error();
      return d;
    }
    if (*n == 0) return d;
    d.plaintext.insert(d.plaintext.end(), buf.begin(), buf.begin() + static_cast<long>(*n));
  }
}

inline decrypted decrypt(const std::vector<std::uint8_t>& cipher, std::vector<const identity*> ids,
                         std::size_t read_size = 100000) {
  memory_source in(cipher);
  return decrypt_from(in, std::move(ids), read_size);
}

}  // namespace valise::crypto::test
