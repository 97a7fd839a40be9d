// The read-ahead thread: blocks in order and within their size, the end, a
// failing source, an early stop.
#include "collect/read_ahead.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>

namespace valise::agent::detail {
namespace {

// Hands out `text` `piece` bytes at a time, then fails with `error` if set.
read_ahead::source pieces_of(const std::string& text, std::size_t piece, std::string error = {}) {
  return [&text, piece, error,
          at = std::size_t{0}](std::span<std::uint8_t> out) mutable -> read_ahead::fill_result {
    if (at == text.size() && !error.empty()) return error;
    const auto n = std::min({piece, out.size(), text.size() - at});
    std::memcpy(out.data(), text.data() + at, n);
    at += n;
    return n;
  };
}

// Everything the reader hands out, and the error it ended with.
std::pair<std::string, std::string> drain(read_ahead& reader, std::size_t block_size) {
  std::string out;
  for (;;) {
    const auto block = reader.next();
    if (block.data.empty()) return {out, block.error};
    EXPECT_LE(block.data.size(), block_size);
    out.append(reinterpret_cast<const char*>(block.data.data()), block.data.size());
  }
}

std::string numbers() {
  std::string s;
  for (std::size_t i = 0; s.size() < 100000; ++i) s += std::to_string(i) + "\n";
  return s;
}

TEST(read_ahead, hands_out_the_stream_in_order) {
  const auto text = numbers();
  read_ahead blocks(pieces_of(text, 1 << 20), 4096, 3);
  EXPECT_EQ(drain(blocks, 4096), std::make_pair(text, std::string()));
  read_ahead short_fills(pieces_of(text, 777), 4096, 2);
  EXPECT_EQ(drain(short_fills, 4096).first, text);
  read_ahead one_buffer(pieces_of(text, 5000), 4096, 1);
  EXPECT_EQ(drain(one_buffer, 4096).first, text);
  const std::string nothing;
  read_ahead empty(pieces_of(nothing, 10), 4096, 2);
  EXPECT_EQ(drain(empty, 4096), std::make_pair(std::string(), std::string()));
  EXPECT_TRUE(empty.next().data.empty()) << "and stays ended";
}

TEST(read_ahead, a_failing_source_ends_with_its_error_after_what_it_gave) {
  const auto text = numbers();
  read_ahead reader(pieces_of(text, 3000, "input/output error"), 4096, 4);
  EXPECT_EQ(drain(reader, 4096), std::make_pair(text, std::string("input/output error")));
}

TEST(read_ahead, stops_when_destroyed_before_the_end) {
  const auto text = numbers();
  std::atomic<int> fills = 0;
  for (std::size_t consumed = 0; consumed < 3; ++consumed) {
    read_ahead reader(
        [&](std::span<std::uint8_t> out) -> read_ahead::fill_result {
          ++fills;
          std::memset(out.data(), 'x', out.size());
          return out.size();  // endless
        },
        100, 2);
    for (std::size_t i = 0; i < consumed; ++i) EXPECT_EQ(reader.next().data.size(), 100u);
  }  // each destructor returns: the thread was waiting for a free buffer
  EXPECT_LE(fills.load(), 3 * 4) << "the thread stays within its buffers";
}

}  // namespace
}  // namespace valise::agent::detail
