// When a lost database connection tries to connect again (sql/'s own, and
// the wake relay's, cluster/):
// at once when found lost, then 1 s after a failed attempt, twice as long
// after each one that fails after it, at most 30 s apart. Calls in between
// fail at once instead of waiting on a database that does not answer.
#pragma once

#include <algorithm>
#include <chrono>

namespace valise::server::sql::detail {

class reconnect_pacing {
 public:
  using clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds first_wait{1000};
  static constexpr std::chrono::milliseconds longest_wait{30000};

  bool may_try(clock::time_point now) const { return now >= next_; }
  // An attempt failed; `now`: when it gave up.
  void failed(clock::time_point now) {
    next_ = now + wait_;
    wait_ = std::min(2 * wait_, longest_wait);
  }
  // Connected again: the next loss tries at once.
  void succeeded() { *this = {}; }
  // What the next failure waits.
  std::chrono::milliseconds wait() const { return wait_; }

 private:
  clock::time_point next_{};
  std::chrono::milliseconds wait_ = first_wait;
};

}  // namespace valise::server::sql::detail
