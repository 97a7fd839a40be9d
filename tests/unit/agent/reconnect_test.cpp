// When the agent's poller tries the server again: full jitter over a window
// that doubles, and a server's Retry-After honoured.
#include "remote/reconnect.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

namespace valise::agent {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(reconnect, the_window_doubles_up_to_the_cap_and_the_draw_places_the_wait_in_it) {
  const reconnect_policy p{.first_window = seconds(10), .cap = seconds(300)};
  EXPECT_EQ(reconnect_delay(p, 1, std::nullopt, 0.0), milliseconds(0));
  EXPECT_EQ(reconnect_delay(p, 1, std::nullopt, 0.5), milliseconds(5'000));
  EXPECT_EQ(reconnect_delay(p, 2, std::nullopt, 0.5), milliseconds(10'000));
  EXPECT_EQ(reconnect_delay(p, 3, std::nullopt, 0.999), milliseconds(39'960));
  EXPECT_EQ(reconnect_delay(p, 6, std::nullopt, 0.5), milliseconds(150'000));  // 320 s capped
  EXPECT_EQ(reconnect_delay(p, 400, std::nullopt, 0.5), milliseconds(150'000));
  EXPECT_EQ(reconnect_delay(p, 1, std::nullopt, 7.0), milliseconds(10'000));  // a bad draw
}

TEST(reconnect, a_retry_after_is_never_cut_short_and_is_spread_over_as_long_again) {
  const reconnect_policy p{.first_window = seconds(10), .cap = seconds(30)};
  EXPECT_EQ(reconnect_delay(p, 1, seconds(15), 0.0), milliseconds(15'000));
  EXPECT_EQ(reconnect_delay(p, 1, seconds(15), 0.5), milliseconds(22'500));
  // Longer than the agent's own cap: the server knows best.
  EXPECT_EQ(reconnect_delay(p, 9, seconds(60), 0.0), milliseconds(60'000));
}

// 10,000 agents that lost their connection at the same instant (a server
// restart): their first attempts spread over the window, no second getting
// much more than its share. A fixed delay plus a little jitter (as before)
// would put them all within a quarter of a second.
TEST(reconnect, agents_that_lost_the_server_together_come_back_spread_out) {
  const reconnect_policy p;
  std::mt19937 random(7);
  std::uniform_real_distribution<> draw(0, 1);
  std::map<long, unsigned> per_second;
  for (int agent = 0; agent < 10'000; ++agent) {
    const auto wait = reconnect_delay(p, 1, std::nullopt, draw(random));
    ++per_second[std::chrono::duration_cast<seconds>(wait).count()];
  }
  EXPECT_EQ(per_second.size(), 10u);  // every second of the 10 s window
  for (const auto& [second, count] : per_second) EXPECT_LT(count, 1'150u) << second;
}

TEST(reconnect, retry_after_in_seconds_only) {
  EXPECT_EQ(parse_retry_after("120"), seconds(120));
  EXPECT_EQ(parse_retry_after(" 5\t"), seconds(5));
  EXPECT_EQ(parse_retry_after("0"), seconds(0));
  EXPECT_EQ(parse_retry_after("999999999"), seconds(86'400));  // at most a day
  EXPECT_EQ(parse_retry_after("Fri, 31 Dec 1999 23:59:59 GMT"), std::nullopt);
  EXPECT_EQ(parse_retry_after("-1"), std::nullopt);
  EXPECT_EQ(parse_retry_after("1.5"), std::nullopt);
  EXPECT_EQ(parse_retry_after(""), std::nullopt);
  EXPECT_EQ(parse_retry_after("10000000000"), std::nullopt);
}

}  // namespace
}  // namespace valise::agent
