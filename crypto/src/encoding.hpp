// Text encodings age uses: unpadded canonical base64 (header), padded base64
// (armor) and Bech32 (keys). Pure functions; decoders reject non-canonical input.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace valise::crypto::detail {

std::string base64_encode(std::span<const std::uint8_t> data, bool padded);
// Standard alphabet. nullopt on any invalid character, wrong padding (present
// when !padded, missing when padded) or non-zero trailing bits.
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text, bool padded);
// Decodes into `out` (which must hold text.size() / 4 * 3 + 3 bytes); returns
// the decoded length. For the armor hot path, without allocation.
std::optional<std::size_t> base64_decode_into(std::string_view text, bool padded,
                                              std::uint8_t* out);

// Bech32 (BIP 173) without the 90-character limit, as age uses it. Encodes in
// lower case; callers upper-case secret keys.
std::string bech32_encode(std::string_view hrp, std::span<const std::uint8_t> data);
struct bech32_data {
  std::string hrp;  // lower case
  std::vector<std::uint8_t> data;
};
// Rejects mixed case and bad checksums.
std::optional<bech32_data> bech32_decode(std::string_view text);

}  // namespace valise::crypto::detail
