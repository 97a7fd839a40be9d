#include "calendar/calendar_config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "calendar/holidays.hpp"

namespace valise::server::calendar {
namespace {

using std::chrono::minutes;
using error = boost::system::result<calendar, std::string>;

constexpr const char* weekday_keys[] = {"sunday",   "monday", "tuesday", "wednesday",
                                        "thursday", "friday", "saturday"};
constexpr const char* severity_keys[] = {"blocking", "semi-blocking", "non-blocking"};
constexpr unsigned max_target_days = 366;

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

std::optional<unsigned> number(std::string_view s) {
  unsigned n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc{} || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return n;
}

// HH:MM, 00:00 to 24:00.
std::optional<minutes> clock_time(std::string_view s) {
  s = trim(s);
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  auto h = number(s.substr(0, 2)), m = number(s.substr(3, 2));
  if (!h || !m || *m > 59 || *h > 24 || (*h == 24 && *m != 0)) return std::nullopt;
  return minutes{*h * 60 + *m};
}

std::string clock_text(minutes m) {
  return fmt::format("{:02}:{:02}", m.count() / 60, m.count() % 60);
}

const char* ordinal_suffix(unsigned n) {
  if (n % 100 >= 11 && n % 100 <= 13) return "th";
  switch (n % 10) {
    case 1:
      return "st";
    case 2:
      return "nd";
    case 3:
      return "rd";
    default:
      return "th";
  }
}

// YYYY-MM-DD.
std::optional<std::chrono::year_month_day> iso_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  auto y = number(s.substr(0, 4)), m = number(s.substr(5, 2)), d = number(s.substr(8, 2));
  if (!y || !m || !d) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year{static_cast<int>(*y)},
                                         std::chrono::month{*m}, std::chrono::day{*d}};
  if (!date.ok()) return std::nullopt;
  return date;
}

std::string where(const std::filesystem::path& file, const toml::node& at) {
  return fmt::format("{}:{}", file.string(), at.source().begin.line);
}

}  // namespace

std::optional<target> parse_target(std::string_view text) {
  text = trim(text);
  constexpr std::string_view head = "end of ", tail = " business day";
  if (text.starts_with(head) && text.ends_with(tail)) {
    auto nth = text.substr(head.size(), text.size() - head.size() - tail.size());
    if (nth.size() < 3) return std::nullopt;
    auto n = number(nth.substr(0, nth.size() - 2));
    if (!n || *n == 0 || *n > max_target_days || nth.substr(nth.size() - 2) != ordinal_suffix(*n))
      return std::nullopt;
    return target{target::kind::end_of_business_day, {}, *n};
  }
  if (text.size() < 2) return std::nullopt;
  auto n = number(text.substr(0, text.size() - 1));
  if (!n || *n == 0) return std::nullopt;
  switch (text.back()) {
    case 'm':
      if (*n > max_target_days * 24 * 60) return std::nullopt;
      return target{target::kind::business_time, minutes{*n}, 0};
    case 'h':
      if (*n > max_target_days * 24) return std::nullopt;
      return target{target::kind::business_time, std::chrono::hours{*n}, 0};
    case 'd':
      if (*n > max_target_days) return std::nullopt;
      return target{target::kind::business_days, {}, *n};
    default:
      return std::nullopt;
  }
}

std::string to_string(const target& t) {
  switch (t.type) {
    case target::kind::business_time:
      return t.amount.count() % 60 == 0 ? fmt::format("{}h", t.amount.count() / 60)
                                        : fmt::format("{}m", t.amount.count());
    case target::kind::business_days:
      return fmt::format("{}d", t.days);
    case target::kind::end_of_business_day:
      return fmt::format("end of {}{} business day", t.days, ordinal_suffix(t.days));
  }
  return {};
}

boost::system::result<std::vector<open_range>, std::string> parse_hours(std::string_view text) {
  using result = boost::system::result<std::vector<open_range>, std::string>;
  std::vector<open_range> out;
  if (trim(text).empty()) return out;
  std::string_view rest = text;
  while (true) {
    const auto comma = rest.find(',');
    const auto item = trim(rest.substr(0, comma));
    const auto dash = item.find('-');
    auto from = clock_time(item.substr(0, dash));
    auto to = dash == std::string_view::npos ? std::nullopt : clock_time(item.substr(dash + 1));
    if (!from || !to)
      return result{boost::system::in_place_error,
                    fmt::format("\"{}\" is not a range: write HH:MM-HH:MM, ranges separated by "
                                "commas (\"09:00-12:30,13:30-17:00\"), or \"\" for closed",
                                item)};
    if (*to <= *from)
      return result{
          boost::system::in_place_error,
          fmt::format("\"{}\" ends before it starts: a range stays within one day", item)};
    out.push_back({*from, *to});
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.from < b.from; });
  for (std::size_t i = 1; i < out.size(); ++i)
    if (out[i].from < out[i - 1].to)
      return result{
          boost::system::in_place_error,
          fmt::format("{}-{} and {}-{} overlap", clock_text(out[i - 1].from),
                      clock_text(out[i - 1].to), clock_text(out[i].from), clock_text(out[i].to))};
  return out;
}

