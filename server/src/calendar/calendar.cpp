#include "calendar/calendar.hpp"

#include <date/tz.h>

#include <algorithm>
#include <stdexcept>

#include "calendar/holidays.hpp"

namespace valise::server::calendar {
namespace {

using std::chrono::days;
using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::sys_days;

// Far enough for any target the configuration allows (a year at most), and
// a bound on the walk when holidays or pauses never end.
constexpr int max_walk_days = 366 * 20;

date::local_days to_local(sys_days day) {
  return date::local_days{date::days{day.time_since_epoch().count()}};
}

// The local date at `t`, as sys_days so that std::chrono's calendar types apply.
sys_days local_date(const calendar& cal, instant t) {
  if (!cal.zone) return std::chrono::floor<days>(t);
  const auto local = date::floor<date::days>(cal.zone->to_local(t));
  return sys_days{days{local.time_since_epoch().count()}};
}

instant to_utc(const calendar& cal, sys_days day, minutes at, date::choose choose) {
  if (!cal.zone) return instant{day} + at;
  // A local time skipped by a spring-forward maps to the transition, one
  // repeated by a fall-back to its earlier or later instance: the range
  // keeps what the wall clock shows.
  return cal.zone->to_sys(to_local(day) + at, choose);
}

// The day's open hours in UTC, in order (none on a holiday).
std::vector<interval> open_on(const calendar& cal, sys_days day) {
  std::vector<interval> out;
  if (is_holiday(cal, std::chrono::year_month_day{day})) return out;
  for (const auto& r : cal.hours[std::chrono::weekday{day}.c_encoding()])
    out.push_back({to_utc(cal, day, r.from, date::choose::earliest),
                   to_utc(cal, day, r.to, date::choose::latest)});
  return out;
}

// Calls `f` with each open stretch at or after `from`, in order, until it
// returns false.
template <class F>
void for_each_open(const calendar& cal, instant from, F&& f) {
  // A day's ranges end by its midnight, so the day before cannot reach past
  // `from`; starting there is harmless and safe whatever the offset.
  auto day = local_date(cal, from) - days{1};
  for (int i = 0; i < max_walk_days; ++i, day += days{1})
    for (auto open : open_on(cal, day)) {
      if (open.to <= from) continue;
      open.from = std::max(open.from, from);
      if (!f(open)) return;
    }
}

std::vector<interval> merged(std::span<const interval> paused) {
  std::vector<interval> out;
  for (const auto& p : paused)
    if (p.from < p.to) out.push_back(p);
  std::sort(out.begin(), out.end(), [](auto& x, auto& y) { return x.from < y.from; });
  std::vector<interval> result;
  for (const auto& p : out)
    if (!result.empty() && p.from <= result.back().to)
      result.back().to = std::max(result.back().to, p.to);
    else
      result.push_back(p);
  return result;
}

// The instant at which `need` of open time outside `paused` (merged, all
// with an end) has run from `start`.
std::optional<instant> advance(const calendar& cal, instant start, seconds need,
                               const std::vector<interval>& paused) {
  std::optional<instant> due;
  if (need <= seconds{0}) return start;
  auto consume = [&](instant from, instant to) {
    if (to - from >= need) {
      due = from + need;
      return true;
    }
    need -= to - from;
    return false;
  };
  for_each_open(cal, start, [&](interval open) {
    auto at = open.from;
    for (const auto& p : paused) {
      if (p.to <= at) continue;
      if (p.from >= open.to) break;
      if (p.from > at && consume(at, p.from)) return false;
      at = std::max(at, p.to);
      if (at >= open.to) return true;
    }
    return !consume(at, open.to);
  });
  return due;
}

// The close of the Nth open day whose first opening is at or after `start`:
// a business day counts only if the ticket was there for all of it.
std::optional<instant> end_of_business_day(const calendar& cal, instant start, unsigned n) {
  auto day = local_date(cal, start);
  for (int i = 0; i < max_walk_days; ++i, day += days{1}) {
    const auto open = open_on(cal, day);
    if (open.empty() || open.front().from < start) continue;
    if (--n == 0) return open.back().to;
  }
  return std::nullopt;
}

}  // namespace

const date::time_zone* find_zone(std::string_view name) {
  try {
    return date::locate_zone(name);
  } catch (const std::runtime_error&) {
    return nullptr;  // no such zone, or no tz database at all
  }
}

calendar default_calendar() {
  calendar cal;
  cal.zone_name = "Europe/Paris";
  cal.zone = find_zone(cal.zone_name);
  const std::vector<open_range> day = {{minutes{9 * 60}, minutes{12 * 60 + 30}},
                                       {minutes{13 * 60 + 30}, minutes{17 * 60}}};
  for (unsigned wd = 1; wd <= 5; ++wd) cal.hours[wd] = day;
  cal.french_holidays = true;
  using kind = target::kind;
  auto hours = [](int h) { return target{kind::business_time, std::chrono::hours{h}, 0}; };
  cal.targets.first_response = {hours(2), hours(4), hours(8)};
  cal.targets.resolution = {hours(24), hours(48), target{kind::business_days, {}, 4}};
  return cal;
}

bool is_holiday(const calendar& cal, std::chrono::year_month_day local_date) {
  if (cal.holidays.contains(sys_days{local_date})) return true;
  if (!cal.french_holidays) return false;
  const auto french = french_holidays(local_date.year());
  return std::find(french.begin(), french.end(), local_date) != french.end();
}

bool is_open(const calendar& cal, instant t) {
  return business_time_between(cal, t, t + seconds{1}) > seconds{0};
}

seconds business_time_between(const calendar& cal, instant a, instant b) {
  seconds total{0};
  if (b <= a) return total;
  for_each_open(cal, a, [&](interval open) {
    if (open.from >= b) return false;
    total += std::min(open.to, b) - open.from;
    return open.to < b;
  });
  return total;
}

minutes business_day_length(const calendar& cal) {
  minutes longest{0};
  for (const auto& day : cal.hours) {
    minutes length{0};
    for (const auto& r : day) length += r.to - r.from;
    longest = std::max(longest, length);
  }
  return longest;
}

std::optional<instant> due_at(const calendar& cal, instant start, const target& t,
                              std::span<const interval> paused) {
  // Every target becomes an amount of open time from the start; pauses then
  // push the instant it runs out later, whatever the kind of target.
  seconds need{0};
  switch (t.type) {
    case target::kind::business_time:
      need = t.amount;
      break;
    case target::kind::business_days:
      need = business_day_length(cal) * t.days;
      break;
    case target::kind::end_of_business_day: {
      const auto close = end_of_business_day(cal, start, t.days);
      if (!close) return std::nullopt;
      need = business_time_between(cal, start, *close);
      break;
    }
  }
  auto pauses = merged(paused);
  // A pause still running stops the clock: the deadline is unknown unless it
  // fell before the pause began.
  std::optional<instant> running_since;
  if (!pauses.empty() && pauses.back().to == instant::max()) {
    running_since = pauses.back().from;
    pauses.pop_back();
  }
  const auto due = advance(cal, start, need, pauses);
  if (due && running_since && *due > *running_since) return std::nullopt;
  return due;
}

}  // namespace valise::server::calendar
