// Hashes (and, when extracting, writes) the files of a bundle on a second
// thread, so that decompression (open) or compression (pack) on the calling
// thread overlaps with SHA-256 and disk writes. Memory is bounded by a small
// pool of reused buffers. They are strings so that a producer building its
// output in one (the agent's redactor) can hand it over without a copy.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <ctime>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "valise/crypto/io.hpp"

namespace valise::common::detail {

struct stored_entry {
  std::uint64_t size = 0;
  std::string sha256;
};

class hash_writer {
 public:
  explicit hash_writer(std::size_t buffer_size = 256 * 1024, std::size_t buffer_count = 8);
  ~hash_writer();
  hash_writer(const hash_writer&) = delete;
  hash_writer& operator=(const hash_writer&) = delete;

  // Starts the next file; `fd` (owned from now on) is -1 when only verifying.
  // The file gets `mtime` once written, as tar restores it.
  void begin(std::string path, int fd, timespec mtime);
  // Queues a copy of `data` for the current file; waits while all buffers are
  // in use. Fails with an earlier write error, if any.
  result<void> append(crypto::bytes data);
  // The same without a copy: a free buffer (waits while all are in use) with
  // stale contents, to resize() or clear(), fill and hand back. Buffers keep
  // their capacity, buffer_size() at first, from one use to the next.
  std::string take_buffer();
  result<void> append(std::string filled);
  std::size_t buffer_size() const { return buffer_size_; }
  void end();
  // Waits for the queued work; the entries by path, or the first write error.
  result<std::map<std::string, stored_entry>> finish();

 private:
  struct task {
    enum class kind { begin, data, end, stop } what;
    std::string path;
    int fd = -1;
    std::string data;
    timespec mtime{};
  };
  void push(task t);
  void run();

  const std::size_t buffer_size_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<task> queue_;
  std::vector<std::string> free_;
  std::error_code error_;
  std::map<std::string, stored_entry> done_;
  std::thread thread_;
};

}  // namespace valise::common::detail
