// The request's time window as the server sends it (RFC 3339) or as a local
// operator types it (RFC 3339, or an age such as "2h": that long ago).
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace valise::agent {

using time_point = std::chrono::system_clock::time_point;

// "2025-11-22T10:00:00Z", "2025-11-22T10:00:00.5+01:00", "2025-11-22 10:00:00Z",
// "2025-11-22" (midnight UTC).
std::optional<time_point> parse_rfc3339(std::string_view text);
// RFC 3339, or a duration before `now` ("90m", "2h", "3d").
std::optional<time_point> parse_time_argument(std::string_view text, time_point now);

}  // namespace valise::agent
