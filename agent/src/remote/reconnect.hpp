// When the poller tries the server again after a failure. Thousands of
// agents lose their long-poll at the same moment when a server restarts: if
// they all came back after the same delay, the server would meet them all at
// once (a TLS handshake each) and shed most of them, again and again. So the
// wait is drawn at random from a window that doubles with each failure (full
// jitter), and a server that answered 503 with Retry-After is not asked
// again before that, the agents spreading over the following as long again.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace valise::agent {

struct reconnect_policy {
  // The window of the first retry: 10,000 agents come back at about 1,000
  // a second, which one node's two cores take in their stride.
  std::chrono::milliseconds first_window{10'000};
  std::chrono::milliseconds cap{300'000};  // agent.toml backoff_max
};

// The wait before the next attempt after `failures` failures in a row (1 for
// the first). `draw` is uniform in [0, 1) (the caller's random numbers, so
// that tests can choose); `retry_after` is what a 503 or 429 answer asked for.
std::chrono::milliseconds reconnect_delay(const reconnect_policy& policy, unsigned failures,
                                          std::optional<std::chrono::seconds> retry_after,
                                          double draw);

// An HTTP Retry-After field in delta-seconds (RFC 9110 10.2.3); nullopt for
// a date or anything else (treated as absent), at most a day.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value);

}  // namespace valise::agent
