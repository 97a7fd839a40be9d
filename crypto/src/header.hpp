// The age v1 header codec: version line, recipient stanzas, MAC line. Pure
// functions over bytes; the decryptor finds where the header ends, this parses it.
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
inline constexpr std::size_t max_header_size = 1 << 20;  // far beyond any real header

struct parsed_header {
  std::vector<stanza> stanzas;
  std::array<std::uint8_t, 32> mac{};
  std::size_t mac_input_size = 0;  // bytes covered by the MAC: up to and including "---"
  std::size_t size = 0;            // bytes of the whole header, MAC line included
};

// Where the header in `data` ends (one past the MAC line's LF), if the data
// holds a complete MAC line; nullopt if more input is needed. Looks only for
// a line starting with "---", which no other header line can.
std::optional<std::size_t> find_header_end(std::string_view data);

// Parses a complete header (exactly `data`, as delimited by find_header_end).
result<parsed_header> parse_header(std::string_view data);

// Encodes stanzas after the version line, up to and including "---" (the MAC
// input); append " " + base64(mac) + "\n" to finish it.
std::string encode_header_without_mac(std::span<const stanza> stanzas);
std::string encode_mac_line(std::span<const std::uint8_t, 32> mac);

}  // namespace valise::crypto::detail
