#include "armor.hpp"

#include <algorithm>
#include <cstring>

#include "encoding.hpp"
#include "valise/crypto/age.hpp"

namespace valise::crypto::detail {
namespace {

constexpr std::size_t columns = 64;
constexpr std::size_t bytes_per_line = columns / 4 * 3;
constexpr std::size_t max_line = 1024;  // no valid line comes near this
constexpr std::size_t max_whitespace = 1024;

std::error_code invalid() {
  return make_error_code(errc::armor_invalid);
}

bool is_space(std::uint8_t c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

}  // namespace

// ---- writer -----------------------------------------------------------------

result<void> armor_writer::emit(bool final) {
  const std::size_t whole =
      final ? pending_.size() : pending_.size() / bytes_per_line * bytes_per_line;
  for (std::size_t i = 0; i < whole; i += bytes_per_line) {
    const std::size_t n = std::min(bytes_per_line, whole - i);
    text_ += base64_encode({pending_.data() + i, n}, /*padded=*/true);
    text_ += '\n';
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(whole));
  if (final) {
    text_ += armor_end;
    text_ += '\n';
  }
  auto r = out_.write({reinterpret_cast<const std::uint8_t*>(text_.data()), text_.size()});
  text_.clear();
  return r;
}

result<void> armor_writer::write(bytes data) {
  if (!started_) {
    started_ = true;
    text_ = std::string(armor_begin) + "\n";
  }
  pending_.insert(pending_.end(), data.begin(), data.end());
  if (pending_.size() < 64 * 1024) return {};
  return emit(false);
}

result<void> armor_writer::finish() {
  if (!started_) {
    started_ = true;
    text_ = std::string(armor_begin) + "\n";
  }
  return emit(true);
}

// ---- reader -----------------------------------------------------------------

// One line without its LF or CRLF ending.
result<bool> armor_reader::next_line(std::string& line) {
  using boost::system::in_place_error;
  line.clear();
  for (;;) {
    if (raw_pos_ == raw_.size()) {
      if (raw_eof_) return !line.empty();
      raw_.resize(64 * 1024);
      auto n = in_.read(raw_);
      if (!n) return {in_place_error, n.error()};
      raw_.resize(*n);
      raw_pos_ = 0;
      if (*n == 0) {
        raw_eof_ = true;
        continue;
      }
    }
    const auto begin = raw_.begin() + static_cast<std::ptrdiff_t>(raw_pos_);
    const auto lf = std::find(begin, raw_.end(), '\n');
    line.append(begin, lf);
    raw_pos_ = static_cast<std::size_t>(lf - raw_.begin());
    if (line.size() > max_line) return {in_place_error, invalid()};
    if (lf != raw_.end()) {
      ++raw_pos_;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return true;
    }
  }
}

// After the end line only whitespace may follow, and not endlessly.
result<void> armor_reader::check_trailing() {
  std::size_t seen = 0;
  for (;;) {
    for (; raw_pos_ < raw_.size(); ++raw_pos_, ++seen) {
      if (!is_space(raw_[raw_pos_]) || seen >= max_whitespace) return invalid();
    }
    if (raw_eof_) return {};
    raw_.resize(4096);
    auto n = in_.read(raw_);
    if (!n) return n.error();
    raw_.resize(*n);
    raw_pos_ = 0;
    if (*n == 0) raw_eof_ = true;
  }
}

result<void> armor_reader::decode_next_line() {
  std::string line;
  if (state_ == state::start) {
    // Whitespace may precede the armor.
    for (;;) {
      if (raw_pos_ == raw_.size() && !raw_eof_) {
        raw_.resize(4096);
        auto n = in_.read(raw_);
        if (!n) return n.error();
        raw_.resize(*n);
        raw_pos_ = 0;
        if (*n == 0) raw_eof_ = true;
        continue;
      }
      if (raw_pos_ < raw_.size() && is_space(raw_[raw_pos_])) {
        if (++raw_pos_ > max_whitespace) return invalid();
        continue;
      }
      break;
    }
    auto got = next_line(line);
    if (!got) return got.error();
    if (!*got || line != armor_begin) return invalid();
    state_ = state::body;
  }
  auto got = next_line(line);
  if (!got) return got.error();
  if (!*got) return invalid();  // no end line
  if (line == armor_end) {
    state_ = state::done;
    return check_trailing();
  }
  if (line.empty() || line.size() > columns) return invalid();
  decoded_.resize(bytes_per_line + 3);
  const auto n = base64_decode_into(line, /*padded=*/true, decoded_.data());
  if (!n) return invalid();
  decoded_.resize(*n);
  decoded_pos_ = 0;
  if (line.size() < columns) {
    // A short line is the last one: the end line must follow.
    got = next_line(line);
    if (!got) return got.error();
    if (!*got || line != armor_end) return invalid();
    state_ = state::done;
    return check_trailing();
  }
  return {};
}

result<std::size_t> armor_reader::read(mutable_bytes out) {
  if (failed_) return failed_;
  std::size_t written = 0;
  while (written < out.size()) {
    if (decoded_pos_ < decoded_.size()) {
      const std::size_t n = std::min(decoded_.size() - decoded_pos_, out.size() - written);
      std::memcpy(out.data() + written, decoded_.data() + decoded_pos_, n);
      decoded_pos_ += n;
      written += n;
      continue;
    }
    if (state_ == state::done) break;
    if (auto r = decode_next_line(); !r) {
      failed_ = r.error();
      if (written > 0) return written;  // report the error on the next call
      return failed_;
    }
  }
  return written;
}

}  // namespace valise::crypto::detail
