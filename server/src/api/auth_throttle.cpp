#include "api/auth_throttle.hpp"

#include <algorithm>
#include <cmath>

namespace valise::server {

double auth_throttle::refill(bucket& b, clock::time_point now) const {
  const double per_second = policy_.burst / std::max(1.0, double(policy_.window.count()));
  const double elapsed = std::chrono::duration<double>(now - b.at).count();
  if (elapsed > 0) {
    b.tokens = std::min<double>(policy_.burst, b.tokens + elapsed * per_second);
    b.at = now;
  }
  return b.tokens;
}

std::chrono::seconds auth_throttle::retry_after(const std::string& key, clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) return std::chrono::seconds(0);
  const double tokens = refill(it->second, now);
  if (tokens >= 1) return std::chrono::seconds(0);
  const double per_second = policy_.burst / std::max(1.0, double(policy_.window.count()));
  return std::chrono::seconds(static_cast<long>(std::ceil((1 - tokens) / per_second)));
}

void auth_throttle::failed(const std::string& key, clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= policy_.max_addresses && !recent_.empty()) {
      buckets_.erase(recent_.front());
      recent_.pop_front();
    }
    auto where = recent_.insert(recent_.end(), key);
    it = buckets_.emplace(key, bucket{double(policy_.burst), now, where}).first;
  } else {
    recent_.splice(recent_.end(), recent_, it->second.recent);
  }
  auto& b = it->second;
  b.tokens = std::max(0.0, refill(b, now) - 1);
}

}  // namespace valise::server
