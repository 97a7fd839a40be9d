#include "store/secrets.hpp"

#include <sodium.h>

#include <array>
#include <cstdint>

namespace valise::server {
namespace {

std::string random_base32(std::string_view prefix, std::size_t bytes) {
  static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  std::array<std::uint8_t, 32> raw{};
  randombytes_buf(raw.data(), bytes);
  std::string out(prefix);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (std::size_t i = 0; i < bytes; ++i) {
    buffer = (buffer << 8) | raw[i];
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(buffer << (5 - bits)) & 31];
  sodium_memzero(raw.data(), raw.size());
  return out;
}

}  // namespace

std::string random_id(std::string_view prefix) {
  return random_base32(prefix, 10);
}

std::string random_secret(std::string_view prefix) {
  return random_base32(prefix, 32);
}

std::string sha256_raw(std::string_view text) {
  std::string out(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(out.data()),
                     reinterpret_cast<const unsigned char*>(text.data()), text.size());
  return out;
}

std::string to_hex(std::string_view raw) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

}  // namespace valise::server
