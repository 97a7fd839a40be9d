// Bytes held back for later: in memory up to a limit, beyond it in an unnamed
// scratch file, encrypted under a key that exists only in this object's memory
// (libsodium secretstream, XChaCha20-Poly1305) and is wiped after use. What
// reaches the disk is ciphertext, and nothing is left behind: the file has no
// name (O_TMPFILE, or unlinked at once) and goes away with the descriptor.
#pragma once

#include <sodium.h>

#include <cstdint>
#include <filesystem>
#include <vector>

#include "valise/crypto/io.hpp"
#include "valise/crypto/secret.hpp"

namespace valise::common::detail {

class sealed_buffer final : public crypto::byte_sink {
 public:
  // The memory part is allocated (and touched) here: RSS does not depend on
  // what goes through. An empty `scratch_dir` is the system temporary directory.
  sealed_buffer(std::filesystem::path scratch_dir, std::size_t memory_limit);
  ~sealed_buffer() override;
  sealed_buffer(const sealed_buffer&) = delete;
  sealed_buffer& operator=(const sealed_buffer&) = delete;

  result<void> write(crypto::bytes data) override;
  std::uint64_t size() const { return size_; }
  bool spilled() const { return fd_ >= 0; }
  // Writes everything held to `out`, in order (the spilled part decrypted and
  // authenticated chunk by chunk), then clears.
  result<void> replay(crypto::byte_sink& out);
  // Forgets everything: wipes the memory part and the key, drops the file.
  void clear();

 private:
  static constexpr std::size_t chunk = 64 * 1024;  // plaintext per secretstream message
  result<void> open_scratch();
  result<void> seal_chunk(unsigned char tag);

  std::filesystem::path scratch_dir_;
  std::vector<std::uint8_t> memory_;  // memory_.size() is the limit
  std::size_t used_ = 0;
  std::uint64_t size_ = 0;
  int fd_ = -1;
  crypto::secret_array<crypto_secretstream_xchacha20poly1305_KEYBYTES> key_;
  crypto_secretstream_xchacha20poly1305_state state_{};
  std::vector<std::uint8_t> pending_;  // plaintext of the chunk being filled
  std::vector<std::uint8_t> sealed_;   // one ciphertext chunk
};

}  // namespace valise::common::detail
