// Ticket deadlines in business time: the [calendar] section of server.toml,
// and the rule the store computes due dates with (ticket_store::set_deadline_rule).
#pragma once

#include <toml++/toml.h>

#include <boost/system/result.hpp>
#include <filesystem>
#include <memory>
#include <string>

#include "calendar/calendar.hpp"
#include "valise/server/store/ticket_store.hpp"

namespace valise::server {

// [calendar], its holidays_ical file read from beside `file`; errors read
// "FILE:LINE: calendar.KEY: ..." (calendar_config.hpp).
boost::system::result<std::shared_ptr<const calendar::calendar>, std::string>
parse_calendar_section(const toml::table& section, const std::filesystem::path& file);

// The first-response and resolution targets of `cal` for the severity,
// counted from the creation, the pauses pushing them back; nullptr counts
// with default_calendar().
deadline_rule calendar_deadline_rule(std::shared_ptr<const calendar::calendar> cal);

}  // namespace valise::server
