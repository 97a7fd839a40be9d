#include "valise/common/units.hpp"

#include <charconv>
#include <limits>

namespace valise::common {
namespace {

// A decimal number followed by a suffix; nullopt on overflow or junk.
std::optional<std::uint64_t> scaled(std::string_view number, std::uint64_t unit) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (number.empty() || ec != std::errc{} || end != number.data() + number.size()) {
    return std::nullopt;
  }
  if (value > std::numeric_limits<std::uint64_t>::max() / unit) return std::nullopt;
  return value * unit;
}

std::size_t digits(std::string_view text) {
  std::size_t n = 0;
  while (n < text.size() && text[n] >= '0' && text[n] <= '9') ++n;
  return n;
}

}  // namespace

std::optional<std::uint64_t> parse_duration(std::string_view text) {
  const std::size_t n = digits(text);
  const std::string_view suffix = text.substr(n);
  std::uint64_t unit = 0;
  if (suffix.empty() || suffix == "s") unit = 1;
  if (suffix == "m") unit = 60;
  if (suffix == "h") unit = 3600;
  if (suffix == "d") unit = 86400;
  if (unit == 0) return std::nullopt;
  auto value = scaled(text.substr(0, n), unit);
  if (value == 0u || value > max_duration_seconds) return std::nullopt;
  return value;
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  const std::size_t n = digits(text);
  std::string_view suffix = text.substr(n);
  if (suffix.ends_with("iB")) suffix.remove_suffix(2);
  if (suffix.size() == 2 && suffix.back() == 'B') suffix.remove_suffix(1);
  std::uint64_t unit = 0;
  if (suffix.empty() || suffix == "B") unit = 1;
  if (suffix == "K" || suffix == "k") unit = 1ull << 10;
  if (suffix == "M") unit = 1ull << 20;
  if (suffix == "G") unit = 1ull << 30;
  if (suffix == "T") unit = 1ull << 40;
  if (unit == 0) return std::nullopt;
  return scaled(text.substr(0, n), unit);
}

}  // namespace valise::common
