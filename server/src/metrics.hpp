// Counters and a latency histogram for GET /metrics (Prometheus text format).
// Lock-free on the hot path: handlers only bump atomics.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "http/connection_stats.hpp"
#include "valise/server/store.hpp"

namespace valise::server {
namespace outbox {
class delivery_worker;
}

// Long-polls waiting for a wake now (api/agent_wakeups.hpp, parked()).
struct waiting_polls {
  std::size_t jobs = 0;    // agents' GET /api/v1/agent/jobs?wait=
  std::size_t events = 0;  // GET /api/v1/events?wait=
};

// The connections' counts (connection_stats) and the application's.
class metrics : public connection_stats {
 public:
  std::atomic<std::uint64_t> uploads_started{0};
  std::atomic<std::uint64_t> uploads_completed{0};
  std::atomic<std::uint64_t> uploads_refused{0};
  std::atomic<std::uint64_t> upload_bytes{0};
  std::atomic<std::uint64_t> purged_bundles{0};
  std::atomic<std::uint64_t> requests_throttled{0};
  // Whether this node runs the jobs that run once (cluster/leader.hpp).
  std::atomic<bool> leader{true};

  // Its totals since start (none in tests that build the routes alone).
  const outbox::delivery_worker* outbox = nullptr;

  // `tickets`: open and overdue tickets by severity, counted at scrape time;
  // `deliveries`: the outbox's entries by target.
  std::string render(const store::totals& stored, const std::array<ticket_counts, 3>& tickets = {},
                     const outbox_counts& deliveries = {}, const waiting_polls& polls = {}) const;
};

}  // namespace valise::server
