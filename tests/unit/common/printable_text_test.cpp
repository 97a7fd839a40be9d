#include "valise/common/printable_text.hpp"

#include <gtest/gtest.h>

namespace valise::common {
namespace {

TEST(printable_text, printable_unicode_is_kept) {
  const std::string text = "Caf\u00e9 \u00fcber \u65e5\u672c \u2014 \U0001F600 \"q\" \\ 100 %";
  EXPECT_EQ(printable_text(text, 1000), text);
  EXPECT_EQ(printable_text("", 10), "");
}

TEST(printable_text, line_breaks_and_tabs_become_spaces) {
  EXPECT_EQ(printable_text("line one\nline\ttwo\r\n", 100), "line one line two  ");
}

TEST(printable_text, other_controls_are_shown_as_hex) {
  EXPECT_EQ(printable_text(std::string("a\x1b[31mb\x7f\0c", 10), 100), "a\\x1b[31mb\\x7f\\x00c");
  // C1: U+0085 (NEL) and U+009B (CSI); U+00A0 is printable.
  EXPECT_EQ(printable_text("a\u0085b\u009b31m\u00a0", 100), "a\\xc2\\x85b\\xc2\\x9b31m\u00a0");
}

TEST(printable_text, bytes_outside_utf8_are_shown_as_hex) {
  EXPECT_EQ(printable_text("caf\xc3", 100), "caf\\xc3");              // a cut sequence
  EXPECT_EQ(printable_text("\xc3(ok", 100), "\\xc3(ok");              // a lead without its tail
  EXPECT_EQ(printable_text("\xc0\xaf", 100), "\\xc0\\xaf");           // overlong '/'
  EXPECT_EQ(printable_text("\xed\xa0\x80", 100), "\\xed\\xa0\\x80");  // a surrogate
  EXPECT_EQ(printable_text("\xf4\x90\x80\x80", 100), "\\xf4\\x90\\x80\\x80");  // past U+10FFFF
  EXPECT_EQ(printable_text("\x80z", 100), "\\x80z");
}

TEST(printable_text, clipped_between_characters) {
  EXPECT_EQ(printable_text("abcdef", 4), "abcd");
  // Two-byte characters: 5 bytes hold two of them, never half of the third.
  EXPECT_EQ(printable_text("\u00e9\u00e9\u00e9", 5), "\u00e9\u00e9");
  EXPECT_EQ(printable_text("ab\U0001F600", 5), "ab");
  // Nor half of an escape.
  EXPECT_EQ(printable_text("ab\x1b", 5), "ab");
  EXPECT_EQ(printable_text("ab\x1b", 6), "ab\\x1b");
  for (std::size_t limit = 0; limit < 40; ++limit)
    EXPECT_LE(printable_text(std::string(100, 'x') + "\u00e9\x1b", limit).size(), limit);
}

}  // namespace
}  // namespace valise::common
