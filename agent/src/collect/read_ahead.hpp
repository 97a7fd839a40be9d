// Produces the blocks of a stream (a file's bytes, or a decoder's output) on
// a thread of its own, a few ahead of the one consuming them: reading (the
// kernel's copy out of the page cache) and inflating then overlap redaction
// instead of adding to it. Memory: `blocks` buffers of `block_size` bytes.
#pragma once

#include <boost/system/result.hpp>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace valise::agent::detail {

class read_ahead {
 public:
  // Puts the next bytes of the stream at the start of its argument: how
  // many (0 at the end), or what went wrong, in one line.
  using fill_result = boost::system::result<std::size_t, std::string>;
  using source = std::function<fill_result(std::span<std::uint8_t>)>;

  read_ahead(source from, std::size_t block_size, std::size_t blocks);
  ~read_ahead();  // stops the thread, whether or not everything was consumed
  read_ahead(const read_ahead&) = delete;
  read_ahead& operator=(const read_ahead&) = delete;

  struct block {
    std::span<const std::uint8_t> data;  // empty: the end, or `error`
    std::string error;
  };
  // The next block, in order; its data is valid until the next call.
  block next();

 private:
  struct filled {
    std::vector<std::uint8_t> buffer;
    std::size_t size = 0;  // 0: the last one
    std::string error;
  };
  void run();

  source source_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<filled> ready_;
  std::vector<std::vector<std::uint8_t>> free_;
  std::vector<std::uint8_t> current_;  // the block handed out last
  bool stop_ = false;
  bool ended_ = false;  // the last block was handed out
  std::thread thread_;
};

}  // namespace valise::agent::detail
