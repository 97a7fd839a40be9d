// Business-time arithmetic for ticket deadlines: a calendar is a time zone,
// weekly open hours, holidays and per-severity targets. Pure code over UTC
// instants; the zone converts each day's local open hours to UTC, so DST
// changes move the UTC offset, never the open hours. No I/O apart from the
// time-zone database (date/tz.h reads /usr/share/zoneinfo once).
#pragma once

#include <array>
#include <chrono>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "valise/server/store/ticket_store.hpp"  // severity

namespace date {
class time_zone;
}

namespace valise::server::calendar {

using instant = std::chrono::sys_seconds;  // UTC at every boundary

// One open range of a day, local wall-clock time since midnight, from < to.
struct open_range {
  std::chrono::minutes from{};
  std::chrono::minutes to{};
};

// What a deadline is, counted from when the clock starts.
struct target {
  enum class kind {
    business_time,        // N minutes of open hours ("90m", "24h")
    business_days,        // N × the open hours of one day ("4d")
    end_of_business_day,  // the close of the Nth open day that opens after the start
  };
  kind type = kind::business_time;
  std::chrono::minutes amount{};  // business_time
  unsigned days = 0;              // business_days, end_of_business_day
};

struct severity_targets {
  // Indexed by severity (blocking, semi_blocking, non_blocking).
  std::array<target, 3> first_response{};
  std::array<target, 3> resolution{};
};

// A stretch of time the clock does not run (a ticket set pending); `to` is
// instant::max() while it lasts.
struct interval {
  instant from{};
  instant to{};
};

struct calendar {
  // nullptr counts in UTC: only default_calendar() on a machine without
  // tzdata leaves it so, and parse_calendar() refuses that.
  const date::time_zone* zone = nullptr;
  std::string zone_name;
  // Indexed by weekday, Sunday = 0 (std::chrono::weekday::c_encoding), each
  // sorted and not overlapping.
  std::array<std::vector<open_range>, 7> hours;
  std::set<std::chrono::sys_days> holidays;  // local dates, as sys_days for ordering
  bool french_holidays = false;              // every year's, generated on demand
  severity_targets targets;

  const target& first_response(severity s) const {
    return targets.first_response[static_cast<std::size_t>(s)];
  }
  const target& resolution(severity s) const {
    return targets.resolution[static_cast<std::size_t>(s)];
  }
};

// Europe/Paris, Mon–Fri 09:00–12:30 and 13:30–17:00, French public holidays;
// first response 2/4/8 business hours, resolution 24 h, 48 h, 4 business days.
calendar default_calendar();

// The zone by IANA name, or nullptr if the tz database has no such zone.
const date::time_zone* find_zone(std::string_view name);

bool is_holiday(const calendar& cal, std::chrono::year_month_day local_date);
bool is_open(const calendar& cal, instant t);

// Open time in [a, b) (zero if b <= a).
std::chrono::seconds business_time_between(const calendar& cal, instant a, instant b);

// The open hours of the longest open weekday: the length of a business day.
std::chrono::minutes business_day_length(const calendar& cal);

// When `t` falls due for a clock started at `start` (a ticket opened outside
// hours starts counting at the next opening); time inside `paused` does not
// count, which pushes the deadline later by the open time paused. nullopt
// while a pause has no end (the clock is stopped).
std::optional<instant> due_at(const calendar& cal, instant start, const target& t,
                              std::span<const interval> paused = {});

}  // namespace valise::server::calendar
