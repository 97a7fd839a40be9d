// The headers are the first bytes of what xz 5.4 and zstd 1.5 write.
#include "collect/decoder_window.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace valise::agent::detail {
namespace {

std::optional<declared_window> window_of(std::vector<std::uint8_t> head) {
  return decoder_window(head);
}

constexpr std::uint64_t MiB = 1 << 20;

TEST(decoder_window, xz_declares_its_dictionary_in_the_first_block_header) {
  const std::vector<std::uint8_t> stream = {0xfd, '7',  'z',  'X',  'Z',  0x00,
                                            0x00, 0x04, 0xe6, 0xd6, 0xb4, 0x46};
  auto nine = stream, six = stream;
  nine.insert(nine.end(), {0x02, 0x00, 0x21, 0x01, 0x1c, 0x00, 0x00, 0x00, 0x10, 0xcf});
  six.insert(six.end(), {0x02, 0x00, 0x21, 0x01, 0x16, 0x00, 0x00, 0x00, 0x74, 0x2f});
  const auto w = window_of(nine);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->format, "xz");
  EXPECT_EQ(w->kind, "dictionary");
  EXPECT_EQ(w->bytes, 64 * MiB);              // xz -9
  EXPECT_EQ(window_of(six)->bytes, 8 * MiB);  // xz -6
  // A BCJ filter before LZMA2, and both sizes present: skipped over.
  auto filtered = stream;
  filtered.insert(filtered.end(), {0x03, 0xc1, 0x85, 0x01, 0x90, 0x03, 0x04, 0x00, 0x21, 0x01, 0x14,
                                   0x00, 0x00, 0x00, 0x00, 0x00});
  EXPECT_EQ(window_of(filtered)->bytes, 4 * MiB);
  // Cut inside the block header, or an empty stream (index at once): nothing.
  EXPECT_FALSE(window_of({nine.begin(), nine.begin() + 15}));
  auto empty = stream;
  empty.push_back(0x00);
  EXPECT_FALSE(window_of(empty));
}

TEST(decoder_window, zstd_declares_a_window_or_a_single_segment_size) {
  // zstd --long=27 through a pipe: window descriptor 0x88, 2^27.
  const auto piped = window_of({0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x88, 0x00, 0x00});
  ASSERT_TRUE(piped);
  EXPECT_EQ(piped->format, "zstd");
  EXPECT_EQ(piped->kind, "window");
  EXPECT_EQ(piped->bytes, 128 * MiB);
  // Mantissa: 2^20 + 5/8 of it.
  EXPECT_EQ(window_of({0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x55})->bytes, MiB + 5 * MiB / 8);
  // A file of 3000000 bytes: single segment, the content size is the window.
  EXPECT_EQ(window_of({0x28, 0xb5, 0x2f, 0xfd, 0xa4, 0xc0, 0xc6, 0x2d, 0x00})->bytes, 3000000u);
  // 17 bytes, 1-byte size; and a 2-byte size counts from 256.
  EXPECT_EQ(window_of({0x28, 0xb5, 0x2f, 0xfd, 0x24, 0x11})->bytes, 17u);
  EXPECT_EQ(window_of({0x28, 0xb5, 0x2f, 0xfd, 0x60, 0x00, 0x01})->bytes, 512u);
  EXPECT_FALSE(window_of({0x28, 0xb5, 0x2f, 0xfd, 0xa4, 0xc0}));
  // A window and a 4-byte content size (16 bytes): the buffer fills to 16.
  const auto sized = window_of({0x28, 0xb5, 0x2f, 0xfd, 0x80, 0x88, 0x10, 0x00, 0x00, 0x00});
  ASSERT_TRUE(sized);
  EXPECT_EQ(sized->bytes, 128 * MiB);
  EXPECT_EQ(sized->content_bytes, 16u);
  EXPECT_FALSE(piped->content_bytes);
}

TEST(decoder_window, zstd_skippable_frames_are_passed_over) {
  // pzstd's opening frame: magic 0x184D2A50, 4 bytes of payload.
  const auto w = window_of({0x50, 0x2a, 0x4d, 0x18, 0x04, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04,
                            0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x88});
  ASSERT_TRUE(w);
  EXPECT_EQ(w->bytes, 128 * MiB);
  EXPECT_FALSE(window_of({0x5f, 0x2a, 0x4d, 0x18, 0xff, 0x00, 0x00, 0x00, 0x01}));  // runs past
}

// `printf 'hello password=x\n' | xz -9`, whole: one block of 17 bytes.
const std::vector<std::uint8_t> small_xz = {
    0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00, 0x04, 0xe6, 0xd6, 0xb4, 0x46, 0x02, 0x00, 0x21, 0x01,
    0x1c, 0x00, 0x00, 0x00, 0x10, 0xcf, 0x58, 0xcc, 0x01, 0x00, 0x10, 0x68, 0x65, 0x6c, 0x6c, 0x6f,
    0x20, 0x70, 0x61, 0x73, 0x73, 0x77, 0x6f, 0x72, 0x64, 0x3d, 0x78, 0x0a, 0x00, 0x00, 0x00, 0x00,
    0x29, 0xf4, 0xef, 0x84, 0x38, 0x45, 0xc1, 0x74, 0x00, 0x01, 0x29, 0x11, 0x32, 0x0a, 0x70, 0x0e,
    0x1f, 0xb6, 0xf3, 0x7d, 0x01, 0x00, 0x00, 0x00, 0x00, 0x04, 0x59, 0x5a};

TEST(decoder_window, xz_index_gives_the_size_of_a_single_stream) {
  EXPECT_EQ(window_of(small_xz)->bytes, 64 * MiB);
  EXPECT_EQ(xz_content_size(small_xz, small_xz.size()), 17u);
  // The last 20 bytes hold the index and footer; 19 do not.
  const std::span<const std::uint8_t> whole(small_xz);
  EXPECT_EQ(xz_content_size(whole.last(20), small_xz.size()), 17u);
  EXPECT_FALSE(xz_content_size(whole.last(19), small_xz.size()));
  // Two streams (xz -d reads both): the index describes only the last.
  auto twice = small_xz;
  twice.insert(twice.end(), small_xz.begin(), small_xz.end());
  EXPECT_FALSE(xz_content_size(twice, twice.size()));
  auto padded = small_xz;
  padded.insert(padded.end(), 4, 0);
  EXPECT_FALSE(xz_content_size(padded, padded.size()));
  EXPECT_FALSE(xz_content_size(whole.first(40), 40));
}

TEST(decoder_window, lzip_codes_its_dictionary_in_one_byte) {
  EXPECT_EQ(window_of({'L', 'Z', 'I', 'P', 0x01, 0x19})->bytes, 32 * MiB);
  EXPECT_EQ(window_of({'L', 'Z', 'I', 'P', 0x01, 0xd8})->bytes, 10 * MiB);  // 2^24 - 6/16 of it
}

TEST(decoder_window, anything_else_declares_nothing) {
  EXPECT_FALSE(window_of({}));
  EXPECT_FALSE(window_of({'h', 'e', 'l', 'l', 'o'}));
  EXPECT_FALSE(window_of({0x1f, 0x8b, 0x08, 0x00}));  // gzip: 32 KiB, always
  EXPECT_FALSE(window_of({'B', 'Z', 'h', '9'}));
}

}  // namespace
}  // namespace valise::agent::detail
