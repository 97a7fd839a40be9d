// Counters and a latency histogram for GET /metrics (Prometheus text format).
// Lock-free on the hot path: handlers only bump atomics.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "valise/server/store.hpp"

namespace valise::server {
namespace outbox {
class delivery_worker;
}

class metrics {
 public:
  std::atomic<std::uint64_t> uploads_started{0};
  std::atomic<std::uint64_t> uploads_completed{0};
  std::atomic<std::uint64_t> uploads_refused{0};
  std::atomic<std::uint64_t> upload_bytes{0};
  std::atomic<std::uint64_t> purged_bundles{0};
  std::atomic<std::uint64_t> connections_refused{0};
  std::atomic<std::uint64_t> connections_shed{0};
  std::atomic<std::uint64_t> requests_throttled{0};
  // Open connections by whether they have authenticated yet.
  std::atomic<std::int64_t> connections_anonymous{0};
  std::atomic<std::int64_t> connections_authenticated{0};

  // Its totals since start (none in tests that build the routes alone).
  const outbox::delivery_worker* outbox = nullptr;

  void observe_request(unsigned status, double seconds);
  // `tickets`: open and overdue tickets by severity, counted at scrape time;
  // `deliveries`: the outbox's entries by target.
  std::string render(const store::totals& stored, const std::array<ticket_counts, 3>& tickets = {},
                     const outbox_counts& deliveries = {}) const;

 private:
  static constexpr std::array<double, 10> bounds_ = {0.005, 0.01, 0.025, 0.05, 0.1,
                                                     0.25,  0.5,  1,     5,    30};
  std::array<std::atomic<std::uint64_t>, bounds_.size() + 1> buckets_{};
  std::atomic<std::uint64_t> duration_micros_{0};
  // Requests by status class, 1xx..5xx.
  std::array<std::atomic<std::uint64_t>, 5> by_class_{};
};

}  // namespace valise::server
