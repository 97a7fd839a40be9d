// Bech32 (BIP 173) without its 90-character limit, as age encodes keys:
// age1... recipients and AGE-SECRET-KEY-1... identities.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace valise::crypto::detail {

// Lower case. Temporary buffers are wiped: the data may be a secret key.
std::string bech32_encode(std::string_view hrp, std::span<const std::uint8_t> data);

struct bech32_data {
  std::string hrp;  // as written (age compares it case-sensitively)
  std::vector<std::uint8_t> data;
};

// Rejects mixed case, characters outside the charset, a misplaced separator,
// a bad checksum and non-zero padding bits.
std::optional<bech32_data> bech32_decode(std::string_view text);

}  // namespace valise::crypto::detail
