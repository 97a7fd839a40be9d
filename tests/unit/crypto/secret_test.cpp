// Secret holders wipe what they leave behind.
#include "test_util.hpp"

namespace valise::crypto::test {
namespace {

TEST(secret_string, wipes_the_string_it_takes) {
  std::string source(100, 'k');
  const char* buffer = source.data();
  const secret_string s(std::move(source));
  EXPECT_EQ(s.view(), std::string(100, 'k'));
  ASSERT_EQ(source.data(), buffer);  // still the caller's buffer, now wiped
  EXPECT_TRUE(std::all_of(buffer, buffer + 100, [](char c) { return c == 0; }));
}

TEST(secret_string, wipes_short_strings_moved_from) {
  secret_string a(std::string("short"));
  secret_string b(std::move(a));
  EXPECT_EQ(b.view(), "short");
  EXPECT_TRUE(a.empty());
  // The moved-from inline buffer holds no copy.
  const char* inline_buffer = a.view().data();
  EXPECT_TRUE(std::all_of(inline_buffer, inline_buffer + 5, [](char c) { return c == 0; }));
  secret_string c;
  c = std::move(b);
  EXPECT_EQ(c.view(), "short");
  EXPECT_TRUE(b.empty());
}

TEST(secure_zero, zeroes) {
  std::array<std::uint8_t, 16> data;
  data.fill(0xab);
  secure_zero(data.data(), data.size());
  EXPECT_EQ(data, (std::array<std::uint8_t, 16>{}));
}

}  // namespace
}  // namespace valise::crypto::test
