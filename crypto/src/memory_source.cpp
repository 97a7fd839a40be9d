// In-memory byte source (io.hpp), for tests and small inputs.
#include <algorithm>
#include <cstring>

#include "valise/crypto/io.hpp"

namespace valise::crypto {

result<std::size_t> memory_source::read(mutable_bytes out) {
  const std::size_t n = std::min(out.size(), data_.size() - offset_);
  if (n > 0) std::memcpy(out.data(), data_.data() + offset_, n);
  offset_ += n;
  return n;
}

}  // namespace valise::crypto
