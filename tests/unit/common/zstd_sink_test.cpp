// The zstd sinks, both ways: frames come out in the order their bytes went in,
// each to the sink it was meant for, with actions in between; errors stop them
// cleanly.
#include "zstd_sink.hpp"

#include <gtest/gtest.h>
#include <zstd.h>

#include <string>
#include <tuple>
#include <vector>

namespace valise::common::detail {
namespace {

crypto::bytes as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Log-like text with some noise in it, so that frames differ in size.
std::string text(std::size_t n, unsigned seed) {
  std::string s;
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  while (s.size() < n) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    s += "line " + std::to_string(x % 100003) + (x % 5 == 0 ? " with more words\n" : "\n");
  }
  s.resize(n);
  return s;
}

// Decodes concatenated frames, as `zstd -d` and the bundle reader do; counts them.
std::string decode(const std::vector<std::uint8_t>& in, std::size_t* frames = nullptr) {
  std::string out;
  std::size_t count = 0;
  ZSTD_DCtx* d = ZSTD_createDCtx();
  for (std::size_t at = 0; at < in.size(); ++count) {
    const std::size_t size = ZSTD_findFrameCompressedSize(in.data() + at, in.size() - at);
    EXPECT_FALSE(ZSTD_isError(size)) << "a broken frame at " << at;
    if (ZSTD_isError(size)) break;
    ZSTD_inBuffer src{in.data() + at, size, 0};
    std::string piece(64 * 1024, '\0');
    while (src.pos < src.size) {
      ZSTD_outBuffer dst{piece.data(), piece.size(), 0};
      const std::size_t r = ZSTD_decompressStream(d, &dst, &src);
      EXPECT_FALSE(ZSTD_isError(r));
      if (ZSTD_isError(r)) break;
      out.append(piece.data(), dst.pos);
    }
    at += size;
  }
  ZSTD_freeDCtx(d);
  if (frames) *frames = count;
  return out;
}

// Writes in uneven pieces, so that pieces straddle the frames.
void write_in_pieces(zstd_sink& sink, std::string_view data) {
  for (std::size_t at = 0, piece = 1; at < data.size(); at += piece, piece = piece * 3 % 7919 + 1)
    ASSERT_TRUE(sink.write(as_bytes(data.substr(at, piece))));
}

struct failing_sink final : crypto::byte_sink {
  int writes_left;
  explicit failing_sink(int n) : writes_left(n) {}
  result<void> write(crypto::bytes) override {
    if (writes_left-- > 0) return {};
    return std::make_error_code(std::errc::no_space_on_device);
  }
};

// `r` failed with `e`, and so does every call after it.
void expect_failed_for_good(zstd_sink& sink, const result<void>& r, std::errc e) {
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), e);
  EXPECT_EQ(sink.write(as_bytes("more")).error(), e);
  EXPECT_EQ(sink.finish().error(), e);
}

// Both ways (one frame, a frame per chunk), compressing inline or on 1-3 workers.
class zstd_sink_test : public testing::TestWithParam<std::tuple<bool, int>> {
 protected:
  static bool frame_per_chunk() { return std::get<0>(GetParam()); }
  // Small jobs, so that a few KB make many frames (libzstd raises one frame's
  // jobs to 512 KiB).
  static std::unique_ptr<zstd_sink> open(crypto::byte_sink& out) {
    auto sink = zstd_sink::create(out, {.level = 3,
                                        .threads = std::get<1>(GetParam()),
                                        .frame_per_chunk = frame_per_chunk(),
                                        .job_size = 4096});
    EXPECT_TRUE(sink);
    return sink ? std::move(*sink) : nullptr;
  }
};

