// Base64 codec (RFC 4648 section 4) with the canonical checks of section 3.5,
// which age requires so that headers and armor are not malleable.
#include "base64.hpp"

#include <array>
#include <cassert>

namespace valise::crypto::detail {
namespace {

constexpr std::string_view alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> make_table() {
  std::array<std::int8_t, 256> table{};
  for (auto& v : table) v = -1;
  for (std::size_t i = 0; i < alphabet.size(); ++i) {
    table[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
  }
  return table;
}
constexpr auto table = make_table();

// Unpadded decoding of `text`; the checks shared by both flavours.
std::optional<std::size_t> decode_unpadded(std::string_view text, std::uint8_t* out) {
  if (text.size() % 4 == 1) return std::nullopt;  // 6 bits cannot end a byte string
  std::size_t o = 0;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const auto d = table[static_cast<unsigned char>(c)];
    if (d < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = static_cast<std::uint8_t>(acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  if (acc != 0) return std::nullopt;  // non-canonical: unused bits must be zero
  return o;
}

}  // namespace

std::string base64_encode(std::span<const std::uint8_t> data, bool padded) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8) |
                            std::uint32_t{data[i + 2]};
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  const std::size_t rest = data.size() - i;
  if (rest == 0) return out;
  std::uint32_t v = std::uint32_t{data[i]} << 16;
  if (rest == 2) v |= std::uint32_t{data[i + 1]} << 8;
  out += alphabet[(v >> 18) & 63];
  out += alphabet[(v >> 12) & 63];
  if (rest == 2) out += alphabet[(v >> 6) & 63];
  if (padded) out.append(3 - rest, '=');
  return out;
}

std::optional<std::size_t> base64_decode_into(std::string_view text, bool padded,
                                              std::span<std::uint8_t> out) {
  assert(out.size() >= base64_decoded_capacity(text.size()));
  if (padded) {
    if (text.size() % 4 != 0) return std::nullopt;
    // At most two '=' and only at the end; any other '=' fails as a character.
    std::size_t pad = 0;
    while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
    text.remove_suffix(pad);
  }
  return decode_unpadded(text, out.data());
}

std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text, bool padded) {
  std::vector<std::uint8_t> out(base64_decoded_capacity(text.size()));
  const auto n = base64_decode_into(text, padded, out);
  if (!n) return std::nullopt;
  out.resize(*n);
  return out;
}

}  // namespace valise::crypto::detail
