// The STREAM payload on its own: chunk boundaries, and how truncation,
// tampering and trailing data are told apart while releasing only authentic
// plaintext.
#include "stream.hpp"

#include "test_util.hpp"

namespace valise::crypto::test {
namespace {

using detail::sealed_chunk_size;
using detail::tag_size;

const std::array<std::uint8_t, 32> key = [] {
  std::array<std::uint8_t, 32> k{};
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(i + 1);
  return k;
}();

std::vector<std::uint8_t> seal(const std::vector<std::uint8_t>& plain, std::size_t write_size) {
  memory_sink out;
  detail::stream_writer writer(key, out);
  for (std::size_t i = 0; i < plain.size(); i += write_size) {
    EXPECT_TRUE(writer.write({plain.data() + i, std::min(write_size, plain.size() - i)}));
  }
  EXPECT_TRUE(writer.finish());
  return out.data();
}

decrypted open(const std::vector<std::uint8_t>& sealed, std::size_t read_size = 3 * chunk,
               std::size_t buffered = 0) {
  memory_source in(bytes(sealed).subspan(buffered));
  detail::stream_reader reader(key, in, bytes(sealed).first(buffered));
  decrypted d;
  std::vector<std::uint8_t> buf(read_size);
  for (;;) {
    auto n = reader.read(buf);
    if (!n) {
      d.error = n.error();
      // Once failed, it stays failed.
      EXPECT_EQ(reader.read(buf).error(), d.error);
      return d;
    }
    if (*n == 0) return d;
    d.plaintext.insert(d.plaintext.end(), buf.begin(), buf.begin() + static_cast<long>(*n));
  }
}

// Chunks sealed by hand, to build streams our writer never makes.
std::vector<std::uint8_t> seal_chunks(const std::vector<std::pair<std::size_t, bool>>& chunks,
                                      std::vector<std::uint8_t>& plain) {
  detail::chunk_cipher cipher(key, true);
  std::vector<std::uint8_t> out;
  for (auto [size, last] : chunks) {
    const auto p = random_bytes(size);
    plain.insert(plain.end(), p.begin(), p.end());
    std::vector<std::uint8_t> sealed(size + tag_size);
    EXPECT_TRUE(cipher.seal(p, last, sealed.data()));
    out.insert(out.end(), sealed.begin(), sealed.end());
  }
  return out;
}

class stream_sizes : public testing::TestWithParam<std::size_t> {};

TEST_P(stream_sizes, round_trips_with_any_write_and_read_size) {
  const auto plain = random_bytes(GetParam());
  const std::size_t chunks = std::max<std::size_t>(1, (plain.size() + chunk - 1) / chunk);
  for (std::size_t write_size : {std::size_t{1000}, chunk, 3 * chunk + 1}) {
    const auto sealed = seal(plain, write_size);
    EXPECT_EQ(sealed.size(), plain.size() + chunks * tag_size) << "one tag per chunk";
    for (std::size_t read_size : {std::size_t{1}, std::size_t{777}, chunk, 4 * chunk}) {
      if (read_size == 1 && plain.size() > 2 * chunk) continue;  // slow, nothing new
      const auto d = open(sealed, read_size);
      EXPECT_FALSE(d.error) << d.error.message();
      EXPECT_EQ(d.plaintext, plain) << "write " << write_size << " read " << read_size;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(payload, stream_sizes,
                         testing::Values(0, 1, chunk - 1, chunk, chunk + 1, 2 * chunk,
                                         3 * chunk + 5));

TEST(stream, uses_buffered_bytes_before_the_source) {
  const auto plain = random_bytes(2 * chunk + 10);
  const auto sealed = seal(plain, chunk);
  for (std::size_t buffered : {std::size_t{5}, sealed_chunk_size + 3, sealed.size()}) {
    const auto d = open(sealed, chunk, buffered);
    EXPECT_FALSE(d.error);
    EXPECT_EQ(d.plaintext, plain) << buffered;
  }
}

TEST(stream, empty_payload_is_one_empty_final_chunk) {
  const auto sealed = seal({}, 1);
  EXPECT_EQ(sealed.size(), tag_size);
  EXPECT_FALSE(open(sealed).error);
  EXPECT_EQ(open({}).error, errc::payload_truncated);  // not even the empty chunk
}

TEST(stream, cut_at_a_chunk_boundary_is_truncated_and_keeps_earlier_chunks) {
  const auto plain = random_bytes(3 * chunk + 100);
  auto sealed = seal(plain, chunk);
  sealed.resize(2 * sealed_chunk_size);
  const auto d = open(sealed);
  EXPECT_EQ(d.error, errc::payload_truncated);
  // The second full chunk authenticates only as non-final: released, then truncated.
  EXPECT_EQ(d.plaintext, std::vector<std::uint8_t>(plain.begin(), plain.begin() + 2 * chunk));
}

TEST(stream, cut_inside_a_chunk_is_a_failed_chunk) {
  const auto plain = random_bytes(2 * chunk + 100);
  auto sealed = seal(plain, chunk);
  sealed.resize(sealed_chunk_size + 50);
  const auto d = open(sealed);
  EXPECT_EQ(d.error, errc::payload_tampered);
  EXPECT_EQ(d.plaintext, std::vector<std::uint8_t>(plain.begin(), plain.begin() + chunk));
  sealed.resize(sealed_chunk_size + 5);  // shorter than a tag
  EXPECT_EQ(open(sealed).error, errc::payload_truncated);
}

TEST(stream, tampering_stops_at_the_bad_chunk_after_releasing_earlier_ones) {
  const auto plain = random_bytes(3 * chunk);
  for (std::size_t bad_chunk : {0, 1, 2}) {
    auto sealed = seal(plain, chunk);
    sealed[bad_chunk * sealed_chunk_size + 100] ^= 1;
    for (std::size_t read_size : {std::size_t{1000}, 2 * chunk}) {
      const auto d = open(sealed, read_size);
      EXPECT_EQ(d.error, errc::payload_tampered);
      EXPECT_EQ(d.plaintext,
                std::vector<std::uint8_t>(plain.begin(), plain.begin() + bad_chunk * chunk))
          << bad_chunk << " " << read_size;
    }
  }
}

TEST(stream, trailing_data_after_the_final_chunk_fails_after_all_plaintext) {
  for (std::size_t size : {std::size_t{100}, chunk, 2 * chunk}) {
    const auto plain = random_bytes(size);
    auto sealed = seal(plain, chunk);
    sealed.push_back(0);
    const auto d = open(sealed);
    if (size % chunk == 0) {
      // A full final chunk followed by a byte: it authenticates as final, so
      // all plaintext is genuine, and the byte after it is trailing data.
      EXPECT_EQ(d.error, errc::trailing_data) << size;
      EXPECT_EQ(d.plaintext, plain);
    } else {
      // A short final chunk and a byte read as one chunk: it fails.
      EXPECT_EQ(d.error, errc::payload_tampered) << size;
    }
  }
}

TEST(stream, missing_final_flag_is_truncation) {
  std::vector<std::uint8_t> plain;
  const auto sealed = seal_chunks({{chunk, false}, {chunk, false}}, plain);
  const auto d = open(sealed);
  EXPECT_EQ(d.error, errc::payload_truncated);
  EXPECT_EQ(d.plaintext, plain);
}

TEST(stream, empty_final_chunk_after_data_is_refused) {
  std::vector<std::uint8_t> plain;
  const auto sealed = seal_chunks({{chunk, false}, {0, true}}, plain);
  const auto d = open(sealed);
  EXPECT_EQ(d.error, errc::payload_tampered);
  EXPECT_EQ(d.plaintext, plain);  // the first chunk was genuine
}

TEST(stream, final_chunk_in_the_middle_is_refused) {
  std::vector<std::uint8_t> plain;
  const auto sealed = seal_chunks({{chunk, true}, {10, true}}, plain);
  const auto d = open(sealed);
  EXPECT_EQ(d.error, errc::trailing_data);
  EXPECT_EQ(d.plaintext, std::vector<std::uint8_t>(plain.begin(), plain.begin() + chunk));
}

TEST(stream, writer_refuses_writes_after_finish_and_reports_sink_errors) {
  memory_sink out;
  detail::stream_writer writer(key, out);
  ASSERT_TRUE(writer.finish());
  EXPECT_FALSE(writer.write(bytes_of("late")));

  struct failing_sink final : byte_sink {
    result<void> write(bytes) override {
      return std::make_error_code(std::errc::no_space_on_device);
    }
  } full;
  detail::stream_writer failing(key, full);
  const auto big = random_bytes(10 * chunk);
  auto r = failing.write(big);
  if (r) r = failing.finish();
  EXPECT_EQ(r.error(), std::errc::no_space_on_device);
  EXPECT_EQ(failing.finish().error(), std::errc::no_space_on_device);
}

}  // namespace
}  // namespace valise::crypto::test
