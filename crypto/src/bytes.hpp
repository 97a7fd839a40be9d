// Views between text and bytes: age headers are ASCII text inside binary files,
// so the codecs switch between the two without copying.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace valise::crypto::detail {

inline std::span<const std::uint8_t> as_bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

inline std::string_view as_text(std::span<const std::uint8_t> data) {
  return {reinterpret_cast<const char*>(data.data()), data.size()};
}

}  // namespace valise::crypto::detail
