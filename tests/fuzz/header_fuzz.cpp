// Fuzzes the age header parser. Whatever parses must encode back to the same
// bytes (the codec is canonical), and the parser must judge a prefix of the
// input as "need more" or as the same error: the verdict cannot depend on
// where reads happened to split the input.
#include <cstdint>
#include <cstdlib>

#include "header.hpp"

namespace {

using valise::crypto::detail::parse_header;

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace valise::crypto::detail;
  const std::span<const std::uint8_t> input(data, size);
  const auto full = parse_header(input);
  for (std::size_t cut : {size / 2, size > 0 ? size - 1 : 0}) {
    const auto part = parse_header(input.first(cut));
    if (part && *part) {
      // A complete header in the prefix is the same header in the whole.
      check(full && *full && (*full)->size == (*part)->size);
    } else if (!part) {
      check(!full && full.error() == part.error());
    }
  }
  if (!full || !*full) return 0;
  const auto& h = **full;
  const auto encoded = encode_header_without_mac(h.stanzas) + encode_mac_line(h.mac);
  check(h.size == encoded.size() && h.mac_input_size + encode_mac_line(h.mac).size() == h.size);
  check(std::equal(encoded.begin(), encoded.end(), data, data + h.size,
                   [](char a, std::uint8_t b) { return static_cast<std::uint8_t>(a) == b; }));
  return 0;
}
