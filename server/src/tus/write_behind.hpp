// Writes an upload's bytes on a worker thread while the connection reads the
// next ones: hashing and writing a piece (SHA-256, pwrite) costs more than
// receiving it (TLS), and on two cores the two overlap. At most `depth`
// pieces wait, so memory per upload stays bounded: when the disk is slower
// than the network, push() blocks the connection's io thread (and so the
// other connections it serves) until a piece is written, which slows the
// clients down through TCP back-pressure instead of filling memory.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "valise/crypto/io.hpp"

namespace valise::server::tus {

class write_behind {
 public:
  // `sink` runs on the worker, one piece at a time, in order. After it fails,
  // later pieces are dropped and every call reports that first error.
  using sink_fn = std::function<result<void>(crypto::bytes)>;
  explicit write_behind(sink_fn sink, std::size_t depth = 1);
  write_behind(const write_behind&) = delete;
  write_behind& operator=(const write_behind&) = delete;
  ~write_behind();  // finishes what is queued

  // Queues a copy of `data`, waiting while `depth` pieces are queued.
  result<void> push(crypto::bytes data);
  // Waits until every queued piece went through the sink.
  result<void> drain();

 private:
  void run();

  sink_fn sink_;
  std::size_t depth_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::vector<std::uint8_t>> queue_;
  std::vector<std::vector<std::uint8_t>> spare_;  // buffers for reuse
  bool busy_ = false;                             // the worker holds a piece
  bool stopping_ = false;
  std::error_code failed_;
  std::thread worker_;
};

}  // namespace valise::server::tus
