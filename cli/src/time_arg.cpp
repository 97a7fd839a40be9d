#include "time_arg.hpp"

#include <fmt/format.h>

#include <cstdio>

#include "failure.hpp"
#include "server_options.hpp"
#include "units.hpp"

namespace valise::cli {
namespace {

std::string utc_text(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return out;
}

// "YYYY-MM-DDTHH:MM:SS" then an optional fraction, then Z or +HH:MM/-HH:MM.
bool parse_date_time(std::string_view text, std::time_t& out) {
  if (text.size() < 20) return false;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, used = 0;
  const std::string head(text.substr(0, 19));
  if (std::sscanf(head.c_str(), "%4d-%2d-%2d%*1[Tt]%2d:%2d:%2d%n", &year, &month, &day, &hour,
                  &minute, &second, &used) != 6 ||
      used != 19)
    return false;
  std::string_view rest = text.substr(19);
  if (rest.starts_with('.')) {
    std::size_t digits = 1;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
    if (digits == 1) return false;
    rest.remove_prefix(digits);
  }
  long offset = 0;
  if (rest != "Z" && rest != "z") {
    const bool zone_form = rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':';
    int oh = 0, om = 0;
    const std::string zone(rest);
    if (!zone_form || std::sscanf(zone.c_str() + 1, "%2d:%2d", &oh, &om) != 2 || oh > 23 || om > 59)
      return false;
    offset = (rest[0] == '+' ? 1 : -1) * (oh * 3600L + om * 60L);
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return false;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::time_t t = timegm(&tm);
  std::tm back{};
  gmtime_r(&t, &back);
  if (back.tm_mon != month - 1) return false;  // 30 February and the like
  out = t - offset;
  return true;
}

}  // namespace

std::string time_argument(std::string_view option, std::string_view text, std::time_t now) {
  std::time_t at = 0;
  if (parse_date_time(text, at)) return utc_text(at);
  const bool age_form = !text.empty() && text.back() >= 'a' && text.back() <= 'z';
  if (const auto age = age_form ? parse_duration(text) : std::nullopt;
      age && *age <= static_cast<std::uint64_t>(now))
    return utc_text(now - static_cast<std::time_t>(*age));
  fail(fmt::format("{} {}: not a time", option, terminal_text(text)),
       "give an RFC 3339 time (2026-11-22T14:03:07Z) or an age such as 30m, 2h or 3d");
}

}  // namespace valise::cli
