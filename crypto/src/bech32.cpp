// Bech32 codec. The checksum is computed over the lower-case string whatever
// the case written, as BIP 173 and age.md specify.
#include "bech32.hpp"

#include "valise/crypto/secret.hpp"

namespace valise::crypto::detail {
namespace {

constexpr std::string_view charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

// Wipes the vector's bytes when it goes out of scope (key material in 5-bit groups).
struct wiped_bytes : std::vector<std::uint8_t> {
  ~wiped_bytes() { secure_zero(data(), size()); }
};

std::uint32_t polymod(std::span<const std::uint8_t> values) {
  constexpr std::uint32_t generator[] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd,
                                         0x2a1462b3};
  std::uint32_t chk = 1;
  for (auto v : values) {
    const std::uint32_t top = chk >> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (int i = 0; i < 5; ++i) {
      if ((top >> i) & 1) chk ^= generator[i];
    }
  }
  return chk;
}

// ASCII only: std::tolower follows the C locale (a Turkish one maps 'I' to a
// dotless i), and an HRP is ASCII whatever the locale.
constexpr char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// The checksum input: the expanded lower-case HRP, then the data values.
void expand_hrp(std::string_view hrp, wiped_bytes& out) {
  for (char c : hrp) out.push_back(static_cast<std::uint8_t>(lower(c)) >> 5);
  out.push_back(0);
  for (char c : hrp) out.push_back(static_cast<std::uint8_t>(lower(c)) & 31);
}

// Regroups bits, 8 -> 5 (padding the tail) or 5 -> 8 (strict: the leftover
// must be fewer than 5 bits, all zero).
bool convert_bits(std::span<const std::uint8_t> in, int from, int to, bool pad,
                  std::vector<std::uint8_t>& out) {
  std::uint32_t acc = 0;
  int bits = 0;
  const std::uint32_t mask = (1u << to) - 1;
  for (auto v : in) {
    acc = ((acc << from) | v) & 0xfff;  // only the low bits are ever needed
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push_back(static_cast<std::uint8_t>((acc >> bits) & mask));
    }
  }
  if (pad) {
    if (bits > 0) out.push_back(static_cast<std::uint8_t>((acc << (to - bits)) & mask));
    return true;
  }
  return bits < from && ((acc << (to - bits)) & mask) == 0;
}

}  // namespace

std::string bech32_encode(std::string_view hrp, std::span<const std::uint8_t> data) {
  // Reserved up front: a reallocation would leave an unwiped copy behind.
  wiped_bytes values;
  values.reserve(data.size() * 8 / 5 + 1);
  convert_bits(data, 8, 5, true, values);
  wiped_bytes check;
  check.reserve(hrp.size() * 2 + 1 + values.size() + 6);
  expand_hrp(hrp, check);
  check.insert(check.end(), values.begin(), values.end());
  check.resize(check.size() + 6, 0);
  const std::uint32_t mod = polymod(check) ^ 1;
  std::string out;
  out.reserve(hrp.size() + 1 + values.size() + 6);
  for (char c : hrp) out += lower(c);
  out += '1';
  for (auto v : values) out += charset[v];
  for (int i = 0; i < 6; ++i) out += charset[(mod >> (5 * (5 - i))) & 31];
  return out;
}

std::optional<bech32_data> bech32_decode(std::string_view text) {
  bool has_lower = false, has_upper = false;
  for (char c : text) {
    if (c < 33 || c > 126) return std::nullopt;
    has_lower |= c >= 'a' && c <= 'z';
    has_upper |= c >= 'A' && c <= 'Z';
  }
  if (has_lower && has_upper) return std::nullopt;
  const auto separator = text.rfind('1');
  if (separator == std::string_view::npos || separator == 0 || separator + 7 > text.size()) {
    return std::nullopt;
  }
  const auto hrp = text.substr(0, separator);
  wiped_bytes values;
  values.reserve(text.size());
  for (char c : text.substr(separator + 1)) {
    const auto d = charset.find(lower(c));
    if (d == std::string_view::npos) return std::nullopt;
    values.push_back(static_cast<std::uint8_t>(d));
  }
  wiped_bytes check;
  check.reserve(hrp.size() * 2 + 1 + values.size());
  expand_hrp(hrp, check);
  check.insert(check.end(), values.begin(), values.end());
  if (polymod(check) != 1) return std::nullopt;
  bech32_data result{std::string(hrp), {}};
  result.data.reserve(values.size() * 5 / 8);
  if (!convert_bits(std::span(values).first(values.size() - 6), 5, 8, false, result.data)) {
    secure_zero(result.data.data(), result.data.size());
    return std::nullopt;
  }
  return result;
}

}  // namespace valise::crypto::detail
