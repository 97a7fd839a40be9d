// ASCII armor: the exact encoding age writes, and a decoder that accepts only
// that (plus LF/CRLF and surrounding whitespace) and nothing else.
#include "armor.hpp"

#include "test_util.hpp"

namespace valise::crypto::test {
namespace {

const std::string begin = std::string(detail::armor_begin) + "\n";
const std::string end = std::string(detail::armor_end) + "\n";

std::string armor(const std::vector<std::uint8_t>& data, std::size_t write_size = 1000) {
  memory_sink out;
  detail::armor_writer writer(out);
  for (std::size_t i = 0; i < data.size(); i += write_size) {
    EXPECT_TRUE(writer.write({data.data() + i, std::min(write_size, data.size() - i)}));
  }
  EXPECT_TRUE(writer.finish());
  return text_of(out.data());
}

decrypted dearmor(std::string_view text, std::size_t step = 1 << 20) {
  trickle_source in(bytes(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()), step);
  detail::armor_reader reader(in);
  decrypted d;
  std::vector<std::uint8_t> buf(500);
  for (;;) {
    auto n = reader.read(buf);
    if (!n) {
      d.error = n.error();
      return d;
    }
    if (*n == 0) return d;
    d.plaintext.insert(d.plaintext.end(), buf.begin(), buf.begin() + static_cast<long>(*n));
  }
}

TEST(armor, writes_age_layout) {
  EXPECT_EQ(armor(bytes_of("hello")), begin + "aGVsbG8=\n" + end);
  EXPECT_EQ(armor({}), begin + end);
  // A full last line is followed directly by the end line.
  const auto full = armor(std::vector<std::uint8_t>(48, 0));
  EXPECT_EQ(full, begin + std::string(64, 'A') + "\n" + end);
}

TEST(armor, round_trips_any_size_and_write_pattern) {
  for (std::size_t size : {0, 1, 47, 48, 49, 96, 1000, 100000}) {
    const auto data = random_bytes(size);
    for (std::size_t write_size : {std::size_t{1}, std::size_t{48}, std::size_t{1000}}) {
      if (write_size == 1 && size > 1000) continue;
      const auto text = armor(data, write_size);
      EXPECT_EQ(text, armor(data));  // the encoding does not depend on the writes
      for (std::size_t step : {std::size_t{1}, std::size_t{100}, std::size_t{1} << 20}) {
        const auto d = dearmor(text, step);
        EXPECT_FALSE(d.error) << d.error.message();
        EXPECT_EQ(d.plaintext, data) << size << " " << write_size << " " << step;
      }
    }
  }
}

TEST(armor, accepts_crlf_whitespace_around_and_no_final_newline) {
  const auto data = random_bytes(100);
  auto text = armor(data);
  std::string crlf;
  for (char c : text) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  const std::string variants[] = {
      crlf,
      "\n \t\r\n\n" + text + "\n\t \r\n",
      text.substr(0, text.size() - 1),
      crlf.substr(0, crlf.size() - 1),  // "...-----\r" at the very end
      std::string(1000, '\n') + text + std::string(1000, ' '),
  };
  for (const auto& v : variants) {
    const auto d = dearmor(v);
    EXPECT_FALSE(d.error) << v;
    EXPECT_EQ(d.plaintext, data);
  }
}

TEST(armor, rejects_everything_else) {
  const auto data = random_bytes(100);  // two full lines and a short one
  const auto text = armor(data);
  const auto lines_start = begin.size();
  const auto first_line = text.substr(lines_start, 65);
  const auto rest = text.substr(lines_start + 65);
  const std::string bad[] = {
      "",
      text.substr(0, text.size() - end.size()),  // no end line
      "x" + text,                                // garbage before
      "  " + text,                               // spaces before begin line
      text + "x",                                // garbage after
      text + std::string(1024, ' '),             // too much whitespace after
      std::string(1025, '\n') + text,            // too much whitespace before
      "-----BEGIN AGE ENCRYPTED MESSAGE-----\n" + text.substr(lines_start),  // wrong label
      "-----BEGIN age ENCRYPTED FILE-----\n" + text.substr(lines_start),
      begin + "Comment: headers are not allowed\n\n" + text.substr(lines_start),
      begin + "\n" + text.substr(lines_start),          // empty line
      begin + " " + text.substr(lines_start),           // space at a line start
      begin + first_line.substr(0, 64) + " \n" + rest,  // space at a line end
      begin + first_line.substr(0, 60) + "\n" + first_line.substr(60) + rest,  // short line inside
      begin + first_line.substr(0, 64) + first_line.substr(0, 4) + "\n" + rest,  // long line
      begin + std::string(64, 'A') + "\n\n" + end,                               // empty last line
      begin + first_line + rest.substr(0, 65) + "=yjEF\n" + end,  // PGP checksum line
      begin + "Zg\n" + end,                                       // padding missing
      begin + "Zh==\n" + end,                                     // non-canonical
      begin + "Zg==\nZg==\n" + end,                               // a short line, then more
      begin + std::string(60, 'A') + "AA==\n" + std::string(4, 'A') + "\n" + end,  // padded full
      begin + "Zm9v\n" + "-----END AGE ENCRYPTED FILE----- \n",  // end line with a space
      begin + "Zm9v\n" + "-----END AGE ENCRYPTED FILE-----\r\r\n",
  };
  for (const auto& v : bad) {
    EXPECT_EQ(dearmor(v).error, errc::armor_invalid) << v;
  }
}

TEST(armor, passes_source_errors_through) {
  struct failing final : byte_source {
    result<std::size_t> read(mutable_bytes) override {
      return std::make_error_code(std::errc::io_error);
    }
  } in;
  detail::armor_reader reader(in);
  std::vector<std::uint8_t> buf(10);
  EXPECT_EQ(reader.read(buf).error(), std::errc::io_error);
}

}  // namespace
}  // namespace valise::crypto::test
