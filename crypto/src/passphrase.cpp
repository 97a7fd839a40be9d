// Passphrases for the out-of-band workflow: read aloud over the phone or typed
// from an SMS, so one case, no look-alike characters (0/o, 1/l/i) and short
// dash-separated groups.
#include <sodium.h>

#include "valise/crypto/age.hpp"

namespace valise::crypto {
namespace {

// 23 letters and 8 digits: 31 symbols, log2(31) = 4.954 bits each. Six groups
// of four symbols carry 24 * 4.954 = 118.9 bits (the issue asks for >= 100).
constexpr std::string_view alphabet = "abcdefghjkmnpqrstuvwxyz23456789";
constexpr int groups = 6;
constexpr int group_size = 4;

}  // namespace

secret_string generate_passphrase() {
  std::string text;
  text.reserve(groups * (group_size + 1));  // no reallocation: no stray copies
  for (int g = 0; g < groups; ++g) {
    if (g > 0) text += '-';
    for (int i = 0; i < group_size; ++i) {
      // Uniform without modulo bias.
      text += alphabet[randombytes_uniform(static_cast<std::uint32_t>(alphabet.size()))];
    }
  }
  return secret_string(std::move(text));
}

}  // namespace valise::crypto
