#include "calendar/holidays.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace valise::server::calendar {
namespace {

using namespace std::chrono;

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  return out;
}

// YYYYMMDD, a real date.
std::optional<year_month_day> parse_date(std::string_view v) {
  if (v.size() != 8 || v.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  auto number = [&](std::size_t at, std::size_t n) {
    int x = 0;
    for (std::size_t i = at; i < at + n; ++i) x = x * 10 + (v[i] - '0');
    return x;
  };
  const year_month_day d{year{number(0, 4)}, month{static_cast<unsigned>(number(4, 2))},
                         day{static_cast<unsigned>(number(6, 2))}};
  if (!d.ok()) return std::nullopt;
  return d;
}

// One content line, unfolded: NAME;PARAM=...;...:VALUE.
struct property {
  std::string name;
  std::string params;  // upper-cased, with their leading ';'
  std::string_view value;
};

property split(std::string_view line) {
  const auto colon = line.find(':');
  const auto head = line.substr(0, colon);
  const auto semi = head.find(';');
  return {upper(head.substr(0, semi)),
          semi == std::string_view::npos ? std::string{} : upper(head.substr(semi)),
          colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1)};
}

}  // namespace

year_month_day easter_sunday(year y) {
  const int Y = static_cast<int>(y);
  const int a = Y % 19, b = Y / 100, c = Y % 100, d = b / 4, e = b % 4;
  const int f = (b + 8) / 25, g = (b - f + 1) / 3;
  const int h = (19 * a + b - d - g + 15) % 30;
  const int i = c / 4, k = c % 4;
  const int l = (32 + 2 * e + 2 * i - h - k) % 7;
  const int m = (a + 11 * h + 22 * l) / 451;
  const int n = h + l - 7 * m + 114;
  return {y, month{static_cast<unsigned>(n / 31)}, day{static_cast<unsigned>(n % 31 + 1)}};
}

std::vector<year_month_day> french_holidays(year y) {
  const sys_days easter{easter_sunday(y)};
  std::vector<year_month_day> out = {y / January / 1,
                                     year_month_day{easter + days{1}},
                                     y / May / 1,
                                     y / May / 8,
                                     year_month_day{easter + days{39}},
                                     year_month_day{easter + days{50}},
                                     y / July / 14,
                                     y / August / 15,
                                     y / November / 1,
                                     y / November / 11,
                                     y / December / 25};
  std::sort(out.begin(), out.end());
  return out;
}

boost::system::result<std::vector<year_month_day>, std::string> parse_ical_dates(
    std::string_view text) {
  using error = boost::system::result<std::vector<year_month_day>, std::string>;
  auto fail = [](std::size_t line, std::string what) -> error {
    return {boost::system::in_place_error, fmt::format("line {}: {}", line, what)};
  };
  // Unfold (RFC 5545 3.1: a line starting with a space or tab continues the
  // one before), remembering where each logical line began.
  std::vector<std::pair<std::size_t, std::string>> lines;
  std::size_t number = 0;
  while (!text.empty()) {
    auto end = text.find('\n');
    auto raw = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++number;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    if (!raw.empty() && (raw.front() == ' ' || raw.front() == '\t') && !lines.empty())
      lines.back().second.append(raw.substr(1));
    else if (!raw.empty())
      lines.emplace_back(number, std::string(raw));
  }
  if (lines.empty() || upper(lines.front().second) != "BEGIN:VCALENDAR")
    return fail(1, "not an iCalendar file: it must start with BEGIN:VCALENDAR");

  std::vector<year_month_day> out;
  bool in_event = false;
  std::size_t event_line = 0;
  std::optional<year_month_day> start, end;
  bool timed = false;
  for (const auto& [at, line] : lines) {
    const auto p = split(line);
    if (p.name == "BEGIN" && upper(p.value) == "VEVENT") {
      in_event = true;
      event_line = at;
      start = end = std::nullopt;
      timed = false;
    } else if (!in_event) {
      continue;
    } else if (p.name == "END" && upper(p.value) == "VEVENT") {
      in_event = false;
      if (timed) continue;  // a meeting, not a day off
      if (!start) return fail(event_line, "an event without DTSTART;VALUE=DATE:YYYYMMDD");
      const sys_days first{*start};
      const sys_days last = end ? sys_days{*end} : first + days{1};
      if (last <= first) return fail(event_line, "the event's DTEND is not after its DTSTART");
      if (last - first > days{366}) return fail(event_line, "an event longer than a year");
      for (auto d = first; d < last; d += days{1}) out.emplace_back(d);
    } else if (p.name == "DTSTART" || p.name == "DTEND") {
      if (p.params.find(";VALUE=DATE") == std::string::npos ||
          p.params.find(";VALUE=DATE-TIME") != std::string::npos) {
        timed = true;
        continue;
      }
      const auto d = parse_date(p.value);
      if (!d)
        return fail(at, fmt::format("{} \"{}\" is not a date: write YYYYMMDD", p.name, p.value));
      (p.name == "DTSTART" ? start : end) = d;
    } else if (p.name == "RRULE" || p.name == "RDATE") {
      return fail(at, "repeating events are not supported: export each holiday as its own event");
    }
  }
  if (in_event) return fail(event_line, "the event has no END:VEVENT");
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace valise::server::calendar
