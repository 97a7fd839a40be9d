// Armor decoder, strict like age's: whitespace-only lines before the begin
// line, then full 64-column lines, one shorter last line (or none), the end
// line, and at most some whitespace after it. Lines end in LF or CRLF.
// Canonical padded base64 only; nothing else is accepted.
#include <algorithm>
#include <cstring>

#include "armor.hpp"
#include "base64.hpp"
#include "valise/crypto/age.hpp"

namespace valise::crypto::detail {
namespace {

constexpr std::size_t columns = 64;
constexpr std::size_t bytes_per_line = 48;
// No valid line is longer: whitespace lines count against armor_max_whitespace.
constexpr std::size_t max_line = armor_max_whitespace + columns;

std::error_code invalid() {
  return make_error_code(errc::armor_invalid);
}

// What age (Go's bytes.TrimSpace) counts as whitespace around the armor.
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

}  // namespace

result<bool> armor_reader::fill_raw() {
  if (raw_pos_ < raw_end_) return true;
  if (raw_eof_) return false;
  auto n = in_.read(raw_);
  if (!n) return {boost::system::in_place_error, n.error()};
  raw_pos_ = 0;
  raw_end_ = *n;
  raw_eof_ = *n == 0;
  return !raw_eof_;
}

// The next line into line_, without its LF and one CR before it; the last line
// may lack an LF. False only at the end of input with no line left.
result<bool> armor_reader::next_line() {
  line_.clear();
  bool any = false;
  for (;;) {
    auto more = fill_raw();
    if (!more) return more;
    if (!*more) break;
    any = true;
    const auto* begin = raw_.data() + raw_pos_;
    const auto* end = raw_.data() + raw_end_;
    const auto* lf = std::find(begin, end, '\n');
    line_.append(begin, lf);
    raw_pos_ = static_cast<std::size_t>(lf - raw_.data());
    if (line_.size() > max_line) return {boost::system::in_place_error, invalid()};
    if (lf != end) {
      ++raw_pos_;
      break;
    }
  }
  if (line_.ends_with('\r')) line_.pop_back();
  return any;
}

result<void> armor_reader::skip_to_begin_line() {
  std::size_t whitespace = 0;
  for (;;) {
    auto got = next_line();
    if (!got) return got.error();
    if (!*got) return invalid();
    if (!std::all_of(line_.begin(), line_.end(), is_space)) break;
    whitespace += line_.size() + 1;
    if (whitespace > armor_max_whitespace) return invalid();
  }
  if (line_ != armor_begin) return invalid();
  state_ = state::body;
  return {};
}

// After the end line only whitespace may follow, and not endlessly.
result<void> armor_reader::check_trailing_whitespace() {
  state_ = state::done;
  std::size_t seen = 0;
  for (;;) {
    auto more = fill_raw();
    if (!more) return more.error();
    if (!*more) return {};
    for (; raw_pos_ < raw_end_; ++raw_pos_) {
      if (!is_space(static_cast<char>(raw_[raw_pos_])) || ++seen >= armor_max_whitespace) {
        return invalid();
      }
    }
  }
}

result<void> armor_reader::decode_next_line() {
  if (state_ == state::start) {
    if (auto r = skip_to_begin_line(); !r) return r;
  }
  auto got = next_line();
  if (!got) return got.error();
  if (!*got) return invalid();  // no end line
  if (line_ == armor_end) return check_trailing_whitespace();
  if (line_.empty() || line_.size() > columns) return invalid();
  const auto n = base64_decode_into(line_, /*padded=*/true, decoded_);
  if (!n) return invalid();
  if (*n < bytes_per_line) {
    // A short line is the last one: the end line must follow.
    got = next_line();
    if (!got) return got.error();
    if (!*got || line_ != armor_end) return invalid();
    if (auto r = check_trailing_whitespace(); !r) return r;
  }
  decoded_pos_ = 0;
  decoded_end_ = *n;
  return {};
}

result<std::size_t> armor_reader::read(mutable_bytes out) {
  if (failed_) return failed_;
  std::size_t written = 0;
  while (written < out.size()) {
    if (decoded_pos_ < decoded_end_) {
      const std::size_t n = std::min(decoded_end_ - decoded_pos_, out.size() - written);
      std::memcpy(out.data() + written, decoded_.data() + decoded_pos_, n);
      decoded_pos_ += n;
      written += n;
      continue;
    }
    if (state_ == state::done) break;
    if (auto r = decode_next_line(); !r) {
      failed_ = r.error();
      break;
    }
  }
  // Bytes decoded before an error go out first; the error on the next call.
  if (written == 0 && failed_) return failed_;
  return written;
}

}  // namespace valise::crypto::detail
