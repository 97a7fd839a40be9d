// Armor encoder: 48 input bytes per 64-column line, the last line shorter and
// padded; no empty line before the end line when the input fills its last line.
#include <algorithm>
#include <cstring>

#include "armor.hpp"
#include "base64.hpp"
#include "bytes.hpp"

namespace valise::crypto::detail {
namespace {

constexpr std::size_t bytes_per_line = 48;
constexpr std::size_t flush_size = 64 * 1024;

}  // namespace

armor_writer::armor_writer(byte_sink& out) : out_(out) {
  text_.reserve(flush_size + 128);
}

void armor_writer::start() {
  if (started_) return;
  started_ = true;
  text_ += armor_begin;
  text_ += '\n';
}

void armor_writer::encode_line(bytes data) {
  text_ += base64_encode(data, /*padded=*/true);
  text_ += '\n';
}

result<void> armor_writer::flush() {
  auto written = out_.write(as_bytes(text_));
  text_.clear();
  return written;
}

result<void> armor_writer::write(bytes data) {
  start();
  if (data.empty()) return {};  // an empty span may have no data(): not for memcpy
  if (partial_size_ > 0) {
    const std::size_t n = std::min(bytes_per_line - partial_size_, data.size());
    std::memcpy(partial_.data() + partial_size_, data.data(), n);
    partial_size_ += n;
    data = data.subspan(n);
    if (partial_size_ < bytes_per_line) return {};
    encode_line(partial_);
    partial_size_ = 0;
  }
  for (; data.size() >= bytes_per_line; data = data.subspan(bytes_per_line)) {
    encode_line(data.first(bytes_per_line));
    if (text_.size() >= flush_size) {
      if (auto r = flush(); !r) return r;
    }
  }
  std::memcpy(partial_.data(), data.data(), data.size());
  partial_size_ = data.size();
  return {};
}

result<void> armor_writer::finish() {
  start();
  if (partial_size_ > 0) encode_line({partial_.data(), partial_size_});
  partial_size_ = 0;
  text_ += armor_end;
  text_ += '\n';
  return flush();
}

}  // namespace valise::crypto::detail
