// The [calendar] section of server.toml: parsing its keys into a calendar
// (docs/calendar.md lists them). The caller reads files: `read_file` is given
// holidays_ical's path, resolved against the directory of `file`.
#pragma once

#include <toml++/toml.h>

#include <boost/system/result.hpp>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "calendar/calendar.hpp"

namespace valise::server::calendar {

using file_reader =
    std::function<boost::system::result<std::string, std::string>(const std::filesystem::path&)>;

// "90m", "24h", "4d", "end of 2nd business day"; nullopt if it is none of them.
std::optional<target> parse_target(std::string_view text);
std::string to_string(const target& t);

// "09:00-12:30,13:30-17:00" (or "" for closed): sorted, not overlapping.
boost::system::result<std::vector<open_range>, std::string> parse_hours(std::string_view text);

// Keys absent from `section` keep default_calendar()'s values. Errors read
// "FILE:LINE: calendar.KEY: what is wrong and what to write".
boost::system::result<calendar, std::string> parse_calendar(const toml::table& section,
                                                            const std::filesystem::path& file,
                                                            const file_reader& read_file);

}  // namespace valise::server::calendar
