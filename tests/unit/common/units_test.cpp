#include "valise/common/units.hpp"

#include <gtest/gtest.h>

namespace valise::common {
namespace {

TEST(units, durations_in_seconds_up_to_ten_years) {
  EXPECT_EQ(parse_duration("90"), 90u);  // a bare number is seconds
  EXPECT_EQ(parse_duration("90s"), 90u);
  EXPECT_EQ(parse_duration("15m"), 900u);
  EXPECT_EQ(parse_duration("12h"), 43200u);
  EXPECT_EQ(parse_duration("3650d"), max_duration_seconds);
  // Zero, too long (timers count in nanoseconds), overflowing, or not a duration.
  for (const char* bad : {"0", "0s", "3651d", "315360001", "99999999999999999999s", "", "s", "-5m",
                          "1w", "5 m", "1.5h", "m5"}) {
    EXPECT_FALSE(parse_duration(bad)) << bad;
  }
}

TEST(units, sizes_in_powers_of_1024) {
  EXPECT_EQ(parse_size("1048576"), 1048576u);
  EXPECT_EQ(parse_size("0"), 0u);
  EXPECT_EQ(parse_size("512K"), 512u << 10);
  EXPECT_EQ(parse_size("64M"), 64u << 20);
  EXPECT_EQ(parse_size("64MB"), 64u << 20);
  EXPECT_EQ(parse_size("64MiB"), 64u << 20);
  EXPECT_EQ(parse_size("2G"), 2ull << 30);
  EXPECT_EQ(parse_size("1T"), 1ull << 40);
  for (const char* bad : {"", "M", "-1", "1.5G", "1P", "20000000T", "12 M"}) {
    EXPECT_FALSE(parse_size(bad)) << bad;
  }
}

}  // namespace
}  // namespace valise::common
