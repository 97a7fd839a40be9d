// The age v1 header codec: version line, recipient stanzas, MAC line (age.md,
// "Header"). Pure functions over bytes, no streams, so the parser can be
// unit-tested and fuzzed on its own; the decryptor feeds it what it has read.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "valise/crypto/age.hpp"

namespace valise::crypto::detail {

inline constexpr std::string_view version_prefix = "age-encryption.org/";
inline constexpr std::string_view version_line = "age-encryption.org/v1\n";
inline constexpr std::size_t columns_per_line = 64;
inline constexpr std::size_t bytes_per_line = columns_per_line / 4 * 3;

struct header {
  std::vector<stanza> stanzas;
  std::array<std::uint8_t, 32> mac{};
  std::size_t mac_input_size = 0;  // the MAC covers the first bytes, through "---"
  std::size_t size = 0;            // the whole header, through the MAC line's LF
};

// Parses the header at the start of `data`, which may go on with the payload.
// nullopt: `data` is a valid beginning of a header that ends before the MAC
// line does (read more and call again). Errors: not_age_file,
// unsupported_version, malformed_header.
result<std::optional<header>> parse_header(std::span<const std::uint8_t> data);

// Whether a stanza can be encoded (type and arguments non-empty, printable ASCII
// without spaces): recipients other than ours could produce anything.
bool is_valid_stanza(const stanza& s);

// The header up to and including "---", the bytes the MAC covers.
std::string encode_header_without_mac(std::span<const stanza> stanzas);
// " " + base64(mac) + "\n", which completes the header.
std::string encode_mac_line(std::span<const std::uint8_t, 32> mac);

}  // namespace valise::crypto::detail
