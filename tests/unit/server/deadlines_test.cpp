// The deadline rule the store computes due dates with: the default
// calendar's targets, pushed back by pauses (cases worked out by hand as in
// docs/calendar.md; Paris is UTC+1 in March 2026 before the 29th).
#include "deadlines/deadlines.hpp"

#include <gtest/gtest.h>

#include "valise/common/rfc3339.hpp"

namespace valise::server {
namespace {

unix_time at(const char* text) {
  return common::parse_rfc3339(text).value();
}

TEST(DeadlineRule, BlockingFromMondayMorning) {
  auto rule = calendar_deadline_rule(nullptr);  // the default calendar
  // Monday 2 March 2026 10:00 in Paris: 2 h to answer, 24 h to resolve
  // (Thursday 14:00, after 6 + 7 + 7 + 3.5 + 0.5 hours).
  auto due = rule(severity::blocking, at("2026-03-02T09:00:00Z"), {});
  EXPECT_EQ(due.response_due_at, at("2026-03-02T11:00:00Z"));
  EXPECT_EQ(due.due_at, at("2026-03-05T13:00:00Z"));
}

TEST(DeadlineRule, AnOpenPauseLeavesNoDueDate) {
  auto rule = calendar_deadline_rule(nullptr);
  auto due = rule(severity::semi_blocking, at("2026-03-02T08:00:00Z"),
                  {{at("2026-03-02T10:00:00Z"), std::nullopt}});
  EXPECT_FALSE(due.due_at);
  EXPECT_FALSE(due.response_due_at);
}

TEST(DeadlineRule, AClosedPausePushesByItsBusinessTime) {
  auto rule = calendar_deadline_rule(nullptr);
  // Paused Monday 11:00-15:00 in Paris: 3 business hours (lunch is closed).
  auto due = rule(severity::semi_blocking, at("2026-03-02T08:00:00Z"),
                  {{at("2026-03-02T10:00:00Z"), at("2026-03-02T14:00:00Z")}});
  EXPECT_EQ(due.response_due_at, at("2026-03-02T16:00:00Z"));  // 14:00 → 17:00
  EXPECT_EQ(due.due_at, at("2026-03-11T10:00:00Z"));           // Tuesday 16:00 → Wednesday 11:00
}

}  // namespace
}  // namespace valise::server
