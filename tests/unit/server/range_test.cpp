#include "http/range.hpp"

#include <gtest/gtest.h>

namespace valise::server {
namespace {

TEST(Range, WholeFileWithoutOrWithUnusableHeader) {
  EXPECT_EQ(parse_range("", 100).what, byte_range::whole);
  EXPECT_EQ(parse_range("items=0-1", 100).what, byte_range::whole);
  EXPECT_EQ(parse_range("bytes=0-1,5-6", 100).what, byte_range::whole);
  EXPECT_EQ(parse_range("bytes=9-3", 100).what, byte_range::whole);
  EXPECT_EQ(parse_range("", 100).length, 100u);
}

TEST(Range, OneRange) {
  auto r = parse_range("bytes=10-19", 100);
  EXPECT_EQ(r.what, byte_range::part);
  EXPECT_EQ(r.first, 10u);
  EXPECT_EQ(r.length, 10u);
  r = parse_range("bytes=90-", 100);
  EXPECT_EQ(r.first, 90u);
  EXPECT_EQ(r.length, 10u);
  r = parse_range("bytes=90-1000", 100);  // clipped to the end
  EXPECT_EQ(r.length, 10u);
  r = parse_range("bytes=-30", 100);  // the last 30 bytes
  EXPECT_EQ(r.first, 70u);
  EXPECT_EQ(r.length, 30u);
}

TEST(Range, PastTheEndIsUnsatisfiable) {
  EXPECT_EQ(parse_range("bytes=100-", 100).what, byte_range::unsatisfiable);
  EXPECT_EQ(parse_range("bytes=-0", 100).what, byte_range::unsatisfiable);
}

}  // namespace
}  // namespace valise::server
