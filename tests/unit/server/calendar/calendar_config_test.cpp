// The [calendar] keys of server.toml, parsed from real TOML text.
#include "calendar/calendar_config.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "calendar/holidays.hpp"
#include "test_time.hpp"

namespace valise::server::calendar {
namespace {

using namespace std::chrono_literals;
using result = boost::system::result<calendar, std::string>;

// Files the parser may ask for, by path.
std::map<std::string, std::string> files;

result parse(const std::string& text) {
  const std::filesystem::path file = "/etc/valise/server.toml";
  auto root = toml::parse(text, file.string());
  const auto* section = root["calendar"].as_table();
  EXPECT_NE(section, nullptr);
  return parse_calendar(
      *section, file,
      [](const std::filesystem::path& path) -> boost::system::result<std::string, std::string> {
        auto found = files.find(path.string());
        if (found == files.end())
          return {boost::system::in_place_error, path.string() + ": No such file or directory"};
        return {boost::system::in_place_value, found->second};
      });
}

std::string error_of(const std::string& text) {
  auto cal = parse(text);
  return cal ? "(no error)" : cal.error();
}

TEST(calendar_target, texts) {
  for (const char* text :
       {"90m", "24h", "4d", "end of 1st business day", "end of 2nd business day",
        "end of 3rd business day", "end of 11th business day", "end of 22nd business day"}) {
    auto t = parse_target(text);
    ASSERT_TRUE(t) << text;
    EXPECT_EQ(to_string(*t), text);
  }
  EXPECT_EQ(parse_target("90m")->amount, 90min);
  EXPECT_EQ(parse_target("4d")->type, target::kind::business_days);
  EXPECT_EQ(parse_target("end of 2nd business day")->days, 2u);
  for (const char* text :
       {"", "0h", "24", "h", "2.5h", "-1h", "24 h", "3w", "367d", "end of 2th business day",
        "end of 0th business day", "end of 2nd day", "end of second business day"})
    EXPECT_FALSE(parse_target(text)) << text;
}

TEST(calendar_config, defaults_when_the_section_is_empty) {
  auto cal = parse("[calendar]\n");
  ASSERT_TRUE(cal) << cal.error();
  EXPECT_EQ(cal->zone_name, "Europe/Paris");
  EXPECT_TRUE(cal->french_holidays);
  EXPECT_EQ(business_day_length(*cal), 7h);
}

TEST(calendar_config, every_key) {
  files["/etc/valise/closures.ics"] =
      "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20270104\nEND:VEVENT\nEND:VCALENDAR\n";
  auto cal = parse(R"(
[calendar]
zone = "America/New_York"
monday = "08:00-12:00, 13:00-17:00"
friday = ""
saturday = "09:00-12:00"
holidays_preset = "none"
holidays = ["2026-12-24", 2026-12-31]
holidays_ical = "closures.ics"
first_response.blocking = "90m"
resolution.semi-blocking = "end of 2nd business day"
resolution.non-blocking = "3d"
)");
  ASSERT_TRUE(cal) << cal.error();
  EXPECT_EQ(cal->zone_name, "America/New_York");
  ASSERT_EQ(cal->hours[1].size(), 2u);
  EXPECT_EQ(cal->hours[1][1].from, 13h);
  EXPECT_TRUE(cal->hours[5].empty());
  EXPECT_EQ(cal->hours[6][0].to, 12h);
  EXPECT_EQ(cal->hours[2][0].from, 9h);  // Tuesday keeps the default
  EXPECT_FALSE(cal->french_holidays);
  using std::chrono::sys_days, std::chrono::year;
  const std::set<sys_days> holidays = {
      sys_days{year{2026} / 12 / 24}, sys_days{year{2026} / 12 / 31}, sys_days{year{2027} / 1 / 4}};
  EXPECT_EQ(cal->holidays, holidays);
  EXPECT_EQ(to_string(cal->first_response(severity::blocking)), "90m");
  EXPECT_EQ(to_string(cal->first_response(severity::semi_blocking)), "4h");  // default
  EXPECT_EQ(to_string(cal->resolution(severity::semi_blocking)), "end of 2nd business day");
  EXPECT_EQ(to_string(cal->resolution(severity::non_blocking)), "3d");
  EXPECT_EQ(business_day_length(*cal), 8h);  // Monday, the longest
  // New York is UTC-5 in January: Monday 12 Jan 08:00 EST = 13:00Z.
  EXPECT_FALSE(is_open(*cal, test::utc(2026, 1, 12, 12, 59)));
  EXPECT_TRUE(is_open(*cal, test::utc(2026, 1, 12, 13)));
  // 14 July is no holiday without the French preset (a Tuesday, 10:00 EDT).
  EXPECT_TRUE(is_open(*cal, test::utc(2026, 7, 14, 14)));
}

TEST(calendar_config, bad_settings_say_where_and_what_to_write) {
  EXPECT_EQ(error_of("[calendar]\nzone = \"Europe/Pariss\"\n"),
            "/etc/valise/server.toml:2: calendar.zone: unknown time zone \"Europe/Pariss\": "
            "write an IANA name such as \"Europe/Paris\" (see /usr/share/zoneinfo; is tzdata "
            "installed?)");
  EXPECT_EQ(error_of("[calendar]\n\nmonday = \"09:00-12:30,12:00-17:00\"\n"),
            "/etc/valise/server.toml:3: calendar.monday: 09:00-12:30 and 12:00-17:00 overlap");
  EXPECT_EQ(error_of("[calendar]\ntuesday = \"17:00-09:00\"\n"),
            "/etc/valise/server.toml:2: calendar.tuesday: \"17:00-09:00\" ends before it starts: "
            "a range stays within one day");
  EXPECT_EQ(error_of("[calendar]\nwednesday = \"9h-12h\"\n"),
            "/etc/valise/server.toml:2: calendar.wednesday: \"9h-12h\" is not a range: write "
            "HH:MM-HH:MM, ranges separated by commas (\"09:00-12:30,13:30-17:00\"), or \"\" for "
            "closed");
  EXPECT_EQ(error_of("[calendar]\nresolution.blocking = \"24 hours\"\n"),
            "/etc/valise/server.toml:2: calendar.resolution.blocking: \"24 hours\" is not a "
            "target: write business time (\"90m\", \"24h\"), business days (\"4d\") or \"end of "
            "2nd business day\"");
  EXPECT_EQ(error_of("[calendar]\nresolution.urgent = \"4h\"\n"),
            "/etc/valise/server.toml:2: calendar.resolution.urgent: unknown severity: the keys "
            "are blocking, semi-blocking and non-blocking");
  EXPECT_EQ(error_of("[calendar]\nholidays = [\"24/12/2026\"]\n"),
            "/etc/valise/server.toml:2: calendar.holidays: each entry is a date, YYYY-MM-DD "
            "(\"2026-12-24\")");
  EXPECT_EQ(error_of("[calendar]\nholidays_preset = \"de\"\n"),
            "/etc/valise/server.toml:2: calendar.holidays_preset: must be \"fr\" (French public "
            "holidays) or \"none\"");
  EXPECT_EQ(error_of("[calendar]\nholidays_ical = \"/nowhere.ics\"\n"),
            "/etc/valise/server.toml:2: calendar.holidays_ical: /nowhere.ics: No such file or "
            "directory");
  files["/etc/valise/bad.ics"] = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nRRULE:FREQ=YEARLY\n";
  EXPECT_EQ(error_of("[calendar]\nholidays_ical = \"bad.ics\"\n"),
            "/etc/valise/server.toml:2: calendar.holidays_ical: /etc/valise/bad.ics:3: repeating "
            "events are not supported: export each holiday as its own event");
  EXPECT_EQ(error_of("[calendar]\ntimezone = \"UTC\"\n"),
            "/etc/valise/server.toml:2: calendar.timezone: unknown setting: docs/calendar.md "
            "lists the calendar's keys");
  EXPECT_EQ(error_of("[calendar]\nmonday = \"\"\ntuesday = \"\"\nwednesday = \"\"\n"
                     "thursday = \"\"\nfriday = \"\"\n"),
            "/etc/valise/server.toml:1: calendar: no open hours on any day: set monday = "
            "\"09:00-12:30,13:30-17:00\" or the like");
}

}  // namespace
}  // namespace valise::server::calendar
