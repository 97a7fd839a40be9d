// Passphrases for the out-of-band workflow: read aloud over the phone or typed
// from an SMS, so no look-alike characters (0/o, 1/l/i) and short groups.
#include <sodium.h>

#include "valise/crypto/age.hpp"

namespace valise::crypto {
namespace {

// 23 letters + 8 digits = 31 symbols: log2(31) = 4.95 bits each, so 24 symbols
// carry 118.9 bits (the issue asks for at least 100).
constexpr std::string_view alphabet = "abcdefghjkmnpqrstuvwxyz23456789";
constexpr int groups = 6;
constexpr int group_size = 4;

char random_symbol() {
  // Rejection sampling keeps every symbol equally likely.
  constexpr unsigned limit = 256 / alphabet.size() * alphabet.size();
  for (;;) {
    std::uint8_t byte = 0;
    randombytes_buf(&byte, 1);
    if (byte < limit) return alphabet[byte % alphabet.size()];
  }
}

}  // namespace

secret_string generate_passphrase() {
  std::string text;
  text.reserve(groups * (group_size + 1));
  for (int g = 0; g < groups; ++g) {
    if (g > 0) text += '-';
    for (int i = 0; i < group_size; ++i) text += random_symbol();
  }
  return secret_string(std::move(text));
}

}  // namespace valise::crypto
