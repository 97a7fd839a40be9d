// When the poller tries the server again after a failure. Thousands of
// agents lose their long-poll at the same moment when a server restarts: if
// they all came back after the same delay, the server would meet them all at
// once (a TLS handshake each) and shed most of them, again and again. So the
// wait is drawn at random from a window that doubles with each failure (full
// jitter), and a server that answered 503 or 429 with Retry-After is not
// asked again before that, the agents spreading over the following as long
// again (up to backoff_max).
//
// One poll cut after it had been waiting a while (an idle proxy closing it,
// a node going away behind a load balancer) is not a failing server: the
// first retry after it comes within a second, and the doubling window only
// from the next failure on. A server restart cuts every poll at once, so
// their quick retries meet the server while it is down ("connection
// refused", which costs it nothing) and go on to the window; docs/
// performance.md has what that costs when it is back within the second.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace valise::agent {

struct reconnect_policy {
  // The window of the first retry after a failure: 10,000 agents come back
  // at about 1,000 a second, which one node's two cores take in their stride.
  std::chrono::milliseconds first_window{10'000};
  // The window of the first retry after a poll cut once it had waited at
  // least `quick_after`. A poll cut sooner is a failure like any other, so a
  // proxy that closes every connection at once does not make a busy loop.
  std::chrono::milliseconds quick_window{1'000};
  std::chrono::milliseconds quick_after{5'000};
  std::chrono::milliseconds cap{300'000};  // agent.toml backoff_max
};

// The wait before the next attempt after `failures` failures in a row (1 for
// the first). `draw` is uniform in [0, 1) (the caller's random numbers, so
// that tests can choose); `retry_after` is what a 503 or 429 answer asked for,
// taken up to the policy's cap.
std::chrono::milliseconds reconnect_delay(const reconnect_policy& policy, unsigned failures,
                                          std::optional<std::chrono::seconds> retry_after,
                                          double draw);

// How an attempt that did not get its answer ended.
enum class attempt_end {
  failed,  // no connection, TLS refused, a timeout, an unexpected status
  cut,     // the server or a proxy closed an established connection
  busy,    // 503 or 429: the server sheds load
};

// The poller's run of failures, and the wait each one earns.
class reconnect_backoff {
 public:
  explicit reconnect_backoff(const reconnect_policy& policy) : policy_(policy) {}

  // An answer came: the next failure starts a new run.
  void succeeded() { failures_ = 0, quick_ = false; }
  // After an attempt that ended as `end`, `lasted` after it was sent; `draw`
  // and `retry_after` as for reconnect_delay.
  std::chrono::milliseconds failed(attempt_end end, std::chrono::milliseconds lasted,
                                   std::optional<std::chrono::seconds> retry_after, double draw);
  unsigned failures() const { return failures_; }

 private:
  reconnect_policy policy_;
  unsigned failures_ = 0;
  bool quick_ = false;  // this run began with a poll cut after it had worked
};

// An HTTP Retry-After field in delta-seconds (RFC 9110 10.2.3); nullopt for
// a date or anything else (treated as absent), at most a day.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value);

// Whether a status's Retry-After says when to come back (RFC 9110 10.2.3;
// RFC 6585 4): only 503 and 429, the answers of a server shedding load.
constexpr bool sheds_load(unsigned status) {
  return status == 503 || status == 429;
}

}  // namespace valise::agent
