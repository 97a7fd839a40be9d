#include "deadlines/deadlines.hpp"

#include "calendar/calendar_config.hpp"
#include "valise/common/file_io.hpp"

namespace valise::server {

boost::system::result<std::shared_ptr<const calendar::calendar>, std::string>
parse_calendar_section(const toml::table& section, const std::filesystem::path& file) {
  auto read =
      [](const std::filesystem::path& path) -> boost::system::result<std::string, std::string> {
    auto text = common::read_small_file(path);
    if (!text)
      return {boost::system::in_place_error, path.string() + ": " + text.error().message()};
    return {boost::system::in_place_value, std::move(*text)};
  };
  auto cal = calendar::parse_calendar(section, file, read);
  if (!cal) return {boost::system::in_place_error, std::move(cal.error())};
  return std::make_shared<const calendar::calendar>(std::move(*cal));
}

deadline_rule calendar_deadline_rule(std::shared_ptr<const calendar::calendar> cal) {
  if (!cal) cal = std::make_shared<const calendar::calendar>(calendar::default_calendar());
  return [cal](severity level, unix_time created_at, const std::vector<ticket_pause>& pauses) {
    using calendar::instant;
    std::vector<calendar::interval> paused;
    for (const auto& p : pauses)
      paused.push_back({instant(std::chrono::seconds(p.from)),
                        p.to ? instant(std::chrono::seconds(*p.to)) : instant::max()});
    const instant start{std::chrono::seconds(created_at)};
    auto seconds = [](std::optional<instant> t) -> std::optional<unix_time> {
      if (!t) return std::nullopt;
      return t->time_since_epoch().count();
    };
    return ticket_deadlines{
        seconds(calendar::due_at(*cal, start, cal->first_response(level), paused)),
        seconds(calendar::due_at(*cal, start, cal->resolution(level), paused))};
  };
}

}  // namespace valise::server
