#include "valise/common/rfc3339.hpp"

#include <cstdio>
#include <ctime>

namespace valise::common {

std::string format_rfc3339(std::int64_t unix_seconds) {
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm utc{};
  gmtime_r(&t, &utc);
  // Not strftime's %Y, which writes year 999 as "999": four digits always.
  char text[48];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
  return text;
}

std::string now_rfc3339() {
  return format_rfc3339(std::time(nullptr));
}

std::optional<std::int64_t> parse_rfc3339(std::string_view text) {
  auto digits = [&](std::size_t at, std::size_t n) -> std::optional<int> {
    if (at + n > text.size()) return std::nullopt;
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  auto at = [&](std::size_t i, char c) { return i < text.size() && text[i] == c; };
  auto year = digits(0, 4), month = digits(5, 2), day = digits(8, 2), hour = digits(11, 2),
       minute = digits(14, 2), second = digits(17, 2);
  if (!year || !month || !day || !hour || !minute || !second || !at(4, '-') || !at(7, '-') ||
      !(at(10, 'T') || at(10, 't')) || !at(13, ':') || !at(16, ':'))
    return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 ||
      *second > 60)
    return std::nullopt;
  std::size_t i = 19;
  if (at(i, '.')) {
    ++i;
    const std::size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    if (i == start) return std::nullopt;
  }
  long offset = 0;
  if (at(i, 'Z') || at(i, 'z')) {
    ++i;
  } else if (at(i, '+') || at(i, '-')) {
    auto oh = digits(i + 1, 2), om = digits(i + 4, 2);
    if (!oh || !om || !at(i + 3, ':') || *oh > 23 || *om > 59) return std::nullopt;
    offset = (text[i] == '+' ? 1 : -1) * (*oh * 3600L + *om * 60L);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != text.size()) return std::nullopt;
  std::tm tm{};
  tm.tm_year = *year - 1900;
  tm.tm_mon = *month - 1;
  tm.tm_mday = *day;
  tm.tm_hour = *hour;
  tm.tm_min = *minute;
  const std::time_t minute_start = timegm(&tm);
  // timegm normalises 31 February into March: refuse what it had to move
  // (checked before adding the seconds, which may be a leap second's 60).
  std::tm check{};
  gmtime_r(&minute_start, &check);
  if (check.tm_mday != *day) return std::nullopt;
  const std::int64_t t = static_cast<std::int64_t>(minute_start) + *second - offset;
  // Only what format_rfc3339 writes back as a time that parses: years 0000-9999 in UTC.
  constexpr std::int64_t first = -62167219200, last = 253402300799;
  if (t < first || t > last) return std::nullopt;
  return t;
}

}  // namespace valise::common
