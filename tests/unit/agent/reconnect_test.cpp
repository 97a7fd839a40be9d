// When the agent's poller tries the server again: full jitter over a window
// that doubles, a server's Retry-After honoured up to the cap, and a quick
// first retry after a poll that worked was cut.
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

TEST(reconnect, a_retry_after_is_spread_over_as_long_again_up_to_the_cap) {
  const reconnect_policy p{.first_window = seconds(10), .cap = seconds(30)};
  EXPECT_EQ(reconnect_delay(p, 1, seconds(15), 0.0), milliseconds(15'000));
  EXPECT_EQ(reconnect_delay(p, 1, seconds(15), 0.5), milliseconds(22'500));
  EXPECT_EQ(reconnect_delay(p, 1, seconds(20), 0.9), milliseconds(30'000));
  // Longer than the agent's own cap (a day, from a stray header): the cap.
  EXPECT_EQ(reconnect_delay(p, 9, seconds(60), 0.0), milliseconds(30'000));
  EXPECT_EQ(reconnect_delay(p, 1, seconds(86'400), 0.5), milliseconds(30'000));
}

constexpr auto cut = attempt_end::cut;
constexpr auto failed = attempt_end::failed;
constexpr auto busy = attempt_end::busy;

TEST(reconnect, a_poll_cut_after_it_worked_is_retried_within_a_second_then_the_window_applies) {
  reconnect_backoff b(reconnect_policy{});
  EXPECT_EQ(b.failed(cut, seconds(30), std::nullopt, 0.999), milliseconds(999));
  EXPECT_EQ(b.failures(), 1u);
  // The quick retry failed too: the 10 s window, doubling from there.
  EXPECT_EQ(b.failed(failed, milliseconds(3), std::nullopt, 0.5), milliseconds(5'000));
  EXPECT_EQ(b.failed(failed, milliseconds(3), std::nullopt, 0.5), milliseconds(10'000));
  // Connected again and cut again: quick again.
  b.succeeded();
  EXPECT_EQ(b.failures(), 0u);
  EXPECT_EQ(b.failed(cut, seconds(50), std::nullopt, 0.5), milliseconds(500));
}

TEST(reconnect, a_cut_ends_a_run_of_failures_when_the_connection_had_worked) {
  reconnect_backoff b(reconnect_policy{});
  for (int i = 0; i < 5; ++i) b.failed(failed, milliseconds(1), std::nullopt, 0.5);
  EXPECT_EQ(b.failures(), 5u);
  EXPECT_EQ(b.failed(cut, seconds(20), std::nullopt, 0.5), milliseconds(500));
  EXPECT_EQ(b.failures(), 1u);
}

TEST(reconnect, a_connection_cut_at_once_is_a_failure_so_a_proxy_that_cuts_all_is_not_a_busy_loop) {
  reconnect_backoff b(reconnect_policy{});
  EXPECT_EQ(b.failed(cut, milliseconds(200), std::nullopt, 0.5), milliseconds(5'000));
  EXPECT_EQ(b.failed(cut, milliseconds(4'999), std::nullopt, 0.5), milliseconds(10'000));
  EXPECT_EQ(b.failed(cut, milliseconds(200), std::nullopt, 0.5), milliseconds(20'000));
}

TEST(reconnect, the_first_failure_without_a_working_connection_gets_the_window) {
  reconnect_backoff b(reconnect_policy{});
  EXPECT_EQ(b.failed(failed, milliseconds(2), std::nullopt, 0.5), milliseconds(5'000));
}

TEST(reconnect, a_busy_server_gets_the_window_at_once_or_its_retry_after_up_to_the_cap) {
  {
    reconnect_backoff b(reconnect_policy{});
    EXPECT_EQ(b.failed(busy, milliseconds(5), std::nullopt, 0.5), milliseconds(5'000));
  }
  {
    // After a quick retry, a 503 is the window's first size, not a doubling.
    reconnect_backoff b(reconnect_policy{});
    b.failed(cut, seconds(40), std::nullopt, 0.5);
    EXPECT_EQ(b.failed(busy, milliseconds(5), std::nullopt, 0.5), milliseconds(5'000));
  }
  {
    reconnect_backoff b(reconnect_policy{.cap = seconds(60)});
    EXPECT_EQ(b.failed(busy, milliseconds(5), seconds(15), 0.5), milliseconds(22'500));
    EXPECT_EQ(b.failed(busy, milliseconds(5), seconds(3'600), 0.5), milliseconds(60'000));
  }
}

TEST(reconnect, a_retry_after_on_anything_but_a_busy_answer_is_ignored) {
  reconnect_backoff b(reconnect_policy{});
  EXPECT_EQ(b.failed(failed, milliseconds(5), seconds(200), 0.5), milliseconds(5'000));
  EXPECT_TRUE(sheds_load(503));
  EXPECT_TRUE(sheds_load(429));
  EXPECT_FALSE(sheds_load(502));
  EXPECT_FALSE(sheds_load(301));
}

// A restart's quick retries meet the server down and go on to the window:
// 10,000 agents cut at once, their quick retries all refused, come back
// over the 10 s window as before.
TEST(reconnect, agents_whose_quick_retry_was_refused_come_back_spread_out) {
  std::mt19937 random(11);
  std::uniform_real_distribution<> draw(0, 1);
  std::map<long, unsigned> per_second;
  for (int agent = 0; agent < 10'000; ++agent) {
    reconnect_backoff b(reconnect_policy{});
    EXPECT_LT(b.failed(cut, seconds(25), std::nullopt, draw(random)), seconds(1));
    const auto wait = b.failed(failed, milliseconds(1), std::nullopt, draw(random));
    ++per_second[std::chrono::duration_cast<seconds>(wait).count()];
  }
  EXPECT_EQ(per_second.size(), 10u);
  for (const auto& [second, count] : per_second) EXPECT_LT(count, 1'150u) << second;
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
