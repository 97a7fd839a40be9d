#include "service/time_window.hpp"

#include <string>

#include "valise/common/rfc3339.hpp"
#include "valise/common/units.hpp"

namespace valise::agent {

std::optional<time_point> parse_rfc3339(std::string_view text) {
  std::string date_time(text);
  if (date_time.size() == 10) date_time += "T00:00:00Z";  // a date alone: midnight UTC
  if (date_time.size() > 10 && date_time[10] == ' ') date_time[10] = 'T';  // as people type it
  const auto seconds = common::parse_rfc3339(date_time);
  if (!seconds) return std::nullopt;
  return std::chrono::system_clock::from_time_t(static_cast<std::time_t>(*seconds));
}

std::optional<time_point> parse_time_argument(std::string_view text, time_point now) {
  if (auto t = parse_rfc3339(text)) return t;
  if (auto seconds = common::parse_duration(text)) return now - std::chrono::seconds(*seconds);
  return std::nullopt;
}

}  // namespace valise::agent
