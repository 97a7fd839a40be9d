// The calendar arithmetic over the default calendar (Europe/Paris, Mon–Fri
// 09:00–12:30 and 13:30–17:00, French holidays), each case worked out by
// hand. Paris is UTC+1 (CET) until 29 March 2026 01:00Z and from 25 October
// 2026 01:00Z, UTC+2 (CEST) in between; every instant is written in UTC with
// its local time beside it, so a wrong offset cannot pass unnoticed.
#include "calendar/calendar.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "test_time.hpp"

namespace valise::server::calendar {
namespace {

using namespace std::chrono_literals;
using test::utc;

target hours(int n) {
  return {target::kind::business_time, std::chrono::hours{n}, 0};
}
target minutes(int n) {
  return {target::kind::business_time, std::chrono::minutes{n}, 0};
}
target business_days(unsigned n) {
  return {target::kind::business_days, {}, n};
}
target end_of_day(unsigned n) {
  return {target::kind::end_of_business_day, {}, n};
}

class calendar_test : public ::testing::Test {
 protected:
  calendar cal = default_calendar();
  std::optional<instant> due(instant start, const target& t, std::vector<interval> paused = {}) {
    return due_at(cal, start, t, paused);
  }
};

TEST_F(calendar_test, default_calendar_is_the_contract) {
  ASSERT_NE(cal.zone, nullptr) << "Europe/Paris missing from the tz database (tzdata)";
  EXPECT_EQ(business_day_length(cal), 7h);  // 3 h 30 + 3 h 30
  EXPECT_EQ(cal.resolution(severity::blocking).amount, 24h);
  EXPECT_EQ(cal.resolution(severity::semi_blocking).amount, 48h);
  EXPECT_EQ(cal.resolution(severity::non_blocking).type, target::kind::business_days);
  EXPECT_EQ(cal.resolution(severity::non_blocking).days, 4u);
  EXPECT_EQ(cal.first_response(severity::blocking).amount, 2h);
  EXPECT_EQ(cal.first_response(severity::semi_blocking).amount, 4h);
  EXPECT_EQ(cal.first_response(severity::non_blocking).amount, 8h);
}

TEST_F(calendar_test, is_open_follows_the_ranges_and_the_days) {
  // Monday 12 January 2026, CET.
  EXPECT_FALSE(is_open(cal, utc(2026, 1, 12, 7, 59) + 59s));  // 08:59:59
  EXPECT_TRUE(is_open(cal, utc(2026, 1, 12, 8)));             // 09:00
  EXPECT_TRUE(is_open(cal, utc(2026, 1, 12, 11, 29) + 59s));  // 12:29:59
  EXPECT_FALSE(is_open(cal, utc(2026, 1, 12, 11, 30)));       // 12:30, lunch
  EXPECT_FALSE(is_open(cal, utc(2026, 1, 12, 12, 0)));        // 13:00, lunch
  EXPECT_TRUE(is_open(cal, utc(2026, 1, 12, 12, 30)));        // 13:30
  EXPECT_TRUE(is_open(cal, utc(2026, 1, 12, 15, 59)));        // 16:59
  EXPECT_FALSE(is_open(cal, utc(2026, 1, 12, 16, 0)));        // 17:00
  EXPECT_FALSE(is_open(cal, utc(2026, 1, 17, 9)));            // Saturday 10:00
  EXPECT_FALSE(is_open(cal, utc(2026, 1, 18, 9)));            // Sunday 10:00
  // Friday 1 May 2026 and Whit Monday 25 May 2026, 10:00 CEST.
  EXPECT_FALSE(is_open(cal, utc(2026, 5, 1, 8)));
  EXPECT_FALSE(is_open(cal, utc(2026, 5, 25, 8)));
  EXPECT_TRUE(is_open(cal, utc(2026, 5, 26, 8)));  // the Tuesday after
}

TEST_F(calendar_test, business_time_between_counts_open_hours_only) {
  // Mon 12 Jan 00:00 CET to Mon 19 Jan 00:00 CET: five days of 7 h.
  EXPECT_EQ(business_time_between(cal, utc(2026, 1, 11, 23), utc(2026, 1, 18, 23)), 35h);
  // Mon 4 May to Mon 11 May 2026 (CEST): Friday 8 May is a holiday, 4 × 7 h.
  EXPECT_EQ(business_time_between(cal, utc(2026, 5, 3, 22), utc(2026, 5, 10, 22)), 28h);
  // Mon 11 May to Mon 18 May 2026: Thursday 14 May is Ascension, 4 × 7 h.
  EXPECT_EQ(business_time_between(cal, utc(2026, 5, 10, 22), utc(2026, 5, 17, 22)), 28h);
  // Mon 12 Jan 11:00 to 14:00 CET: 11:00–12:30 and 13:30–14:00 = 2 h.
  EXPECT_EQ(business_time_between(cal, utc(2026, 1, 12, 10), utc(2026, 1, 12, 13)), 2h);
  EXPECT_EQ(business_time_between(cal, utc(2026, 1, 12, 13), utc(2026, 1, 12, 10)), 0s);
}

TEST_F(calendar_test, across_the_lunch_break) {
  // Mon 12 Jan 11:30 CET (10:30Z) + 2 h: 11:30–12:30 is 1 h, 13:30–14:30 the
  // second: 14:30 CET = 13:30Z.
  EXPECT_EQ(due(utc(2026, 1, 12, 10, 30), hours(2)), utc(2026, 1, 12, 13, 30));
  // Mon 09:00 CET + 3 h 30 ends exactly at the 12:30 close, not at 13:30.
  EXPECT_EQ(due(utc(2026, 1, 12, 8), minutes(210)), utc(2026, 1, 12, 11, 30));
  // Opened at 12:45 CET, during lunch: counting starts at 13:30, + 1 h = 14:30 CET.
  EXPECT_EQ(due(utc(2026, 1, 12, 11, 45), hours(1)), utc(2026, 1, 12, 13, 30));
}

TEST_F(calendar_test, across_a_weekend) {
  // Fri 16 Jan 16:00 CET (15:00Z) + 2 h: 16:00–17:00 is 1 h, then Monday 19
  // 09:00–10:00: 10:00 CET = 09:00Z.
  EXPECT_EQ(due(utc(2026, 1, 16, 15), hours(2)), utc(2026, 1, 19, 9));
}

TEST_F(calendar_test, twenty_four_business_hours_from_monday_ten) {
  // Mon 12 Jan 10:00 CET (09:00Z): Monday 10:00–12:30 + 13:30–17:00 = 6 h,
  // Tuesday 7 h (13), Wednesday 7 h (20), Thursday 09:00–12:30 (23.5) and
  // 13:30–14:00 (24): Thursday 15 Jan 14:00 CET = 13:00Z.
  EXPECT_EQ(due(utc(2026, 1, 12, 9), hours(24)), utc(2026, 1, 15, 13));
  // 48 h: Thursday ends at 27 h, Friday 34, Monday 19 41, Tuesday 20 48, which
  // is reached at its 17:00 close: 16:00Z.
  EXPECT_EQ(due(utc(2026, 1, 12, 9), hours(48)), utc(2026, 1, 20, 16));
}

TEST_F(calendar_test, four_business_days) {
  // 4 × 7 h = 28 h from Mon 12 Jan 10:00 CET: Thursday ends at 27 h (above),
  // Friday 16 Jan 09:00 + 1 h = 10:00 CET = 09:00Z.
  EXPECT_EQ(due(utc(2026, 1, 12, 9), business_days(4)), utc(2026, 1, 16, 9));
  EXPECT_EQ(due(utc(2026, 1, 12, 9), cal.resolution(severity::non_blocking)), utc(2026, 1, 16, 9));
}

TEST_F(calendar_test, end_of_the_nth_business_day) {
  // Opened Mon 12 Jan 10:00 CET: Monday had opened already, so it does not
  // count; Tuesday is the 1st, Wednesday the 2nd: Wed 14 Jan 17:00 CET = 16:00Z.
  EXPECT_EQ(due(utc(2026, 1, 12, 9), end_of_day(2)), utc(2026, 1, 14, 16));
  // Opened Mon 08:00 CET (07:00Z), before the opening: Monday is the 1st,
  // Tuesday the 2nd: Tue 13 Jan 17:00 CET = 16:00Z.
  EXPECT_EQ(due(utc(2026, 1, 12, 7), end_of_day(2)), utc(2026, 1, 13, 16));
  // Opened Saturday 17 Jan: Monday 19 is the 1st, Tuesday 20 the 2nd.
  EXPECT_EQ(due(utc(2026, 1, 17, 9), end_of_day(2)), utc(2026, 1, 20, 16));
  // Opened Fri 16 Jan 10:00 CET: the 1st is Monday 19, 17:00 CET = 16:00Z.
  EXPECT_EQ(due(utc(2026, 1, 16, 9), end_of_day(1)), utc(2026, 1, 19, 16));
  // Opened Wed 13 May 2026 10:00 CEST: Thursday 14 is Ascension, so the 1st
  // is Friday 15, the 2nd Monday 18: 17:00 CEST = 15:00Z.
  EXPECT_EQ(due(utc(2026, 5, 13, 8), end_of_day(2)), utc(2026, 5, 18, 15));
}

TEST_F(calendar_test, across_a_holiday) {
  // Ascension 2026 is Thursday 14 May. Wed 13 May 15:00 CEST (13:00Z) + 24 h:
  // Wednesday 15:00–17:00 = 2 h, Thursday closed, Friday 15 7 h (9), Monday 18
  // (16), Tuesday 19 (23), Wednesday 20 09:00 + 1 h = 10:00 CEST = 08:00Z.
  EXPECT_EQ(due(utc(2026, 5, 13, 13), hours(24)), utc(2026, 5, 20, 8));
  // Easter Monday 2026 is 6 April. Fri 3 April 16:00 CEST (14:00Z) + 4 h:
  // Friday 1 h, Monday closed, Tuesday 7 April 09:00 + 3 h = 12:00 CEST = 10:00Z.
  EXPECT_EQ(due(utc(2026, 4, 3, 14), hours(4)), utc(2026, 4, 7, 10));
}

TEST_F(calendar_test, spring_forward_week) {
  // Sunday 29 March 2026, 02:00 CET becomes 03:00 CEST. Friday 27 is CET,
  // Monday 30 CEST: the same 09:00 opening is 08:00Z, then 07:00Z.
  EXPECT_FALSE(is_open(cal, utc(2026, 3, 27, 7, 30)));  // 08:30 CET
  EXPECT_TRUE(is_open(cal, utc(2026, 3, 27, 8)));       // 09:00 CET
  EXPECT_FALSE(is_open(cal, utc(2026, 3, 30, 6, 59)));  // 08:59 CEST
  EXPECT_TRUE(is_open(cal, utc(2026, 3, 30, 7)));       // 09:00 CEST
  // Fri 27 March 13:30 CET (12:30Z) + 7 h: Friday 13:30–17:00 = 3 h 30,
  // Monday 09:00–12:30 CEST = 3 h 30: 12:30 CEST = 10:30Z (a fixed +1 offset
  // would say 11:30Z).
  EXPECT_EQ(due(utc(2026, 3, 27, 12, 30), hours(7)), utc(2026, 3, 30, 10, 30));
  // Opened during the short night, 01:30Z = 03:30 CEST Sunday: counting starts
  // Monday 09:00 CEST, + 1 h = 10:00 CEST = 08:00Z.
  EXPECT_EQ(due(utc(2026, 3, 29, 1, 30), hours(1)), utc(2026, 3, 30, 8));
  // Mon 23 March 00:00 CET (22 March 23:00Z) to Sat 4 April 00:00 CEST
  // (3 April 22:00Z): ten working days of 7 h, none lost or gained.
  EXPECT_EQ(business_time_between(cal, utc(2026, 3, 22, 23), utc(2026, 4, 3, 22)), 70h);
}

TEST_F(calendar_test, fall_back_week) {
  // Sunday 25 October 2026, 03:00 CEST becomes 02:00 CET. Fri 23 October
  // 15:00 CEST (13:00Z) + 4 h: Friday 15:00–17:00 = 2 h, Monday 26 09:00 CET
  // + 2 h = 11:00 CET = 10:00Z.
  EXPECT_EQ(due(utc(2026, 10, 23, 13), hours(4)), utc(2026, 10, 26, 10));
  EXPECT_TRUE(is_open(cal, utc(2026, 10, 23, 7)));   // Friday 09:00 CEST
  EXPECT_FALSE(is_open(cal, utc(2026, 10, 26, 7)));  // Monday 08:00 CET
  EXPECT_TRUE(is_open(cal, utc(2026, 10, 26, 8)));   // Monday 09:00 CET
  // Mon 19 October 00:00 CEST (18 October 22:00Z) to Sat 31 October 00:00 CET
  // (30 October 23:00Z): ten working days, 70 h.
  EXPECT_EQ(business_time_between(cal, utc(2026, 10, 18, 22), utc(2026, 10, 30, 23)), 70h);
}

TEST_F(calendar_test, opened_outside_hours_starts_at_the_next_opening) {
  // Mon 12 Jan 19:00 CET (18:00Z) + 2 h: Tuesday 09:00–11:00 CET = 10:00Z.
  EXPECT_EQ(due(utc(2026, 1, 12, 18), hours(2)), utc(2026, 1, 13, 10));
  // Tue 13 Jan 07:00 CET (06:00Z) + 90 min: 09:00–10:30 CET = 09:30Z.
  EXPECT_EQ(due(utc(2026, 1, 13, 6), minutes(90)), utc(2026, 1, 13, 9, 30));
  // Saturday 17 Jan 10:00 CET + 2 h: Monday 19 09:00–11:00 CET = 10:00Z.
  EXPECT_EQ(due(utc(2026, 1, 17, 9), hours(2)), utc(2026, 1, 19, 10));
  // Ascension Thursday 14 May 2026 10:00 CEST (08:00Z) + 2 h: Friday 15
  // 09:00–11:00 CEST = 09:00Z.
  EXPECT_EQ(due(utc(2026, 5, 14, 8), hours(2)), utc(2026, 5, 15, 9));
}

TEST_F(calendar_test, a_pause_stops_the_clock) {
  const auto start = utc(2026, 1, 12, 9);  // Mon 12 Jan 10:00 CET, due Thu 14:00 unpaused
  // Pending from Tue 13 Jan 09:00 CET to Wed 14 Jan 09:00 CET: Tuesday's 7 h
  // do not count, so the deadline moves 7 business hours past Thu 14:00:
  // Thursday 14:00–17:00 (3 h), Friday 09:00–12:30 (6.5 h), 13:30–14:00 (7 h):
  // Fri 16 Jan 14:00 CET = 13:00Z.
  EXPECT_EQ(due(start, hours(24), {{utc(2026, 1, 13, 8), utc(2026, 1, 14, 8)}}),
            utc(2026, 1, 16, 13));
  // The same pause given as two overlapping pieces, out of order.
  EXPECT_EQ(due(start, hours(24),
                {{utc(2026, 1, 13, 10), utc(2026, 1, 14, 8)},
                 {utc(2026, 1, 13, 8), utc(2026, 1, 13, 12)}}),
            utc(2026, 1, 16, 13));
  // Pending Mon 11:00–15:00 CET: 11:00–12:30 and 13:30–15:00 = 3 h paused,
  // Thu 14:00 + 3 h = Thu 15 Jan 17:00 CET = 16:00Z.
  EXPECT_EQ(due(start, hours(24), {{utc(2026, 1, 12, 10), utc(2026, 1, 12, 14)}}),
            utc(2026, 1, 15, 16));
  // A pause over the weekend (Fri 17:00 to Mon 09:00 CET) costs no open time:
  // 48 h stays Tue 20 Jan 17:00 CET = 16:00Z.
  EXPECT_EQ(due(start, hours(48), {{utc(2026, 1, 16, 16), utc(2026, 1, 19, 8)}}),
            utc(2026, 1, 20, 16));
  // Still pending (no end) since Tue 11:00 CET: the deadline is unknown.
  EXPECT_EQ(due(start, hours(24), {{utc(2026, 1, 13, 10), instant::max()}}), std::nullopt);
  // Pending only since Friday, after the deadline fell: it stays Thu 14:00.
  EXPECT_EQ(due(start, hours(24), {{utc(2026, 1, 16, 9), instant::max()}}), utc(2026, 1, 15, 13));
  // End of the 2nd business day (Wed 17:00) with Tuesday 13:30–17:00 CET
  // pending (3 h 30): Thursday 09:00–12:30 = 12:30 CET = 11:30Z.
  EXPECT_EQ(due(start, end_of_day(2), {{utc(2026, 1, 13, 12, 30), utc(2026, 1, 13, 16)}}),
            utc(2026, 1, 15, 11, 30));
}

TEST_F(calendar_test, a_longer_saturday_does_not_change_a_business_day) {
  cal.hours[6] = {{std::chrono::minutes{9 * 60}, std::chrono::minutes{12 * 60}}};
  EXPECT_EQ(business_day_length(cal), 7h);  // the longest day, Mon–Fri
  // Fri 16 Jan 16:00 CET + 2 h: Friday 1 h, Saturday 09:00–10:00 CET = 09:00Z.
  EXPECT_EQ(due(utc(2026, 1, 16, 15), hours(2)), utc(2026, 1, 17, 9));
}

TEST_F(calendar_test, a_whole_day_open_follows_the_wall_clock) {
  // Sunday open 00:00-24:00: the day of the spring change has 23 hours
  // (00:00 CET = 28 March 23:00Z to 24:00 CEST = 29 March 22:00Z), the day of
  // the autumn change 25 (00:00 CEST = 24 October 22:00Z to 24:00 CET =
  // 25 October 23:00Z).
  cal.hours[0] = {{std::chrono::minutes{0}, std::chrono::minutes{24 * 60}}};
  EXPECT_EQ(business_time_between(cal, utc(2026, 3, 28, 12), utc(2026, 3, 30, 0)), 23h);
  EXPECT_EQ(business_time_between(cal, utc(2026, 10, 24, 12), utc(2026, 10, 26, 0)), 25h);
  // Opened Sat 28 March 18:00 CET + 23 h runs out at the Sunday's end,
  // 29 March 22:00Z, not at a fixed offset's 23:00Z.
  EXPECT_EQ(due(utc(2026, 3, 28, 17), hours(23)), utc(2026, 3, 29, 22));
}

TEST_F(calendar_test, explicit_holidays_close_the_day) {
  // Thu 24 December 2026 closed by the operator: Wed 23 Dec 16:00 CET
  // (15:00Z) + 2 h = Wednesday 1 h, Friday 25 is Christmas, Monday 28
  // 09:00–10:00 CET = 09:00Z.
  cal.holidays.insert(std::chrono::sys_days{std::chrono::year{2026} / 12 / 24});
  EXPECT_EQ(due(utc(2026, 12, 23, 15), hours(2)), utc(2026, 12, 28, 9));
}

}  // namespace
}  // namespace valise::server::calendar
