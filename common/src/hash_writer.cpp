#include "hash_writer.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "sha256.hpp"

namespace valise::common::detail {
namespace {

std::error_code write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return {errno, std::generic_category()};
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return {};
}

}  // namespace

hash_writer::hash_writer(std::size_t buffer_size, std::size_t buffer_count)
    : buffer_size_(buffer_size) {
  // Touched now, not when the thread first falls that far behind: peak RSS
  // does not depend on how long the input is.
  for (std::size_t i = 0; i < buffer_count; ++i) free_.emplace_back(buffer_size, '\0');
  thread_ = std::thread([this] { run(); });
}

hash_writer::~hash_writer() {
  if (thread_.joinable()) {
    push({task::kind::stop, {}, -1, {}});
    thread_.join();
  }
  for (auto& t : queue_) {
    if (t.fd >= 0) ::close(t.fd);
  }
}

void hash_writer::push(task t) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(t));
  }
  changed_.notify_all();
}

void hash_writer::begin(std::string path, int fd, timespec mtime) {
  push({task::kind::begin, std::move(path), fd, {}, mtime});
}

void hash_writer::end() {
  push({task::kind::end, {}, -1, {}});
}

result<void> hash_writer::append(crypto::bytes data) {
  while (!data.empty()) {
    auto buffer = take_buffer();
    const std::size_t n = std::min(data.size(), buffer_size_);
    buffer.assign(reinterpret_cast<const char*>(data.data()), n);
    data = data.subspan(n);
    if (auto r = append(std::move(buffer)); !r) return r;
  }
  return {};
}

std::string hash_writer::take_buffer() {
  std::string buffer;
  {
    std::unique_lock lock(mutex_);
    // After an error the thread only recycles buffers, so one comes back.
    changed_.wait(lock, [&] { return !free_.empty(); });
    buffer = std::move(free_.back());
    free_.pop_back();
  }
  // Not cleared or resized here: either would cost a pass over the buffer
  // that its next use does not need.
  return buffer;
}

result<void> hash_writer::append(std::string filled) {
  {
    std::lock_guard lock(mutex_);
    if (error_) {
      free_.push_back(std::move(filled));
      return error_;
    }
  }
  push({task::kind::data, {}, -1, std::move(filled)});
  return {};
}

result<std::map<std::string, stored_entry>> hash_writer::finish() {
  if (!thread_.joinable()) return std::make_error_code(std::errc::invalid_argument);  // twice
  push({task::kind::stop, {}, -1, {}});
  thread_.join();
  if (error_) return error_;
  return std::move(done_);
}

void hash_writer::run() {
  std::string path;
  int fd = -1;
  std::unique_ptr<sha256> hash;
  std::uint64_t size = 0;
  timespec mtime{};
  std::error_code error;
  for (;;) {
    task t;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return !queue_.empty(); });
      t = std::move(queue_.front());
      queue_.pop_front();
    }
    switch (t.what) {
      case task::kind::begin:
        path = std::move(t.path);
        fd = t.fd;
        mtime = t.mtime;
        hash = std::make_unique<sha256>();
        size = 0;
        break;
      case task::kind::data:
        if (!error) {
          hash->update({reinterpret_cast<const std::uint8_t*>(t.data.data()), t.data.size()});
          size += t.data.size();
          if (fd >= 0) error = write_all(fd, t.data.data(), t.data.size());
        }
        {
          std::lock_guard lock(mutex_);
          free_.push_back(std::move(t.data));
          if (error && !error_) error_ = error;
        }
        changed_.notify_all();
        break;
      case task::kind::end:
        if (fd >= 0 && !error) {
          const timespec times[2] = {{0, UTIME_OMIT}, mtime};
          if (::futimens(fd, times) != 0) error = {errno, std::generic_category()};
        }
        if (fd >= 0 && ::close(fd) != 0 && !error) error = {errno, std::generic_category()};
        fd = -1;
        if (!error) done_[path] = {size, hash->hex_digest()};
        if (error) {
          std::lock_guard lock(mutex_);
          if (!error_) error_ = error;
          changed_.notify_all();
        }
        break;
      case task::kind::stop:
        if (fd >= 0) ::close(fd);
        return;
    }
  }
}

}  // namespace valise::common::detail
