#include "remote/reconnect.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace valise::agent {

std::chrono::milliseconds reconnect_delay(const reconnect_policy& policy, unsigned failures,
                                          std::optional<std::chrono::seconds> retry_after,
                                          double draw) {
  using ms = std::chrono::milliseconds;
  draw = std::clamp(draw, 0.0, 1.0);
  if (retry_after) {
    // The server said when it can take us: not before, and not all of us
    // at that second either; but a server (or whatever answers in its
    // name) does not park the agent for longer than the operator allows.
    const auto asked = std::min(std::chrono::duration_cast<ms>(*retry_after), policy.cap);
    return std::min(
        asked + ms(static_cast<std::int64_t>(static_cast<double>(asked.count()) * draw)),
        policy.cap);
  }
  const unsigned doublings = failures == 0 ? 0 : std::min(failures - 1, 30u);
  const double window = std::min(static_cast<double>(policy.first_window.count()) *
                                     std::ldexp(1.0, static_cast<int>(doublings)),
                                 static_cast<double>(policy.cap.count()));
  return ms(static_cast<std::int64_t>(window * draw));
}

std::chrono::milliseconds reconnect_backoff::failed(attempt_end end,
                                                    std::chrono::milliseconds lasted,
                                                    std::optional<std::chrono::seconds> retry_after,
                                                    double draw) {
  if (end == attempt_end::cut && lasted >= policy_.quick_after) {
    // The connection worked until it was cut: a new run, whatever came before.
    failures_ = 1, quick_ = true;
    const auto window = std::min(policy_.quick_window, policy_.cap);
    return std::chrono::milliseconds(static_cast<std::int64_t>(static_cast<double>(window.count()) *
                                                               std::clamp(draw, 0.0, 1.0)));
  }
  ++failures_;
  // After a quick retry the window starts at its first size: the quick one
  // was not a doubling.
  return reconnect_delay(policy_, quick_ ? failures_ - 1 : failures_,
                         end == attempt_end::busy ? retry_after : std::nullopt, draw);
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty() || value.size() > 9) return std::nullopt;
  unsigned seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end != value.data() + value.size()) return std::nullopt;
  return std::chrono::seconds(std::min(seconds, 86'400u));
}

}  // namespace valise::agent
