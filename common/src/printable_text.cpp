#include "valise/common/printable_text.hpp"

#include <algorithm>

namespace valise::common {
namespace {

bool continuation(std::string_view text, std::size_t i, unsigned char low = 0x80,
                  unsigned char high = 0xbf) {
  if (i >= text.size()) return false;
  const auto c = static_cast<unsigned char>(text[i]);
  return c >= low && c <= high;
}

// The length of the valid UTF-8 sequence at `i` (RFC 3629: no overlong
// forms, no surrogates, nothing past U+10FFFF), or 0.
std::size_t sequence_length(std::string_view text, std::size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return continuation(text, i + 1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const bool second = c == 0xe0   ? continuation(text, i + 1, 0xa0, 0xbf)
                        : c == 0xed ? continuation(text, i + 1, 0x80, 0x9f)
                                    : continuation(text, i + 1);
    return second && continuation(text, i + 2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const bool second = c == 0xf0   ? continuation(text, i + 1, 0x90, 0xbf)
                        : c == 0xf4 ? continuation(text, i + 1, 0x80, 0x8f)
                                    : continuation(text, i + 1);
    return second && continuation(text, i + 2) && continuation(text, i + 3) ? 4 : 0;
  }
  return 0;
}

std::string escaped(std::string_view bytes) {
  constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) out += {'\\', 'x', hex[c >> 4], hex[c & 0xf]};
  return out;
}

// What character (or stray byte) `piece` becomes.
std::string shown(std::string_view piece, bool valid) {
  if (!valid) return escaped(piece);
  const auto c = static_cast<unsigned char>(piece[0]);
  if (c == '\t' || c == '\n' || c == '\r') return " ";
  if (c < 0x20 || c == 0x7f) return escaped(piece);
  // U+0080-U+009F are 0xC2 0x80-0x9F in UTF-8.
  if (c == 0xc2 && static_cast<unsigned char>(piece[1]) <= 0x9f) return escaped(piece);
  return std::string(piece);
}

}  // namespace

std::string printable_text(std::string_view text, std::size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes));
  for (std::size_t i = 0; i < text.size();) {
    const auto n = sequence_length(text, i);
    const auto piece = shown(text.substr(i, n == 0 ? 1 : n), n != 0);
    if (out.size() + piece.size() > max_bytes) break;
    out += piece;
    i += n == 0 ? 1 : n;
  }
  return out;
}

}  // namespace valise::common
