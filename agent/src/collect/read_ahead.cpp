#include "collect/read_ahead.hpp"

#include <algorithm>

namespace valise::agent::detail {

read_ahead::read_ahead(source from, std::size_t block_size, std::size_t blocks)
    : source_(std::move(from)) {
  for (std::size_t i = 0; i < std::max<std::size_t>(blocks, 1); ++i)
    free_.emplace_back(std::max<std::size_t>(block_size, 1));
  thread_ = std::thread([this] { run(); });
}

read_ahead::~read_ahead() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void read_ahead::run() {
  for (;;) {
    filled f;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return stop_ || !free_.empty(); });
      if (stop_) return;
      f.buffer = std::move(free_.back());
      free_.pop_back();
    }
    auto got = source_(f.buffer);
    if (got) {
      f.size = std::min(*got, f.buffer.size());
    } else {
      f.error = std::move(got.error());
    }
    const bool last = f.size == 0;
    {
      std::lock_guard lock(mutex_);
      ready_.push_back(std::move(f));
    }
    changed_.notify_all();
    if (last) return;
  }
}

read_ahead::block read_ahead::next() {
  if (ended_) return {};
  std::unique_lock lock(mutex_);
  if (!current_.empty()) free_.push_back(std::move(current_));
  changed_.notify_all();
  changed_.wait(lock, [&] { return !ready_.empty(); });
  filled f = std::move(ready_.front());
  ready_.pop_front();
  current_ = std::move(f.buffer);
  ended_ = f.size == 0;
  return {{current_.data(), f.size}, std::move(f.error)};
}

}  // namespace valise::agent::detail
