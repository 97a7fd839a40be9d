// ASCII armor (age.md: strict PEM of RFC 7468, label "AGE ENCRYPTED FILE",
// padded base64 in 64-column lines) as stream adapters: an encoding sink and a
// strictly validating decoding source, so that armored files are not malleable.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "valise/crypto/io.hpp"

namespace valise::crypto::detail {

inline constexpr std::string_view armor_begin = "-----BEGIN AGE ENCRYPTED FILE-----";
inline constexpr std::string_view armor_end = "-----END AGE ENCRYPTED FILE-----";
// Whitespace allowed around the armor, at most (as age).
inline constexpr std::size_t armor_max_whitespace = 1024;

class armor_writer final : public byte_sink {
 public:
  explicit armor_writer(byte_sink& out);
  result<void> write(bytes data) override;
  // Encodes the last line and writes the end line; call once.
  result<void> finish();

 private:
  void start();
  void encode_line(bytes data);
  result<void> flush();
  byte_sink& out_;
  std::array<std::uint8_t, 48> partial_{};  // input bytes of an incomplete line
  std::size_t partial_size_ = 0;
  std::string text_;  // encoded lines not yet written
  bool started_ = false;
};

// Reads an armored file from `in` and yields the bytes it encodes. Any
// deviation from strict PEM is errc::armor_invalid; LF and CRLF line endings
// and whitespace lines before and after the armor are accepted, as age does.
class armor_reader final : public byte_source {
 public:
  explicit armor_reader(byte_source& in) : in_(in) {}
  result<std::size_t> read(mutable_bytes out) override;

 private:
  result<bool> next_line();  // into line_; false at the end of input
  result<void> skip_to_begin_line();
  result<void> decode_next_line();
  result<void> check_trailing_whitespace();
  result<bool> fill_raw();  // false at the end of input
  byte_source& in_;
  std::vector<std::uint8_t> raw_ = std::vector<std::uint8_t>(16 * 1024);
  std::size_t raw_pos_ = 0, raw_end_ = 0;
  bool raw_eof_ = false;
  std::string line_;
  std::array<std::uint8_t, 50> decoded_{};  // one line: 48 bytes, and decoder slack
  std::size_t decoded_pos_ = 0, decoded_end_ = 0;
  enum class state { start, body, done } state_ = state::start;
  std::error_code failed_;
};

}  // namespace valise::crypto::detail
