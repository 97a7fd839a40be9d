// The ciphertext files the store hands out: a partial upload open for
// appending, a bundle open for reading. A blob_store (server/src/store/)
// makes them from file descriptors it opened (blob_dir's files, another
// store's spool files): any store can, without being named here. Callers
// only read and write through them.
#pragma once

#include <cstdint>
#include <utility>

#include "valise/crypto/io.hpp"
#include "valise/crypto/result.hpp"

namespace valise::server {

// A file descriptor that closes itself; movable, not copyable.
class owned_fd {
 public:
  owned_fd() = default;
  explicit owned_fd(int fd) : fd_(fd) {}
  owned_fd(owned_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  owned_fd& operator=(owned_fd&& other) noexcept;
  ~owned_fd();
  int get() const { return fd_; }

 private:
  int fd_ = -1;
};

// An open partial upload file, positioned for appending. Not thread-safe: one
// PATCH at a time per upload (the handler serialises them).
class upload_file {
 public:
  // `fd` open for reading and writing, of `size` bytes.
  upload_file(owned_fd fd, std::uint64_t size) : fd_(std::move(fd)), size_(size) {}
  upload_file(upload_file&&) noexcept = default;
  upload_file& operator=(upload_file&&) noexcept = default;
  result<void> append(crypto::bytes data);
  // Reads from `offset`, for rehashing a partial upload after a restart.
  result<std::size_t> read_at(std::uint64_t offset, crypto::mutable_bytes out) const;
  // Appends every byte of `other` (a checksummed PATCH's verified body), by
  // copy_file_range: in the kernel, without a pass through this process.
  result<void> append_file(const upload_file& other);
  // Drops bytes after `size` (a PATCH whose checksum failed).
  result<void> truncate(std::uint64_t size);
  // Bytes free for this process on the file's filesystem.
  result<std::uint64_t> free_bytes() const;
  // Starts writing [from, to) to disk without waiting for it, so that the
  // fsync at completion has little left to do.
  void start_writeback(std::uint64_t from, std::uint64_t to);
  std::uint64_t size() const { return size_; }

 private:
  result<void> append_copy(const upload_file& other, std::uint64_t from);
  owned_fd fd_;
  std::uint64_t size_ = 0;
};

// A completed bundle's file, open for reading (downloads).
class bundle_file final : public crypto::byte_source {
 public:
  // `fd` open for reading, of `size` bytes.
  bundle_file(owned_fd fd, std::uint64_t size) : fd_(std::move(fd)), size_(size) {}
  bundle_file(bundle_file&&) noexcept = default;
  bundle_file& operator=(bundle_file&&) noexcept = default;
  result<std::size_t> read(crypto::mutable_bytes out) override;
  result<void> seek(std::uint64_t offset);
  std::uint64_t size() const { return size_; }

 private:
  owned_fd fd_;
  std::uint64_t size_ = 0;
};

}  // namespace valise::server
