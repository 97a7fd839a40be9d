// RFC 3339 as the API, the manifest and the command lines read and write it.
#include "valise/common/rfc3339.hpp"

#include <gtest/gtest.h>

#include <ctime>

namespace valise::common {
namespace {

TEST(Rfc3339, UtcOffsetsAndFractionsParseToTheSameInstant) {
  EXPECT_EQ(parse_rfc3339("2026-11-22T14:03:07Z"), 1795356187);
  EXPECT_EQ(parse_rfc3339("2026-11-22T15:03:07+01:00"), 1795356187);
  EXPECT_EQ(parse_rfc3339("2026-11-22T13:33:07.250-00:30"), 1795356187);
  EXPECT_EQ(format_rfc3339(*parse_rfc3339("1970-01-01T00:00:00Z")), "1970-01-01T00:00:00Z");
  for (const char* bad : {"", "2026-11-22", "2026-11-22 14:03:07Z", "2026-11-22T14:03:07",
                          "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-22T24:00:00Z",
                          "2026-11-22T14:03:07Zjunk", "2026-11-22T14:03:07.Z", "yesterday"})
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
}

TEST(Rfc3339, LeapSecondsAndTheEndOfMonths) {
  EXPECT_EQ(parse_rfc3339("2016-12-31T23:59:60Z"), parse_rfc3339("2017-01-01T00:00:00Z"));
  EXPECT_TRUE(parse_rfc3339("2024-02-29T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("2025-02-29T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("2026-04-31T00:00:00Z"));
}

TEST(Rfc3339, NowIsFormattedAndReadsBack) {
  const auto before = std::time(nullptr);
  const auto now = now_rfc3339();
  const auto parsed = parse_rfc3339(now);
  ASSERT_TRUE(parsed) << now;
  EXPECT_GE(*parsed, before);
  EXPECT_LE(*parsed, std::time(nullptr));
  EXPECT_TRUE(now.ends_with("Z")) << now;
}

// Found by json_body_fuzz: a leap second skipped the date check, an offset
// could carry a time past 9999 or before 0000, and years before 1000 were
// written without their leading zeros: text that does not parse.
TEST(Rfc3339, WhatParsesFormatsBackToTheSameTime) {
  EXPECT_FALSE(parse_rfc3339("2026-02-31T12:00:60Z"));
  EXPECT_FALSE(parse_rfc3339("9999-12-31T23:59:60.5-23:59"));
  EXPECT_FALSE(parse_rfc3339("0000-01-01T00:00:00+00:01"));
  for (const char* edge : {"0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z"}) {
    const auto t = parse_rfc3339(edge);
    ASSERT_TRUE(t) << edge;
    EXPECT_EQ(format_rfc3339(*t), edge);
  }
}

}  // namespace
}  // namespace valise::common
