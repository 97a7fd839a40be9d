#include "http/range.hpp"

#include <charconv>
#include <optional>

namespace valise::server {
namespace {

std::optional<std::uint64_t> number(std::string_view s) {
  std::uint64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

byte_range parse_range(std::string_view header, std::uint64_t size) {
  byte_range whole{byte_range::whole, 0, size};
  constexpr std::string_view unit = "bytes=";
  if (header.substr(0, unit.size()) != unit) return whole;
  auto spec = header.substr(unit.size());
  if (spec.find(',') != std::string_view::npos) return whole;
  auto dash = spec.find('-');
  if (dash == std::string_view::npos) return whole;
  auto first = number(spec.substr(0, dash));
  auto last = number(spec.substr(dash + 1));
  if (!first && !last) return whole;
  if (!first) {  // suffix: the last N bytes
    if (*last == 0) return {byte_range::unsatisfiable};
    std::uint64_t n = *last < size ? *last : size;
    return {byte_range::part, size - n, n};
  }
  if (*first >= size) return {byte_range::unsatisfiable};
  std::uint64_t end = last && *last < size ? *last + 1 : size;
  if (last && *last < *first) return whole;  // invalid: ignore, per RFC 9110
  return {byte_range::part, *first, end - *first};
}

}  // namespace valise::server
