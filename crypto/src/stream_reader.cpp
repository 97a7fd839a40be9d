// STREAM decryption. Whether a chunk is the final one is known from the input:
// a full chunk is final only if the input ends right after it, so the reader
// keeps one byte of look-ahead past each full chunk. A chunk that authenticates
// only with the other flag is genuine plaintext (age releases it too), and the
// stream then fails as truncated or as followed by trailing data.
#include <algorithm>
#include <cstring>

#include "stream.hpp"
#include "valise/crypto/age.hpp"

namespace valise::crypto::detail {
namespace {

constexpr std::size_t read_batch_chunks = 4;

std::error_code error(errc e) {
  return make_error_code(e);
}

}  // namespace

stream_reader::stream_reader(std::span<const std::uint8_t, 32> key, byte_source& in,
                             std::span<const std::uint8_t> buffered)
    : cipher_(key, /*encrypt=*/false),
      in_(in),
      sealed_(std::max(read_batch_chunks * sealed_chunk_size + 1, buffered.size())),
      plain_(chunk_size) {
  std::copy(buffered.begin(), buffered.end(), sealed_.begin());
  sealed_end_ = buffered.size();
}

stream_reader::~stream_reader() {
  secure_zero(plain_.data(), plain_.size());
}

// Makes more than one sealed chunk available, unless the input ends first.
result<void> stream_reader::fill() {
  if (sealed_end_ - sealed_pos_ > sealed_chunk_size || eof_) return {};
  std::memmove(sealed_.data(), sealed_.data() + sealed_pos_, sealed_end_ - sealed_pos_);
  sealed_end_ -= sealed_pos_;
  sealed_pos_ = 0;
  while (sealed_end_ <= sealed_chunk_size && !eof_) {
    auto n = in_.read({sealed_.data() + sealed_end_, sealed_.size() - sealed_end_});
    if (!n) return n.error();
    eof_ = *n == 0;
    sealed_end_ += *n;
  }
  return {};
}

result<std::size_t> stream_reader::open_chunk(std::uint8_t* out) {
  if (auto r = fill(); !r) return r.error();
  const std::size_t available = sealed_end_ - sealed_pos_;
  const bool last = available <= sealed_chunk_size;  // fill() reached the end of input
  const std::size_t size = std::min(available, sealed_chunk_size);
  if (size < tag_size) return error(errc::payload_truncated);  // nothing, or a cut tag
  // The final chunk is empty only when it is the only one (age.md).
  if (last && size == tag_size && cipher_.counter() > 0) return error(errc::payload_tampered);
  const std::span<const std::uint8_t> sealed(sealed_.data() + sealed_pos_, size);
  if (!cipher_.open(sealed, last, out)) {
    if (size != sealed_chunk_size || !cipher_.open(sealed, !last, out)) {
      return error(errc::payload_tampered);
    }
    pending_ = error(last ? errc::payload_truncated : errc::trailing_data);
  }
  sealed_pos_ += size;
  done_ = last || pending_;
  return size - tag_size;
}

result<std::size_t> stream_reader::read(mutable_bytes out) {
  if (failed_) return failed_;
  std::size_t written = 0;
  while (written < out.size()) {
    if (plain_pos_ < plain_end_) {
      const std::size_t n = std::min(plain_end_ - plain_pos_, out.size() - written);
      std::memcpy(out.data() + written, plain_.data() + plain_pos_, n);
      plain_pos_ += n;
      written += n;
      continue;
    }
    if (done_) {
      if (pending_) failed_ = pending_;
      break;
    }
    // A read of a chunk or more decrypts straight into the caller's buffer.
    const bool direct = out.size() - written >= chunk_size;
    auto n = open_chunk(direct ? out.data() + written : plain_.data());
    if (!n) {
      failed_ = n.error();
      break;
    }
    if (direct) {
      written += *n;
    } else {
      plain_pos_ = 0;
      plain_end_ = *n;
    }
  }
  // Plaintext already authenticated goes out first; the error on the next call.
  if (written == 0 && failed_) return failed_;
  return written;
}

}  // namespace valise::crypto::detail
