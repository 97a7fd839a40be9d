// ASCII armor (strict PEM, RFC 7468, label "AGE ENCRYPTED FILE") as stream
// adapters: an encoding sink and a strictly validating decoding source.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "valise/crypto/io.hpp"

namespace valise::crypto::detail {

inline constexpr std::string_view armor_begin = "-----BEGIN AGE ENCRYPTED FILE-----";
inline constexpr std::string_view armor_end = "-----END AGE ENCRYPTED FILE-----";

class armor_writer final : public byte_sink {
 public:
  explicit armor_writer(byte_sink& out) : out_(out) {}
  result<void> write(bytes data) override;
  result<void> finish();

 private:
  result<void> emit(bool final);
  byte_sink& out_;
  std::vector<std::uint8_t> pending_;  // bytes not yet encoded (< one line)
  std::string text_;                   // encoded lines not yet written
  bool started_ = false;
};

// Reads armored text from `in` (positioned at the start of the file) and
// yields the decoded bytes; any deviation from strict PEM is armor_invalid.
class armor_reader final : public byte_source {
 public:
  explicit armor_reader(byte_source& in) : in_(in) {}
  result<std::size_t> read(mutable_bytes out) override;

 private:
  result<bool> next_line(std::string& line);  // false at end of input
  result<void> decode_next_line();
  result<void> check_trailing();
  byte_source& in_;
  std::vector<std::uint8_t> raw_;
  std::size_t raw_pos_ = 0;
  bool raw_eof_ = false;
  std::vector<std::uint8_t> decoded_;
  std::size_t decoded_pos_ = 0;
  enum class state { start, body, done } state_ = state::start;
  std::error_code failed_;
};

}  // namespace valise::crypto::detail
