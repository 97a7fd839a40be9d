// ASCII case for protocol text (header names, URL schemes and hosts, hex,
// account names): only A-Z change, whatever the C locale says (std::tolower
// follows setlocale), and other bytes, UTF-8 included, stay as they are.
#pragma once

#include <string>
#include <string_view>

namespace valise::common {

constexpr char ascii_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

inline std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = ascii_lower(c);
  return out;
}

// C library messages start with a capital ("No such file or directory");
// ours continue a sentence after a colon, so they start lowercase.
inline std::string lowercase_first(std::string text) {
  if (!text.empty()) text[0] = ascii_lower(text[0]);
  return text;
}

// Equal but for the case of ASCII letters.
constexpr bool ascii_iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

}  // namespace valise::common
