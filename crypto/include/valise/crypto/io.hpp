// Byte streams: the only I/O the crypto layer knows. Files, pipes and sockets
// implement them in common/; format code stays pure and testable over memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "valise/crypto/result.hpp"

namespace valise::crypto {

using bytes = std::span<const std::uint8_t>;
using mutable_bytes = std::span<std::uint8_t>;

class byte_sink {
 public:
  virtual ~byte_sink() = default;
  // Writes all of `data` or fails.
  virtual result<void> write(bytes data) = 0;
  // The same for data built in a string, left empty on return: a sink that
  // queues buffers may keep the string's storage, and give back another,
  // instead of copying it.
  virtual result<void> write_owned(std::string& data) {
    auto r = write({reinterpret_cast<const std::uint8_t*>(data.data()), data.size()});
    data.clear();
    return r;
  }
};

class byte_source {
 public:
  virtual ~byte_source() = default;
  // Reads up to `out.size()` bytes. Returns 0 only at end of stream.
  virtual result<std::size_t> read(mutable_bytes out) = 0;
};

// In-memory streams, for tests and small payloads.
class memory_sink final : public byte_sink {
 public:
  result<void> write(bytes data) override {
    data_.insert(data_.end(), data.begin(), data.end());
    return {};
  }
  const std::vector<std::uint8_t>& data() const { return data_; }

 private:
  std::vector<std::uint8_t> data_;
};

class memory_source final : public byte_source {
 public:
  explicit memory_source(bytes data) : data_(data) {}
  result<std::size_t> read(mutable_bytes out) override;

 private:
  bytes data_;
  std::size_t offset_ = 0;
};

}  // namespace valise::crypto
