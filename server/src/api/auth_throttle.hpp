// Failed authentications per client address (address_key), as a token
// bucket: `burst` failures at once, then `burst` per `window`. An address
// out of tokens is answered 429 with Retry-After before its token is even
// looked at, so guessing tokens costs an attacker time, not the server
// storage. Bounded: the least recently failing addresses are forgotten first.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

namespace valise::server {

struct throttle_policy {
  unsigned burst = 20;
  std::chrono::seconds window{60};
  std::size_t max_addresses = 65536;
};

class auth_throttle {
 public:
  using clock = std::chrono::steady_clock;
  explicit auth_throttle(throttle_policy policy) : policy_(policy) {}

  // How long `key` must wait before its next attempt; zero if it may go on.
  std::chrono::seconds retry_after(const std::string& key, clock::time_point now);
  // `key` failed to authenticate.
  void failed(const std::string& key, clock::time_point now);

 private:
  struct bucket {
    double tokens;
    clock::time_point at;
    std::list<std::string>::iterator recent;
  };
  // Under the lock: the bucket's tokens as of `now`.
  double refill(bucket& b, clock::time_point now) const;

  const throttle_policy policy_;
  std::mutex mutex_;
  std::unordered_map<std::string, bucket> buckets_;
  std::list<std::string> recent_;  // least recently failed first
};

}  // namespace valise::server
