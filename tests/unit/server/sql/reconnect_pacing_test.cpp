// When a lost PostgreSQL connection tries again (sql/reconnect_pacing.hpp):
// at once, then 1 s, 2 s, 4 s … after each failed attempt, at most 30 s.
#include "sql/reconnect_pacing.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace valise::server::sql::detail {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(ReconnectPacing, BacksOffFromOneSecondToThirty) {
  reconnect_pacing pacing;
  auto t = reconnect_pacing::clock::time_point{} + std::chrono::hours(1);
  EXPECT_TRUE(pacing.may_try(t));  // found lost: at once
  std::vector<long long> waits;
  for (int i = 0; i < 8; ++i) {
    pacing.failed(t);
    auto next = t;
    while (!pacing.may_try(next)) next += milliseconds(100);
    waits.push_back(std::chrono::duration_cast<milliseconds>(next - t).count());
    t = next;
  }
  EXPECT_EQ(waits, (std::vector<long long>{1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000}));
}

TEST(ReconnectPacing, ConnectedAgainTheNextLossTriesAtOnce) {
  reconnect_pacing pacing;
  const auto t = reconnect_pacing::clock::time_point{} + std::chrono::hours(1);
  pacing.failed(t);
  pacing.failed(t + seconds(1));
  EXPECT_FALSE(pacing.may_try(t + seconds(2)));
  pacing.succeeded();
  EXPECT_TRUE(pacing.may_try(t + seconds(2)));
  pacing.failed(t + seconds(2));
  EXPECT_EQ(pacing.wait(), milliseconds(2000));  // after 1 s, as the first time
  EXPECT_TRUE(pacing.may_try(t + seconds(3)));
}

}  // namespace
}  // namespace valise::server::sql::detail
