// What the connections count, for GET /metrics (metrics.hpp adds the
// application's counters and renders them all). Lock-free on the hot path:
// connections only bump atomics.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace valise::server {

class connection_stats {
 public:
  std::atomic<std::uint64_t> connections_refused{0};
  std::atomic<std::uint64_t> connections_shed{0};
  // Open connections by whether they have authenticated yet.
  std::atomic<std::int64_t> connections_anonymous{0};
  std::atomic<std::int64_t> connections_authenticated{0};

  // A request answered: its status, and the seconds from its head to its
  // answer sent.
  void observe_request(unsigned status, double seconds);

 protected:
  ~connection_stats() = default;  // counted through, never owned as such

  static constexpr std::array<double, 10> bounds_ = {0.005, 0.01, 0.025, 0.05, 0.1,
                                                     0.25,  0.5,  1,     5,    30};
  std::array<std::atomic<std::uint64_t>, bounds_.size() + 1> buckets_{};
  std::atomic<std::uint64_t> duration_micros_{0};
  // Requests by status class, 1xx..5xx.
  std::array<std::atomic<std::uint64_t>, 5> by_class_{};
};

}  // namespace valise::server
