#include "time_arg.hpp"

#include <fmt/format.h>

#include "failure.hpp"
#include "server_options.hpp"
#include "units.hpp"
#include "valise/common/rfc3339.hpp"

namespace valise::cli {

std::string time_argument(std::string_view option, std::string_view text, std::time_t now) {
  if (const auto at = common::parse_rfc3339(text)) return common::format_rfc3339(*at);
  const bool age_form = !text.empty() && text.back() >= 'a' && text.back() <= 'z';
  if (const auto age = age_form ? parse_duration(text) : std::nullopt;
      age && *age <= static_cast<std::uint64_t>(now))
    return common::format_rfc3339(now - static_cast<std::time_t>(*age));
  fail(fmt::format("{} {}: not a time", option, terminal_text(text)),
       "give an RFC 3339 time (2026-11-22T14:03:07Z) or an age such as 30m, 2h or 3d");
}

}  // namespace valise::cli
