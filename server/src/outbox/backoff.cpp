#include "outbox/backoff.hpp"

#include <algorithm>
#include <charconv>

namespace valise::server::outbox {

verdict classify(unsigned status) {
  if (status >= 200 && status < 300) return verdict::delivered;
  if (status >= 400 && status < 500 && status != 408 && status != 429) return verdict::give_up;
  return verdict::retry;
}

std::chrono::seconds backoff_delay(std::uint32_t attempts, const retry_settings& s, double jitter) {
  const auto cap = std::max<std::int64_t>(1, s.max_backoff.count());
  std::int64_t delay = std::max<std::int64_t>(1, s.min_backoff.count());
  for (std::uint32_t i = 1; i < attempts && delay < cap; ++i) delay *= 2;
  delay = std::min(delay, cap);
  jitter = std::clamp(jitter, 0.0, 1.0);
  const auto off = static_cast<std::int64_t>(static_cast<double>(delay) / 2 * jitter);
  return std::chrono::seconds(std::max<std::int64_t>(1, delay - off));
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  std::uint32_t seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size()) return std::nullopt;
  return std::chrono::seconds(seconds);
}

}  // namespace valise::server::outbox
