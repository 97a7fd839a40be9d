// Writes an upload's bytes on a worker thread while the connection reads the
// next ones: hashing and writing a piece (SHA-256, pwrite) costs more than
// receiving it (TLS), and on two cores the two overlap. The connection reads
// straight into the writer's buffers (acquire, submit), so a byte is not
// copied between TLS and the file. Its `depth + 2` buffers (one being
// filled, `depth` queued, one being written) bound the
// memory per upload: when the disk is slower than the network, acquire()
// blocks the connection's io thread (and so the other connections it serves)
// until a piece is written, which slows the clients down through TCP
// back-pressure instead of filling memory.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
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
  write_behind(sink_fn sink, std::size_t capacity, std::size_t depth = 1);
  write_behind(const write_behind&) = delete;
  write_behind& operator=(const write_behind&) = delete;
  ~write_behind();  // finishes what is queued

  // The buffer to fill next (`capacity` bytes), waiting while `depth`
  // pieces are queued; the same one until it is submitted.
  crypto::mutable_bytes acquire();
  // Queues the first `n` bytes of the acquired buffer (nothing if n is 0).
  result<void> submit(std::size_t n);
  // Waits until every queued piece went through the sink. From a job
  // (post) it does not wait: the pieces queued before the job are done.
  result<void> drain();
  // Runs `job` on the worker after the pieces queued so far (long work that
  // must not hold the connection's io thread: merging a checksummed body).
  void post(std::function<void()> job);

 private:
  using buffer = std::unique_ptr<std::uint8_t[]>;
  struct piece {
    buffer data;
    std::size_t size = 0;
    std::function<void()> job;  // instead of data
  };
  void run();

  sink_fn sink_;
  std::size_t capacity_;
  std::size_t depth_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<piece> queue_;
  std::vector<buffer> spare_;  // allocated on first use, then reused
  std::size_t allocated_ = 0;
  buffer filling_;     // acquired by the connection, not submitted yet
  bool busy_ = false;  // the worker holds a piece
  bool stopping_ = false;
  std::error_code failed_;
  std::thread worker_;
};

}  // namespace valise::server::tus
