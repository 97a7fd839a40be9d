// Holiday dates: French public holidays by rule, and the all-day events of
// an iCalendar file (RFC 5545), parsed from its text.
#pragma once

#include <boost/system/result.hpp>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace valise::server::calendar {

// Easter Sunday of a Gregorian year (the anonymous Gregorian computus).
std::chrono::year_month_day easter_sunday(std::chrono::year y);

// The eleven French public holidays of a year, in date order.
std::vector<std::chrono::year_month_day> french_holidays(std::chrono::year y);

// The dates of the file's all-day VEVENTs (DTSTART;VALUE=DATE:YYYYMMDD; a
// DTEND;VALUE=DATE makes the event cover every day up to it, excluded).
// Timed events are not holidays and are skipped; RRULE is refused, since a
// repeated holiday silently missed is worse than an error. Errors read
// "line N: what is wrong".
boost::system::result<std::vector<std::chrono::year_month_day>, std::string> parse_ical_dates(
    std::string_view text);

}  // namespace valise::server::calendar
