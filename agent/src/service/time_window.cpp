#include "service/time_window.hpp"

#include <charconv>
#include <ctime>

#include "valise/common/units.hpp"

namespace valise::agent {
namespace {

// Reads exactly `width` digits at `pos`.
bool digits(std::string_view s, std::size_t pos, std::size_t width, int& out) {
  if (pos + width > s.size()) return false;
  const auto* begin = s.data() + pos;
  for (std::size_t i = 0; i < width; ++i)
    if (begin[i] < '0' || begin[i] > '9') return false;
  std::from_chars(begin, begin + width, out);
  return true;
}

}  // namespace

std::optional<time_point> parse_rfc3339(std::string_view s) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(s, 0, 4, year) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, month) ||
      s[7] != '-' || !digits(s, 8, 2, day))
    return std::nullopt;
  std::size_t pos = 10;
  std::int64_t offset_seconds = 0;
  if (pos < s.size()) {
    if ((s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') || !digits(s, pos + 1, 2, hour) ||
        s.size() < pos + 9 || s[pos + 3] != ':' || !digits(s, pos + 4, 2, minute) ||
        s[pos + 6] != ':' || !digits(s, pos + 7, 2, second))
      return std::nullopt;
    pos += 9;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      const auto start = pos;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
      if (pos == start) return std::nullopt;  // fractions are dropped: seconds suffice
    }
    if (pos == s.size()) return std::nullopt;  // RFC 3339 requires an offset
    if (s[pos] == 'Z' || s[pos] == 'z') {
      ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
      int oh = 0, om = 0;
      if (!digits(s, pos + 1, 2, oh) || s.size() < pos + 6 || s[pos + 3] != ':' ||
          !digits(s, pos + 4, 2, om))
        return std::nullopt;
      offset_seconds = (s[pos] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
      pos += 6;
    }
    if (pos != s.size()) return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::time_t t = timegm(&tm);
  return std::chrono::system_clock::from_time_t(t) - std::chrono::seconds(offset_seconds);
}

std::optional<time_point> parse_time_argument(std::string_view text, time_point now) {
  if (auto t = parse_rfc3339(text)) return t;
  if (auto seconds = common::parse_duration(text)) return now - std::chrono::seconds(*seconds);
  return std::nullopt;
}

}  // namespace valise::agent
