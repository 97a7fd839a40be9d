// French public holidays by rule, and the dates of an iCalendar file.
#include "calendar/holidays.hpp"

#include <gtest/gtest.h>

#include <string>

namespace valise::server::calendar {
namespace {

using namespace std::chrono;

TEST(holidays, easter_by_the_gregorian_computus) {
  EXPECT_EQ(easter_sunday(year{2024}), year{2024} / March / 31);
  EXPECT_EQ(easter_sunday(year{2025}), year{2025} / April / 20);
  EXPECT_EQ(easter_sunday(year{2026}), year{2026} / April / 5);
  EXPECT_EQ(easter_sunday(year{2027}), year{2027} / March / 28);
  EXPECT_EQ(easter_sunday(year{2038}), year{2038} / April / 25);  // the latest possible
  EXPECT_EQ(easter_sunday(year{2285}), year{2285} / March / 22);  // the earliest possible
}

TEST(holidays, french_2026) {
  // Easter Sunday 5 April: Easter Monday 6 April, Ascension (+39) Thursday 14
  // May, Whit Monday (+50) 25 May.
  const std::vector<year_month_day> expected = {
      year{2026} / January / 1,   year{2026} / April / 6,    year{2026} / May / 1,
      year{2026} / May / 8,       year{2026} / May / 14,     year{2026} / May / 25,
      year{2026} / July / 14,     year{2026} / August / 15,  year{2026} / November / 1,
      year{2026} / November / 11, year{2026} / December / 25};
  EXPECT_EQ(french_holidays(year{2026}), expected);
  EXPECT_EQ(weekday{sys_days{year{2026} / May / 14}}, Thursday);
}

TEST(holidays, french_2027) {
  // Easter Sunday 28 March: Easter Monday 29 March, Ascension 6 May (before
  // 8 May this year), Whit Monday 17 May.
  const std::vector<year_month_day> expected = {
      year{2027} / January / 1,   year{2027} / March / 29,   year{2027} / May / 1,
      year{2027} / May / 6,       year{2027} / May / 8,      year{2027} / May / 17,
      year{2027} / July / 14,     year{2027} / August / 15,  year{2027} / November / 1,
      year{2027} / November / 11, year{2027} / December / 25};
  EXPECT_EQ(french_holidays(year{2027}), expected);
}

TEST(ical, all_day_events_give_their_dates) {
  // CRLF line ends, a folded line, lower-case parameter, a timed meeting that
  // is no holiday, a two-day closure (DTEND is exclusive) and a duplicate.
  const std::string text =
      "BEGIN:VCALENDAR\r\n"
      "VERSION:2.0\r\n"
      "PRODID:-//test//EN\r\n"
      "BEGIN:VEVENT\r\n"
      "UID:1@test\r\n"
      "DTSTART;VALUE=DATE:20261224\r\n"
      "SUMMARY:Christmas\r\n"
      "  Eve\r\n"
      "END:VEVENT\r\n"
      "BEGIN:VEVENT\r\n"
      "DTSTART;TZID=Europe/Paris:20261210T100000\r\n"
      "DTEND;TZID=Europe/Paris:20261210T110000\r\n"
      "SUMMARY:Team meeting\r\n"
      "END:VEVENT\r\n"
      "BEGIN:VEVENT\r\n"
      "DTSTART;value=date:20261230\r\n"
      "DTEND;VALUE=DATE:2027\r\n"
      " 0101\r\n"
      "END:VEVENT\r\n"
      "BEGIN:VEVENT\r\n"
      "DTSTART;VALUE=DATE:20261224\r\n"
      "END:VEVENT\r\n"
      "END:VCALENDAR\r\n";
  auto dates = parse_ical_dates(text);
  ASSERT_TRUE(dates) << dates.error();
  const std::vector<year_month_day> expected = {
      year{2026} / December / 24, year{2026} / December / 30, year{2026} / December / 31};
  EXPECT_EQ(*dates, expected);
}

TEST(ical, bad_files_say_which_line) {
  EXPECT_EQ(parse_ical_dates("hello\n").error(),
            "line 1: not an iCalendar file: it must start with BEGIN:VCALENDAR");
  EXPECT_EQ(parse_ical_dates("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260231\n"
                             "END:VEVENT\nEND:VCALENDAR\n")
                .error(),
            "line 3: DTSTART \"20260231\" is not a date: write YYYYMMDD");
  EXPECT_EQ(parse_ical_dates("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260101\n"
                             "RRULE:FREQ=YEARLY\nEND:VEVENT\nEND:VCALENDAR\n")
                .error(),
            "line 4: repeating events are not supported: export each holiday as its own event");
  EXPECT_EQ(parse_ical_dates("BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:x\nEND:VEVENT\n").error(),
            "line 2: an event without DTSTART;VALUE=DATE:YYYYMMDD");
  EXPECT_EQ(parse_ical_dates("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260105\n"
                             "DTEND;VALUE=DATE:20260105\nEND:VEVENT\n")
                .error(),
            "line 2: the event's DTEND is not after its DTSTART");
  EXPECT_EQ(
      parse_ical_dates("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260105\n").error(),
      "line 2: the event has no END:VEVENT");
}

}  // namespace
}  // namespace valise::server::calendar
