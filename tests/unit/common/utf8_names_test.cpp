// Names stored in bundles: UTF-8 as it is, anything else escaped byte by byte.
#include "utf8_names.hpp"

#include <gtest/gtest.h>

namespace valise::common::detail {
namespace {

TEST(utf8_names, valid_utf8_is_kept_as_it_is) {
  for (const std::string text : {"", "plain.log", "\u00fcber", "\u65e5\u672c", "\U0001f4dc",
                                 "a\\xff", "\x7f\xdf\xbf\xef\xbf\xbf\xf4\x8f\xbf\xbf"}) {
    EXPECT_TRUE(is_utf8(text)) << text;
    EXPECT_EQ(utf8_or_escaped(text), text);
  }
}

TEST(utf8_names, other_bytes_are_escaped_one_by_one) {
  const std::pair<std::string, std::string> cases[] = {
      {"caf\xe9.log", "caf\\xe9.log"},               // Latin-1
      {"\xc0\xaf", "\\xc0\\xaf"},                    // overlong '/'
      {"\xe0\x80\xaf", "\\xe0\\x80\\xaf"},           // overlong, three bytes
      {"\xed\xa0\x80", "\\xed\\xa0\\x80"},           // a surrogate
      {"\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"},  // above U+10FFFF
      {"\xe6\x97", "\\xe6\\x97"},                    // cut short
      {"\xe6\x97-\u00fc", "\\xe6\\x97-\u00fc"},      // what follows is kept
      {"\xff\xfe", "\\xff\\xfe"},
  };
  for (const auto& [raw, stored] : cases) {
    EXPECT_FALSE(is_utf8(raw)) << stored;
    EXPECT_EQ(utf8_or_escaped(raw), stored);
    EXPECT_TRUE(is_utf8(utf8_or_escaped(raw)));
    EXPECT_EQ(utf8_or_escaped(utf8_or_escaped(raw)), stored) << "escaping twice changes nothing";
  }
}

}  // namespace
}  // namespace valise::common::detail
