// The age payload: STREAM over ChaCha20-Poly1305 in 64 KiB chunks. The writer
// seals what it is given; the reader releases a chunk's plaintext only after its
// tag verified. Both hold a fixed amount of memory whatever the payload size.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "valise/crypto/io.hpp"

namespace valise::crypto::detail {

inline constexpr std::size_t chunk_size = 64 * 1024;
inline constexpr std::size_t tag_size = 16;
inline constexpr std::size_t sealed_chunk_size = chunk_size + tag_size;
inline constexpr std::size_t payload_nonce_size = 16;

// One ChaCha20-Poly1305 key and the STREAM chunk counter (OpenSSL EVP: its
// vectorised code is ~3x libsodium's here, and this is the hot path).
class chunk_cipher {
 public:
  chunk_cipher(std::span<const std::uint8_t, 32> key, bool encrypt);
  ~chunk_cipher();
  chunk_cipher(const chunk_cipher&) = delete;
  chunk_cipher& operator=(const chunk_cipher&) = delete;

  // Writes plaintext.size() + tag_size bytes to `out`.
  void seal(std::span<const std::uint8_t> plaintext, bool last, std::uint8_t* out);
  // Writes sealed.size() - tag_size bytes to `out`; false (and `out` wiped) if
  // the tag does not verify. Advances the counter only on success.
  bool open(std::span<const std::uint8_t> sealed, bool last, std::uint8_t* out);
  std::uint64_t counter() const { return counter_; }

 private:
  void set_nonce(bool last);
  struct evp;
  std::unique_ptr<evp> ctx_;
  std::uint64_t counter_ = 0;
  std::uint8_t key_[32];
};

class stream_writer {
 public:
  stream_writer(std::span<const std::uint8_t, 32> key, byte_sink& out);
  ~stream_writer();
  result<void> write(bytes data);
  result<void> finish();

 private:
  result<void> seal_chunk(std::span<const std::uint8_t> plaintext, bool last);
  result<void> flush();
  chunk_cipher cipher_;
  byte_sink& out_;
  std::vector<std::uint8_t> plain_;   // pending plaintext, at most one chunk
  std::vector<std::uint8_t> sealed_;  // sealed chunks batched into large writes
  std::size_t sealed_len_ = 0;
  bool finished_ = false;
};

class stream_reader {
 public:
  // `buffered` holds payload bytes already read past the header.
  stream_reader(std::span<const std::uint8_t, 32> key, byte_source& in,
                std::span<const std::uint8_t> buffered);
  ~stream_reader();
  result<std::size_t> read(mutable_bytes out);

 private:
  result<void> fill();
  // Authenticates the next chunk into `out` (at least chunk_size bytes).
  result<std::size_t> next_chunk(std::uint8_t* out);
  chunk_cipher cipher_;
  byte_source& in_;
  std::vector<std::uint8_t> in_buf_;
  std::size_t in_pos_ = 0, in_len_ = 0;
  bool in_eof_ = false;
  std::vector<std::uint8_t> plain_;
  std::size_t plain_pos_ = 0, plain_len_ = 0;
  bool done_ = false;
  std::error_code pending_;  // reported once the chunk before it is consumed
  std::error_code failed_;
};

}  // namespace valise::crypto::detail
