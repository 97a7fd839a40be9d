#include "sealed_buffer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace valise::common::detail {
namespace {

std::error_code last_error() {
  return {errno, std::generic_category()};
}

result<void> write_all(int fd, const std::uint8_t* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return last_error();
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return {};
}

// Exactly `size` bytes, or a short count at end of file.
result<std::size_t> read_full(int fd, std::uint8_t* data, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(fd, data + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return last_error();
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return done;
}

std::error_code tampered() {
  return std::make_error_code(std::errc::io_error);
}

}  // namespace

sealed_buffer::sealed_buffer(std::filesystem::path scratch_dir, std::size_t memory_limit)
    : scratch_dir_(std::move(scratch_dir)), memory_(memory_limit) {}

sealed_buffer::~sealed_buffer() {
  clear();
}

result<void> sealed_buffer::open_scratch() {
  if (sodium_init() < 0) return std::make_error_code(std::errc::not_supported);
  std::filesystem::path dir = scratch_dir_;
  if (dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    dir = tmp && *tmp ? tmp : "/tmp";
  }
  fd_ = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
  if (fd_ < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    // No O_TMPFILE on this file system: a named file, unlinked at once.
    std::string name = (dir / ".valise-scratch-XXXXXX").string();
    fd_ = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd_ >= 0) ::unlink(name.c_str());
  }
  if (fd_ < 0) return last_error();
  crypto_secretstream_xchacha20poly1305_keygen(key_.data);
  unsigned char header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
  crypto_secretstream_xchacha20poly1305_init_push(&state_, header, key_.data);
  pending_.reserve(chunk);
  sealed_.resize(chunk + crypto_secretstream_xchacha20poly1305_ABYTES);
  return write_all(fd_, header, sizeof header);
}

result<void> sealed_buffer::seal_chunk(unsigned char tag) {
  unsigned long long n = 0;
  crypto_secretstream_xchacha20poly1305_push(&state_, sealed_.data(), &n, pending_.data(),
                                             pending_.size(), nullptr, 0, tag);
  crypto::secure_zero(pending_.data(), pending_.size());
  pending_.clear();
  return write_all(fd_, sealed_.data(), static_cast<std::size_t>(n));
}

result<void> sealed_buffer::write(crypto::bytes data) {
  size_ += data.size();
  if (fd_ < 0) {
    const std::size_t n = std::min(data.size(), memory_.size() - used_);
    std::memcpy(memory_.data() + used_, data.data(), n);
    used_ += n;
    data = data.subspan(n);
    if (data.empty()) return {};
    if (auto r = open_scratch(); !r) return r;
  }
  while (!data.empty()) {
    const std::size_t n = std::min(data.size(), chunk - pending_.size());
    pending_.insert(pending_.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
    data = data.subspan(n);
    if (pending_.size() == chunk) {
      if (auto r = seal_chunk(0); !r) return r;
    }
  }
  return {};
}

result<void> sealed_buffer::replay(crypto::byte_sink& out) {
  if (used_ > 0) {
    if (auto r = out.write({memory_.data(), used_}); !r) return r;
  }
  if (fd_ >= 0) {
    // The last chunk says it is the last: a cut file cannot pass for a whole one.
    if (auto r = seal_chunk(crypto_secretstream_xchacha20poly1305_TAG_FINAL); !r) return r;
    if (::lseek(fd_, 0, SEEK_SET) != 0) return last_error();
    unsigned char header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
    auto got = read_full(fd_, header, sizeof header);
    if (!got) return got.error();
    if (*got != sizeof header ||
        crypto_secretstream_xchacha20poly1305_init_pull(&state_, header, key_.data) != 0) {
      return tampered();
    }
    std::vector<std::uint8_t> plain(chunk);
    for (unsigned char tag = 0; tag != crypto_secretstream_xchacha20poly1305_TAG_FINAL;) {
      auto n = read_full(fd_, sealed_.data(), sealed_.size());
      if (!n) return n.error();
      unsigned long long m = 0;
      if (crypto_secretstream_xchacha20poly1305_pull(&state_, plain.data(), &m, &tag,
                                                     sealed_.data(), *n, nullptr, 0) != 0) {
        return tampered();
      }
      auto r = out.write({plain.data(), static_cast<std::size_t>(m)});
      crypto::secure_zero(plain.data(), plain.size());
      if (!r) return r;
    }
  }
  clear();
  return {};
}

void sealed_buffer::clear() {
  crypto::secure_zero(memory_.data(), used_);
  used_ = 0;
  size_ = 0;
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
    crypto::secure_zero(key_.data, sizeof key_.data);
    crypto::secure_zero(&state_, sizeof state_);
    crypto::secure_zero(pending_.data(), pending_.size());
    pending_.clear();
  }
}

}  // namespace valise::common::detail
