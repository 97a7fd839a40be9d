#include "encoding.hpp"

#include <array>
#include <cctype>

namespace valise::crypto::detail {
namespace {

constexpr char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> make_b64_table() {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i)
    t[static_cast<unsigned char>(b64_alphabet[i])] = static_cast<std::int8_t>(i);
  return t;
}
constexpr auto b64_table = make_b64_table();

constexpr char bech32_charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

std::uint32_t bech32_polymod(const std::vector<std::uint8_t>& values) {
  static constexpr std::uint32_t gen[] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd,
                                          0x2a1462b3};
  std::uint32_t chk = 1;
  for (auto v : values) {
    const std::uint32_t top = chk >> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (int i = 0; i < 5; ++i) {
      if ((top >> i) & 1) chk ^= gen[i];
    }
  }
  return chk;
}

std::vector<std::uint8_t> hrp_expand(std::string_view hrp) {
  std::vector<std::uint8_t> out;
  for (char c : hrp) out.push_back(static_cast<std::uint8_t>(static_cast<unsigned char>(c) >> 5));
  out.push_back(0);
  for (char c : hrp) out.push_back(static_cast<std::uint8_t>(static_cast<unsigned char>(c) & 31));
  return out;
}

// Regroups bits (8 -> 5 or 5 -> 8). Strict when decoding: no leftover non-zero
// bits, no padding group.
std::optional<std::vector<std::uint8_t>> convert_bits(std::span<const std::uint8_t> in, int from,
                                                      int to, bool pad) {
  std::uint32_t acc = 0;
  int bits = 0;
  std::vector<std::uint8_t> out;
  const std::uint32_t max = (1u << to) - 1;
  for (auto v : in) {
    if ((v >> from) != 0) return std::nullopt;
    acc = (acc << from) | v;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push_back(static_cast<std::uint8_t>((acc >> bits) & max));
    }
  }
  if (pad) {
    if (bits > 0) out.push_back(static_cast<std::uint8_t>((acc << (to - bits)) & max));
  } else if (bits >= from || ((acc << (to - bits)) & max) != 0) {
    return std::nullopt;
  }
  return out;
}

}  // namespace

std::string base64_encode(std::span<const std::uint8_t> data, bool padded) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const std::uint32_t v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    out += b64_alphabet[(v >> 18) & 63];
    out += b64_alphabet[(v >> 12) & 63];
    out += b64_alphabet[(v >> 6) & 63];
    out += b64_alphabet[v & 63];
  }
  const std::size_t rest = data.size() - i;
  if (rest > 0) {
    std::uint32_t v = data[i] << 16;
    if (rest == 2) v |= data[i + 1] << 8;
    out += b64_alphabet[(v >> 18) & 63];
    out += b64_alphabet[(v >> 12) & 63];
    if (rest == 2) out += b64_alphabet[(v >> 6) & 63];
    if (padded) out.append(3 - rest, '=');
  }
  return out;
}

std::optional<std::size_t> base64_decode_into(std::string_view text, bool padded,
                                              std::uint8_t* out) {
  std::size_t len = text.size();
  std::size_t pad = 0;
  if (padded) {
    if (len % 4 != 0) return std::nullopt;
    while (pad < 2 && len > 0 && text[len - 1] == '=') --len, ++pad;
  } else if (len % 4 == 1) {
    return std::nullopt;
  }
  std::size_t o = 0;
  std::size_t i = 0;
  for (; i + 4 <= len; i += 4) {
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const auto d = b64_table[static_cast<unsigned char>(text[i + k])];
      if (d < 0) return std::nullopt;
      v = (v << 6) | static_cast<std::uint32_t>(d);
    }
    out[o++] = static_cast<std::uint8_t>(v >> 16);
    out[o++] = static_cast<std::uint8_t>(v >> 8);
    out[o++] = static_cast<std::uint8_t>(v);
  }
  const std::size_t rest = len - i;
  if (rest == 1) return std::nullopt;
  if (padded && rest != 0 && rest + pad != 4) return std::nullopt;
  if (padded && rest == 0 && pad != 0) return std::nullopt;
  if (rest > 0) {
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < rest; ++k) {
      const auto d = b64_table[static_cast<unsigned char>(text[i + k])];
      if (d < 0) return std::nullopt;
      v = (v << 6) | static_cast<std::uint32_t>(d);
    }
    // Canonical: the unused low bits of the last character are zero.
    if (rest == 2) {
      if (v & 0xf) return std::nullopt;
      out[o++] = static_cast<std::uint8_t>(v >> 4);
    } else {
      if (v & 0x3) return std::nullopt;
      out[o++] = static_cast<std::uint8_t>(v >> 10);
      out[o++] = static_cast<std::uint8_t>(v >> 2);
    }
  }
  return o;
}

std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text, bool padded) {
  std::vector<std::uint8_t> out(text.size() / 4 * 3 + 3);
  const auto n = base64_decode_into(text, padded, out.data());
  if (!n) return std::nullopt;
  out.resize(*n);
  return out;
}

std::string bech32_encode(std::string_view hrp, std::span<const std::uint8_t> data) {
  auto values = *convert_bits(data, 8, 5, true);
  auto check_input = hrp_expand(hrp);
  check_input.insert(check_input.end(), values.begin(), values.end());
  check_input.resize(check_input.size() + 6, 0);
  const std::uint32_t mod = bech32_polymod(check_input) ^ 1;
  std::string out(hrp);
  out += '1';
  for (auto v : values) out += bech32_charset[v];
  for (int i = 0; i < 6; ++i) out += bech32_charset[(mod >> (5 * (5 - i))) & 31];
  return out;
}

std::optional<bech32_data> bech32_decode(std::string_view text) {
  bool lower = false, upper = false;
  for (char c : text) {
    if (c < 33 || c > 126) return std::nullopt;
    lower |= std::islower(static_cast<unsigned char>(c)) != 0;
    upper |= std::isupper(static_cast<unsigned char>(c)) != 0;
  }
  if (lower && upper) return std::nullopt;
  const auto sep = text.rfind('1');
  if (sep == std::string_view::npos || sep == 0 || sep + 7 > text.size()) return std::nullopt;
  bech32_data result;
  for (char c : text.substr(0, sep)) {
    result.hrp += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  std::vector<std::uint8_t> values;
  for (char c : text.substr(sep + 1)) {
    const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const char* p = std::char_traits<char>::find(bech32_charset, 32, l);
    if (!p) return std::nullopt;
    values.push_back(static_cast<std::uint8_t>(p - bech32_charset));
  }
  auto check_input = hrp_expand(result.hrp);
  check_input.insert(check_input.end(), values.begin(), values.end());
  if (bech32_polymod(check_input) != 1) return std::nullopt;
  values.resize(values.size() - 6);
  auto data = convert_bits(values, 5, 8, false);
  if (!data) return std::nullopt;
  result.data = std::move(*data);
  return result;
}

}  // namespace valise::crypto::detail