error parse_calendar(const toml::table& section, const std::filesystem::path& file,
                     const file_reader& read_file) {
  calendar cal = default_calendar();
  auto fail = [&](const toml::node& at, std::string_view key, std::string what) -> error {
    return {boost::system::in_place_error,
            fmt::format("{}: calendar.{}: {}", where(file, at), key, what)};
  };
  auto string_of = [](const toml::node& node) -> std::optional<std::string> {
    if (auto s = node.value<std::string>()) return *s;
    return std::nullopt;
  };
  for (auto&& [name, node] : section) {
    const auto key = name.str();
    const auto day = std::find(std::begin(weekday_keys), std::end(weekday_keys), key);
    if (key == "zone") {
      auto text = string_of(node);
      if (!text) return fail(node, key, "must be a string such as \"Europe/Paris\"");
      cal.zone = find_zone(*text);
      if (!cal.zone)
        return fail(node, key,
                    fmt::format("unknown time zone \"{}\": write an IANA name such as "
                                "\"Europe/Paris\" (see /usr/share/zoneinfo; is tzdata installed?)",
                                *text));
      cal.zone_name = *text;
    } else if (day != std::end(weekday_keys)) {
      auto text = string_of(node);
      if (!text) return fail(node, key, "must be a string such as \"09:00-12:30,13:30-17:00\"");
      auto hours = parse_hours(*text);
      if (!hours) return fail(node, key, hours.error());
      cal.hours[static_cast<std::size_t>(day - std::begin(weekday_keys))] = std::move(*hours);
    } else if (key == "holidays_preset") {
      auto text = string_of(node);
      if (!text || (*text != "fr" && *text != "none"))
        return fail(node, key, "must be \"fr\" (French public holidays) or \"none\"");
      cal.french_holidays = *text == "fr";
    } else if (key == "holidays") {
      const auto* list = node.as_array();
      if (!list) return fail(node, key, "must be a list of dates such as [\"2026-12-24\"]");
      for (const auto& item : *list) {
        std::optional<std::chrono::year_month_day> date;
        if (auto d = item.value<toml::date>())
          date = std::chrono::year{d->year} / std::chrono::month{d->month} / d->day;
        else if (auto s = string_of(item))
          date = iso_date(*s);
        if (!date || !date->ok())
          return fail(item, key, "each entry is a date, YYYY-MM-DD (\"2026-12-24\")");
        cal.holidays.insert(std::chrono::sys_days{*date});
      }
    } else if (key == "holidays_ical") {
      auto text = string_of(node);
      if (!text || text->empty()) return fail(node, key, "must be the path of an .ics file");
      std::filesystem::path path = *text;
      if (path.is_relative()) path = file.parent_path() / path;
      auto content = read_file(path);
      if (!content) return fail(node, key, content.error());
      auto dates = parse_ical_dates(*content);
      if (!dates)
        return fail(node, key,
                    fmt::format("{}:{}", path.string(), dates.error().substr(sizeof("line ") - 1)));
      for (const auto& d : *dates) cal.holidays.insert(std::chrono::sys_days{d});
    } else if (key == "first_response" || key == "resolution") {
      const auto* table = node.as_table();
      if (!table) return fail(node, key, "must be a table of targets by severity");
      auto& targets = key == "first_response" ? cal.targets.first_response : cal.targets.resolution;
      for (auto&& [level, value] : *table) {
        const auto full = fmt::format("{}.{}", key, level.str());
        const auto at = std::find(std::begin(severity_keys), std::end(severity_keys), level.str());
        if (at == std::end(severity_keys))
          return fail(value, full,
                      "unknown severity: the keys are blocking, semi-blocking and non-blocking");
        auto text = string_of(value);
        auto parsed = text ? parse_target(*text) : std::nullopt;
        if (!parsed)
          return fail(value, full,
                      fmt::format("\"{}\" is not a target: write business time (\"90m\", "
                                  "\"24h\"), business days (\"4d\") or \"end of 2nd business "
                                  "day\"",
                                  text.value_or("")));
        targets[static_cast<std::size_t>(at - std::begin(severity_keys))] = *parsed;
      }
    } else {
      return fail(node, key, "unknown setting: docs/calendar.md lists the calendar's keys");
    }
  }
  if (!cal.zone)
    return {boost::system::in_place_error,
            fmt::format("{}: calendar.zone: the time zone \"{}\" is not in the tz database "
                        "(/usr/share/zoneinfo): install tzdata",
                        where(file, section), cal.zone_name)};
  if (business_day_length(cal) == minutes{0})
    return {boost::system::in_place_error,
            fmt::format("{}: calendar: no open hours on any day: set monday = "
                        "\"09:00-12:30,13:30-17:00\" or the like",
                        where(file, section))};
  return cal;
}

}  // namespace valise::server::calendar
