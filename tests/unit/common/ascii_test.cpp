// ASCII case for protocol text: only A-Z change, whatever the locale.
#include "valise/common/ascii.hpp"

#include <gtest/gtest.h>

namespace valise::common {
namespace {

TEST(ascii, only_ascii_capitals_are_lowered) {
  EXPECT_EQ(ascii_lower("Content-Type: AGE1QL3Z"), "content-type: age1ql3z");
  EXPECT_EQ(ascii_lower("@[`{ 09"), "@[`{ 09");  // the neighbours of A-Z and a-z
  EXPECT_EQ(ascii_lower("\xC3\x89T\xC3\x89"), "\xC3\x89t\xC3\x89");  // ÉTÉ: UTF-8 bytes untouched
  static_assert(ascii_lower('Z') == 'z' && ascii_lower('z') == 'z' && ascii_lower('[') == '[');
}

TEST(ascii, iequals_folds_case_only) {
  EXPECT_TRUE(ascii_iequals("Bearer ", "bEARER "));
  EXPECT_TRUE(ascii_iequals("", ""));
  EXPECT_FALSE(ascii_iequals("Bearer", "Bearer "));
  EXPECT_FALSE(ascii_iequals("[", "{"));  // 0x5B and 0x7B differ by 0x20 but are not letters
  static_assert(ascii_iequals("Retry-After", "retry-after"));
}

}  // namespace
}  // namespace valise::common
