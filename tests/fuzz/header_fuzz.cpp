// Fuzzes the age header parser. Whatever parses must encode back to the same
// bytes: the codec is canonical, so a difference is a parser bug.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "header.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace valise::crypto::detail;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto end = find_header_end(text);
  if (!end) return 0;
  const auto header = parse_header(text.substr(0, *end));
  if (!header) return 0;
  const auto encoded = encode_header_without_mac(header->stanzas) + encode_mac_line(header->mac);
  if (encoded != text.substr(0, *end) || header->size != *end) std::abort();
  return 0;
}
