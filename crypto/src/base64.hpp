// Base64 as age uses it: canonical unpadded for the header (age.md), strict
// padded for ASCII armor (RFC 7468). Decoders reject anything non-canonical,
// so each byte string has exactly one accepted text form.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace valise::crypto::detail {

// Room `base64_decode_into` needs for `text_size` characters.
constexpr std::size_t base64_decoded_capacity(std::size_t text_size) {
  return text_size / 4 * 3 + 2;
}

std::string base64_encode(std::span<const std::uint8_t> data, bool padded);

// Standard alphabet. nullopt on a character outside it (CR and LF included),
// on padding that is present when !padded or missing when padded, and on
// non-zero unused bits in the last character.
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text, bool padded);

// As above, into `out` (at least base64_decoded_capacity(text.size()) bytes),
// without allocating; returns the decoded size.
std::optional<std::size_t> base64_decode_into(std::string_view text, bool padded,
                                              std::span<std::uint8_t> out);

}  // namespace valise::crypto::detail
