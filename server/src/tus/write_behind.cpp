#include "tus/write_behind.hpp"

namespace valise::server::tus {

write_behind::write_behind(sink_fn sink, std::size_t capacity, std::size_t depth)
    : sink_(std::move(sink)),
      capacity_(capacity),
      depth_(depth == 0 ? 1 : depth),
      worker_([this] { run(); }) {}

write_behind::~write_behind() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  worker_.join();
}

crypto::mutable_bytes write_behind::acquire() {
  std::unique_lock lock(mutex_);
  if (!filling_) {
    changed_.wait(lock, [&] { return !spare_.empty() || allocated_ < depth_ + 2; });
    if (!spare_.empty()) {
      filling_ = std::move(spare_.back());
      spare_.pop_back();
    } else {
      // Untouched until filled: a short upload costs only the pages it uses.
      filling_.reset(new std::uint8_t[capacity_]);
      ++allocated_;
    }
  }
  return {filling_.get(), capacity_};
}

result<void> write_behind::submit(std::size_t n) {
  std::unique_lock lock(mutex_);
  if (failed_) return failed_;
  if (n == 0 || !filling_) return {};
  queue_.push_back({std::move(filling_), n});
  lock.unlock();
  changed_.notify_all();
  return {};
}

result<void> write_behind::drain() {
  std::unique_lock lock(mutex_);
  if (std::this_thread::get_id() != worker_.get_id())
    changed_.wait(lock, [&] { return (queue_.empty() && !busy_) || failed_; });
  if (failed_) return failed_;
  return {};
}

void write_behind::post(std::function<void()> job) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back({nullptr, 0, std::move(job)});
  }
  changed_.notify_all();
}

void write_behind::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return !queue_.empty() || stopping_; });
    if (queue_.empty()) return;  // stopping, nothing left
    auto next = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    if (next.job) {  // runs even after a failure: it reads it from drain()
      lock.unlock();
      next.job();
      lock.lock();
      busy_ = false;
      changed_.notify_all();
      continue;
    }
    const bool skip = static_cast<bool>(failed_);
    lock.unlock();
    result<void> written = skip ? result<void>() : sink_({next.data.get(), next.size});
    lock.lock();
    busy_ = false;
    if (!written && !failed_) failed_ = written.error();
    spare_.push_back(std::move(next.data));
    changed_.notify_all();
  }
}

}  // namespace valise::server::tus
