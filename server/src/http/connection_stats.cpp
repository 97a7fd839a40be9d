#include "http/connection_stats.hpp"

namespace valise::server {

void connection_stats::observe_request(unsigned status, double seconds) {
  std::size_t i = 0;
  while (i < bounds_.size() && seconds > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  duration_micros_.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
  if (status >= 100 && status < 600)
    by_class_[status / 100 - 1].fetch_add(1, std::memory_order_relaxed);
}

}  // namespace valise::server
