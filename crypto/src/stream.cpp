#include "stream.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "valise/crypto/age.hpp"

namespace valise::crypto::detail {
namespace {

constexpr std::size_t batch_chunks = 16;  // ~1 MiB per read/write call

std::error_code error(errc e) {
  return make_error_code(e);
}

}  // namespace

struct chunk_cipher::evp {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  ~evp() { EVP_CIPHER_CTX_free(ctx); }
};

chunk_cipher::chunk_cipher(std::span<const std::uint8_t, 32> key, bool encrypt)
    : ctx_(std::make_unique<evp>()) {
  std::memcpy(key_, key.data(), sizeof key_);
  if (!ctx_->ctx || EVP_CipherInit_ex(ctx_->ctx, EVP_chacha20_poly1305(), nullptr, nullptr, nullptr,
                                      encrypt ? 1 : 0) != 1) {
    throw std::bad_alloc();
  }
}

chunk_cipher::~chunk_cipher() {
  secure_zero(key_, sizeof key_);
}

void chunk_cipher::set_nonce(bool last) {
  std::uint8_t nonce[12] = {};
  for (int i = 0; i < 8; ++i) nonce[10 - i] = static_cast<std::uint8_t>(counter_ >> (8 * i));
  nonce[11] = last ? 1 : 0;
  EVP_CipherInit_ex(ctx_->ctx, nullptr, nullptr, key_, nonce, -1);
}

void chunk_cipher::seal(std::span<const std::uint8_t> plaintext, bool last, std::uint8_t* out) {
  set_nonce(last);
  int len = 0;
  EVP_EncryptUpdate(ctx_->ctx, out, &len, plaintext.data(), static_cast<int>(plaintext.size()));
  int tail = 0;
  EVP_EncryptFinal_ex(ctx_->ctx, out + len, &tail);
  EVP_CIPHER_CTX_ctrl(ctx_->ctx, EVP_CTRL_AEAD_GET_TAG, tag_size, out + plaintext.size());
  ++counter_;
}

bool chunk_cipher::open(std::span<const std::uint8_t> sealed, bool last, std::uint8_t* out) {
  const std::size_t n = sealed.size() - tag_size;
  set_nonce(last);
  int len = 0;
  EVP_CIPHER_CTX_ctrl(ctx_->ctx, EVP_CTRL_AEAD_SET_TAG, tag_size,
                      const_cast<std::uint8_t*>(sealed.data() + n));
  EVP_DecryptUpdate(ctx_->ctx, out, &len, sealed.data(), static_cast<int>(n));
  int tail = 0;
  if (EVP_DecryptFinal_ex(ctx_->ctx, out + len, &tail) != 1) {
    secure_zero(out, n);  // never let unauthenticated plaintext out
    return false;
  }
  ++counter_;
  return true;
}

// ---- writer -----------------------------------------------------------------

stream_writer::stream_writer(std::span<const std::uint8_t, 32> key, byte_sink& out)
    : cipher_(key, true), out_(out), sealed_(batch_chunks * sealed_chunk_size) {
  plain_.reserve(chunk_size);
}

stream_writer::~stream_writer() {
  if (!plain_.empty()) secure_zero(plain_.data(), plain_.size());
}

result<void> stream_writer::flush() {
  if (sealed_len_ == 0) return {};
  auto r = out_.write({sealed_.data(), sealed_len_});
  sealed_len_ = 0;
  return r;
}

result<void> stream_writer::seal_chunk(std::span<const std::uint8_t> plaintext, bool last) {
  if (sealed_len_ + sealed_chunk_size > sealed_.size()) {
    if (auto r = flush(); !r) return r;
  }
  cipher_.seal(plaintext, last, sealed_.data() + sealed_len_);
  sealed_len_ += plaintext.size() + tag_size;
  return {};
}

result<void> stream_writer::write(bytes data) {
  // A full chunk is sealed only once more data follows: the last chunk carries
  // the final flag and may itself be full.
  while (!data.empty()) {
    if (plain_.size() == chunk_size) {
      if (auto r = seal_chunk(plain_, false); !r) return r;
      plain_.clear();
    }
    if (plain_.empty() && data.size() > chunk_size) {
      if (auto r = seal_chunk(data.first(chunk_size), false); !r) return r;
      data = data.subspan(chunk_size);
      continue;
    }
    const std::size_t n = std::min(chunk_size - plain_.size(), data.size());
    plain_.insert(plain_.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
    data = data.subspan(n);
  }
  return {};
}

result<void> stream_writer::finish() {
  if (finished_) return {};
  finished_ = true;
  if (auto r = seal_chunk(plain_, true); !r) return r;
  secure_zero(plain_.data(), plain_.size());
  plain_.clear();
  return flush();
}

// ---- reader -----------------------------------------------------------------

stream_reader::stream_reader(std::span<const std::uint8_t, 32> key, byte_source& in,
                             std::span<const std::uint8_t> buffered)
    : cipher_(key, false),
      in_(in),
      in_buf_(std::max(batch_chunks * sealed_chunk_size, buffered.size() + sealed_chunk_size + 1)),
      plain_(chunk_size) {
  std::copy(buffered.begin(), buffered.end(), in_buf_.begin());
  in_len_ = buffered.size();
}

stream_reader::~stream_reader() {
  secure_zero(plain_.data(), plain_.size());
}

// Makes at least sealed_chunk_size + 1 bytes available unless the input ends:
// one byte past a full chunk tells whether that chunk is the last.
result<void> stream_reader::fill() {
  if (in_len_ - in_pos_ > sealed_chunk_size || in_eof_) return {};
  std::memmove(in_buf_.data(), in_buf_.data() + in_pos_, in_len_ - in_pos_);
  in_len_ -= in_pos_;
  in_pos_ = 0;
  while (in_len_ <= sealed_chunk_size && !in_eof_) {
    auto n = in_.read({in_buf_.data() + in_len_, in_buf_.size() - in_len_});
    if (!n) return n.error();
    if (*n == 0) in_eof_ = true;
    in_len_ += *n;
  }
  return {};
}

result<std::size_t> stream_reader::next_chunk(std::uint8_t* out) {
  if (auto r = fill(); !r) return r.error();
  const std::size_t available = in_len_ - in_pos_;
  const bool last = available <= sealed_chunk_size;  // fill() saw the end of input
  const std::size_t n = std::min(available, sealed_chunk_size);
  if (n < tag_size) return error(errc::payload_truncated);
  const std::span<const std::uint8_t> sealed(in_buf_.data() + in_pos_, n);
  if (!cipher_.open(sealed, last, out)) {
    // Only a full chunk can be a non-final one (or a final one followed by
    // more input). If it is authentic with the other flag, its plaintext is
    // genuine and released (as age does), then the stream fails as truncated
    // (no final chunk) or followed by trailing data.
    if (n != sealed_chunk_size || !cipher_.open(sealed, !last, out)) {
      return error(errc::payload_tampered);
    }
    pending_ = error(last ? errc::payload_truncated : errc::trailing_data);
  }
  in_pos_ += n;
  const std::size_t plain = n - tag_size;
  if (last || pending_) done_ = true;
  // Only an empty payload may have an empty (first and only) final chunk.
  if (last && !pending_ && plain == 0 && cipher_.counter() > 1) {
    return error(errc::payload_tampered);
  }
  return plain;
}

result<std::size_t> stream_reader::read(mutable_bytes out) {
  if (failed_) return failed_;
  std::size_t written = 0;
  while (written < out.size()) {
    if (plain_pos_ < plain_len_) {
      const std::size_t n = std::min(plain_len_ - plain_pos_, out.size() - written);
      std::memcpy(out.data() + written, plain_.data() + plain_pos_, n);
      plain_pos_ += n;
      written += n;
      continue;
    }
    if (done_) {
      if (pending_) {
        failed_ = pending_;
        return written > 0 ? result<std::size_t>(written) : result<std::size_t>(failed_);
      }
      break;
    }
    // Large reads decrypt straight into the caller's buffer.
    const bool direct = out.size() - written >= chunk_size;
    auto n = next_chunk(direct ? out.data() + written : plain_.data());
    if (!n) {
      failed_ = n.error();
      if (written > 0) return written;  // release what was authenticated first
      return failed_;
    }
    if (direct) {
      written += *n;
    } else {
      plain_pos_ = 0;
      plain_len_ = *n;
    }
  }
  return written;
}

}  // namespace valise::crypto::detail
