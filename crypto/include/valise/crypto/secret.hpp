// Holders for secrets (passphrases, keys): moved, never copied, zeroed on destruction.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace valise::crypto {

// Overwrites memory in a way the optimiser cannot remove (sodium_memzero).
void secure_zero(void* data, std::size_t size);

class secret_string {
 public:
  secret_string() = default;
  // Takes the characters and wipes the caller's copy.
  explicit secret_string(std::string&& value);
  secret_string(const secret_string&) = delete;
  secret_string& operator=(const secret_string&) = delete;
  secret_string(secret_string&& other) noexcept;
  secret_string& operator=(secret_string&& other) noexcept;
  ~secret_string();

  std::string_view view() const { return value_; }
  bool empty() const { return value_.empty(); }

 private:
  std::string value_;
};

template <std::size_t N>
struct secret_array {
  std::uint8_t data[N] = {};
  secret_array() = default;
  secret_array(const secret_array& other) = default;
  secret_array& operator=(const secret_array& other) = default;
  ~secret_array() { secure_zero(data, N); }
  std::span<std::uint8_t, N> span() { return std::span<std::uint8_t, N>(data); }
  std::span<const std::uint8_t, N> span() const { return std::span<const std::uint8_t, N>(data); }
};

}  // namespace valise::crypto
