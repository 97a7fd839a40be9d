// STREAM encryption. A full chunk is sealed only once more data arrives, since
// the final chunk carries the last-chunk flag and may itself be full. Sealed
// chunks are batched into larger writes to the sink.
#include <algorithm>
#include <cstring>

#include "stream.hpp"
#include "valise/crypto/secret.hpp"

namespace valise::crypto::detail {
namespace {

constexpr std::size_t write_batch_chunks = 4;

}  // namespace

stream_writer::stream_writer(std::span<const std::uint8_t, 32> key, byte_sink& out)
    : cipher_(key, /*encrypt=*/true),
      out_(out),
      pending_(chunk_size),
      sealed_(write_batch_chunks * sealed_chunk_size) {}

stream_writer::~stream_writer() {
  secure_zero(pending_.data(), pending_.size());
}

result<void> stream_writer::flush() {
  if (sealed_size_ == 0) return {};
  auto written = out_.write({sealed_.data(), sealed_size_});
  sealed_size_ = 0;
  if (!written) failed_ = written.error();
  return written;
}

result<void> stream_writer::seal(std::span<const std::uint8_t> plaintext, bool last) {
  if (sealed_size_ + sealed_chunk_size > sealed_.size()) {
    if (auto r = flush(); !r) return r;
  }
  if (!cipher_.seal(plaintext, last, sealed_.data() + sealed_size_)) {
    failed_ = std::make_error_code(std::errc::not_enough_memory);
    return failed_;
  }
  sealed_size_ += plaintext.size() + tag_size;
  return {};
}

result<void> stream_writer::write(bytes data) {
  if (failed_) return failed_;
  if (finished_) return std::make_error_code(std::errc::operation_not_permitted);
  while (!data.empty()) {
    if (pending_size_ == chunk_size) {  // more data follows: not the final chunk
      if (auto r = seal({pending_.data(), chunk_size}, false); !r) return r;
      pending_size_ = 0;
    }
    if (pending_size_ == 0 && data.size() > chunk_size) {
      // Whole chunks straight from the caller's buffer, without a copy.
      if (auto r = seal(data.first(chunk_size), false); !r) return r;
      data = data.subspan(chunk_size);
      continue;
    }
    const std::size_t n = std::min(chunk_size - pending_size_, data.size());
    std::memcpy(pending_.data() + pending_size_, data.data(), n);
    pending_size_ += n;
    data = data.subspan(n);
  }
  return {};
}

result<void> stream_writer::finish() {
  if (failed_) return failed_;
  if (finished_) return {};
  finished_ = true;
  auto sealed = seal({pending_.data(), pending_size_}, true);
  secure_zero(pending_.data(), pending_size_);
  pending_size_ = 0;
  if (!sealed) return sealed;
  return flush();
}

}  // namespace valise::crypto::detail
