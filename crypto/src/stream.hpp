// The age payload: STREAM over ChaCha20-Poly1305 in 64 KiB chunks (age.md,
// "Payload"). The writer seals what it is given; the reader releases a chunk's
// plaintext only after its tag verified. Both hold a fixed amount of memory,
// whatever the payload size.
#pragma once

#include <cstdint>
#include <span>
#include <system_error>
#include <vector>

#include "chunk_cipher.hpp"
#include "valise/crypto/io.hpp"

namespace valise::crypto::detail {

class stream_writer {
 public:
  stream_writer(std::span<const std::uint8_t, 32> key, byte_sink& out);
  ~stream_writer();  // wipes buffered plaintext
  stream_writer(const stream_writer&) = delete;
  stream_writer& operator=(const stream_writer&) = delete;

  result<void> write(bytes data);
  // Seals the final chunk (possibly short, empty only if nothing was written).
  result<void> finish();

 private:
  result<void> seal(std::span<const std::uint8_t> plaintext, bool last);
  result<void> flush();
  chunk_cipher cipher_;
  byte_sink& out_;
  std::vector<std::uint8_t> pending_;  // one chunk of plaintext being filled
  std::size_t pending_size_ = 0;
  std::vector<std::uint8_t> sealed_;  // sealed chunks not yet written
  std::size_t sealed_size_ = 0;
  bool finished_ = false;
  std::error_code failed_;  // a failed write leaves the output unusable
};

class stream_reader {
 public:
  // `buffered`: payload bytes (after the nonce) already read with the header.
  stream_reader(std::span<const std::uint8_t, 32> key, byte_source& in,
                std::span<const std::uint8_t> buffered);
  ~stream_reader();  // wipes buffered plaintext
  stream_reader(const stream_reader&) = delete;
  stream_reader& operator=(const stream_reader&) = delete;

  // Authenticated plaintext; 0 at the end of a complete payload. An error
  // comes only after all plaintext authenticated before it was returned.
  result<std::size_t> read(mutable_bytes out);

 private:
  result<void> fill();
  // Opens the next chunk into `out` (room for chunk_size bytes).
  result<std::size_t> open_chunk(std::uint8_t* out);
  chunk_cipher cipher_;
  byte_source& in_;
  std::vector<std::uint8_t> sealed_;  // ciphertext read ahead
  std::size_t sealed_pos_ = 0, sealed_end_ = 0;
  bool eof_ = false;
  std::vector<std::uint8_t> plain_;  // a chunk opened for a read smaller than a chunk
  std::size_t plain_pos_ = 0, plain_end_ = 0;
  bool done_ = false;        // the final chunk was opened
  std::error_code pending_;  // reported once the plaintext before it is consumed
  std::error_code failed_;
};

}  // namespace valise::crypto::detail
