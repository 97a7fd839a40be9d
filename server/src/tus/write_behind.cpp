#include "tus/write_behind.hpp"

namespace valise::server::tus {

write_behind::write_behind(sink_fn sink, std::size_t depth)
    : sink_(std::move(sink)), depth_(depth == 0 ? 1 : depth), worker_([this] { run(); }) {}

write_behind::~write_behind() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  worker_.join();
}

result<void> write_behind::push(crypto::bytes data) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return queue_.size() < depth_ || failed_; });
  if (failed_) return failed_;
  std::vector<std::uint8_t> piece;
  if (!spare_.empty()) {
    piece = std::move(spare_.back());
    spare_.pop_back();
  }
  piece.assign(data.begin(), data.end());
  queue_.push_back(std::move(piece));
  lock.unlock();
  changed_.notify_all();
  return {};
}

result<void> write_behind::drain() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return (queue_.empty() && !busy_) || failed_; });
  if (failed_) return failed_;
  return {};
}

void write_behind::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return !queue_.empty() || stopping_; });
    if (queue_.empty()) return;  // stopping, nothing left
    auto piece = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    const bool skip = static_cast<bool>(failed_);
    lock.unlock();
    result<void> written = skip ? result<void>() : sink_(piece);
    lock.lock();
    busy_ = false;
    if (!written && !failed_) failed_ = written.error();
    spare_.push_back(std::move(piece));
    changed_.notify_all();
  }
}

}  // namespace valise::server::tus
