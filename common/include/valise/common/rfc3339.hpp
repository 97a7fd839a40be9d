// RFC 3339 date-times as the API, the manifest and the command lines write
// them: UTC seconds in, "2026-11-22T14:03:07Z" out; any offset and fraction
// in (fractions are dropped: seconds suffice everywhere here).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace valise::common {

// Seconds since the epoch, UTC.
std::string format_rfc3339(std::int64_t unix_seconds);
std::string now_rfc3339();

// "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)", 't' and 'z' too; the
// date must exist (no 30 February). nullopt for anything else.
std::optional<std::int64_t> parse_rfc3339(std::string_view text);

}  // namespace valise::common
