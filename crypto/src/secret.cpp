// Secret holders: wiped with sodium_memzero, which the optimiser cannot drop.
#include "valise/crypto/secret.hpp"

#include <sodium.h>

namespace valise::crypto {
namespace {

// A moved-from short string keeps its characters in its inline buffer with a
// size of zero: wipe up to the capacity, not the size.
void wipe(std::string& s) {
  secure_zero(s.data(), s.capacity());
}

}  // namespace

void secure_zero(void* data, std::size_t size) {
  sodium_memzero(data, size);
}

secret_string::secret_string(std::string&& value) {
  // Moving would leave the characters in the caller's inline buffer (short
  // strings) or hand over a buffer that earlier growth may have copied: copy
  // into a buffer sized once, then wipe the source.
  value_.reserve(value.size());
  value_.assign(value);
  wipe(value);
  value.clear();
}

secret_string::secret_string(secret_string&& other) noexcept : value_(std::move(other.value_)) {
  wipe(other.value_);
  other.value_.clear();
}

secret_string& secret_string::operator=(secret_string&& other) noexcept {
  if (this != &other) {
    wipe(value_);
    value_ = std::move(other.value_);
    wipe(other.value_);
    other.value_.clear();
  }
  return *this;
}

secret_string::~secret_string() {
  wipe(value_);
}

}  // namespace valise::crypto