TEST_P(zstd_sink_test, round_trips_in_one_frame_or_in_frames_of_job_size) {
  const auto input = text(100'000, 1);
  crypto::memory_sink out;
  auto sink = open(out);
  ASSERT_TRUE(sink);
  write_in_pieces(*sink, input);
  ASSERT_TRUE(sink->finish());
  std::size_t frames = 0;
  EXPECT_EQ(decode(out.data(), &frames), input);
  EXPECT_EQ(frames, frame_per_chunk() ? (input.size() + 4095) / 4096 : 1);
}

// The bundle writer's pattern: a long entry held aside while its frames are
// made, then replayed after a header by an action, while the next bytes are
// already going in.
TEST_P(zstd_sink_test, frames_reach_their_sink_in_order_with_actions_between) {
  const auto before = text(10'000, 2), held = text(50'000, 3), header = std::string("HEADER");
  const auto after = text(30'000, 4);
  crypto::memory_sink out, aside;
  auto sink = open(out);
  ASSERT_TRUE(sink);
  write_in_pieces(*sink, before);
  ASSERT_TRUE(sink->end_frame(aside));
  write_in_pieces(*sink, held);
  ASSERT_TRUE(sink->end_frame(out));
  ASSERT_TRUE(sink->write(as_bytes(header)));
  std::size_t replays = 0;
  ASSERT_TRUE(sink->then([&]() -> result<void> {
    ++replays;
    EXPECT_EQ(decode(aside.data()), held) << "every held frame is in before the action";
    return out.write(aside.data());
  }));
  write_in_pieces(*sink, after);
  ASSERT_TRUE(sink->finish());
  EXPECT_EQ(replays, 1u);
  EXPECT_EQ(decode(out.data()), before + header + held + after);
}

TEST_P(zstd_sink_test, an_empty_frame_is_not_written) {
  crypto::memory_sink out, other;
  auto sink = open(out);
  ASSERT_TRUE(sink);
  ASSERT_TRUE(sink->end_frame(other));
  ASSERT_TRUE(sink->end_frame(out));
  ASSERT_TRUE(sink->finish());
  EXPECT_TRUE(out.data().empty());
  EXPECT_TRUE(other.data().empty());
}

TEST_P(zstd_sink_test, a_failing_sink_fails_every_later_call) {
  failing_sink out(frame_per_chunk() ? 2 : 0);  // one frame may write only at its end
  auto sink = open(out);
  ASSERT_TRUE(sink);
  const auto input = text(200'000, 5);
  result<void> r;
  for (std::size_t at = 0; r && at < input.size(); at += 1000)
    r = sink->write(as_bytes(std::string_view(input).substr(at, 1000)));
  if (r) r = sink->finish();
  expect_failed_for_good(*sink, r, std::errc::no_space_on_device);
}

TEST_P(zstd_sink_test, a_failing_action_fails_the_sink) {
  crypto::memory_sink out;
  auto sink = open(out);
  ASSERT_TRUE(sink);
  write_in_pieces(*sink, text(20'000, 6));
  auto r = sink->then([]() -> result<void> { return std::make_error_code(std::errc::io_error); });
  if (r) r = sink->finish();
  expect_failed_for_good(*sink, r, std::errc::io_error);
}

// Abandoned with frames in flight: the workers stop, nothing hangs, and what
// did come out (with one frame, perhaps nothing) decodes to the beginning.
TEST_P(zstd_sink_test, can_be_dropped_unfinished) {
  const auto input = text(100'000, 7);
  crypto::memory_sink out;
  auto sink = open(out);
  ASSERT_TRUE(sink);
  write_in_pieces(*sink, input);
  sink.reset();
  const auto written = decode(out.data());
  EXPECT_LT(written.size(), input.size());
  EXPECT_EQ(written, input.substr(0, written.size()));
  if (frame_per_chunk() && std::get<1>(GetParam()) == 0) {
    EXPECT_GT(written.size(), 0u) << "compressed inline, the full frames are out";
  }
}

INSTANTIATE_TEST_SUITE_P(ways, zstd_sink_test,
                         testing::Combine(testing::Bool(), testing::Values(0, 1, 2, 3)),
                         [](const auto& p) {
                           return std::string(std::get<0>(p.param) ? "frame_per_chunk"
                                                                   : "one_frame") +
                                  "_threads_" + std::to_string(std::get<1>(p.param));
                         });

}  // namespace
}  // namespace valise::common::detail
