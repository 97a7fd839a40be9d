// Durations ("90s", "15m", "12h", "7d") and sizes ("500M", "2G", "1048576")
// as users type them on command lines and in config files.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace valise::common {

// The longest duration accepted anywhere (3650 days): timers count in
// nanoseconds, which overflow after 292 years, and nothing in valise waits
// or keeps data longer.
inline constexpr std::uint64_t max_duration_seconds = 3650ull * 86400;

// Seconds; a bare number is seconds. nullopt if malformed, zero or longer
// than max_duration_seconds.
std::optional<std::uint64_t> parse_duration(std::string_view text);

// Bytes; suffixes K, M, G, T are powers of 1024 (KiB, MB... accepted too).
std::optional<std::uint64_t> parse_size(std::string_view text);

}  // namespace valise::common
