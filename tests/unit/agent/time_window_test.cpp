// The time window as requests and local operators give it.
#include "service/time_window.hpp"

#include <gtest/gtest.h>

namespace valise::agent {
namespace {

using std::chrono::hours;
using std::chrono::system_clock;

time_point at(std::time_t t) {
  return system_clock::from_time_t(t);
}

TEST(time_window, rfc3339_and_the_forms_people_type) {
  EXPECT_EQ(parse_rfc3339("2026-11-22T14:03:07Z"), at(1795356187));
  EXPECT_EQ(parse_rfc3339("2026-11-22T15:03:07.5+01:00"), at(1795356187));
  EXPECT_EQ(parse_rfc3339("2026-11-22 14:03:07Z"), at(1795356187));
  EXPECT_EQ(parse_rfc3339("2026-11-22"), at(1795305600));  // midnight UTC
  for (const char* bad :
       {"", "2026-11-22T14:03:07", "2026-02-30", "2026-11-22 14:03", "22/11/2026"})
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
}

TEST(time_window, an_age_is_that_long_before_now) {
  const auto now = at(1795356187);
  EXPECT_EQ(parse_time_argument("2h", now), now - hours(2));
  EXPECT_EQ(parse_time_argument("3d", now), now - hours(72));
  EXPECT_EQ(parse_time_argument("2026-11-22", now), at(1795305600));
  EXPECT_FALSE(parse_time_argument("yesterday", now));
}

}  // namespace
}  // namespace valise::agent
