// The outbox's retry policy, pure: what an HTTP answer means for a delivery,
// how long to wait before the next attempt (exponential, capped, jittered),
// and a Retry-After header's delay.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace valise::server::outbox {

struct retry_settings {
  std::chrono::seconds min_backoff{1};
  std::chrono::seconds max_backoff{3600};
  std::chrono::seconds give_up_after{3 * 86400};  // since the entry was made or retried by hand
};

enum class verdict { delivered, retry, give_up };

// 2xx delivered; 4xx other than 408 and 429 will not get better; anything
// else (5xx, 408, 429, 3xx) is tried again.
verdict classify(unsigned status);

// The wait after the `attempts`-th failed attempt (1, 2, ...):
// min_backoff * 2^(attempts-1) capped at max_backoff, of which a random
// half is taken off (`jitter` in [0, 1)) so that entries of a target that
// came back do not all retry in the same second. At least one second.
std::chrono::seconds backoff_delay(std::uint32_t attempts, const retry_settings& s, double jitter);

// Retry-After as delay-seconds ("120"); an HTTP date or anything else:
// nullopt (the backoff applies).
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value);

}  // namespace valise::server::outbox
