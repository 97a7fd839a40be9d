// Deadlines in the store: the rule is called whenever a ticket's clock
// changes, pending and resume refuse nonsense, the first response is a
// technician's. The rule here is a stub (an hour after creation, pushed back
// by the pauses) so that only the store is tested.
#include <algorithm>

#include "store_fixture.hpp"

namespace valise::server {
namespace {

ticket_deadlines stub_rule(severity, unix_time created, const std::vector<ticket_pause>& pauses) {
  unix_time paused = 0;
  for (const auto& p : pauses) {
    if (!p.to) return {};
    paused += *p.to - p.from;
  }
  return {created + 600 + paused, created + 3600 + paused};
}

class DeadlineStore : public Store {
 protected:
  void SetUp() override {
    Store::SetUp();
    db_->set_deadline_rule(stub_rule);
    ASSERT_TRUE(db_->create_ticket(alice_, {.ref = "D-1", .title = "late"}));
  }
};

TEST_F(DeadlineStore, CreationComputesAndStartUpRefreshesOldTickets) {
  auto t = db_->get_ticket("D-1");
  ASSERT_TRUE(t);
  ASSERT_TRUE(t->due_at);
  EXPECT_EQ(*t->due_at, t->created_at + 3600);
  EXPECT_EQ(*t->response_due_at, t->created_at + 600);
  auto before = db_->get_ticket("T-1");  // made before the rule was set
  ASSERT_TRUE(before);
  EXPECT_FALSE(before->due_at);
  auto refreshed = db_->refresh_deadlines();
  ASSERT_TRUE(refreshed);
  EXPECT_EQ(*refreshed, 2u);
  EXPECT_EQ(*db_->get_ticket("T-1")->due_at, before->created_at + 3600);
}

TEST_F(DeadlineStore, PendingAndResumeRefuseNonsense) {
  EXPECT_EQ(db_->resume_ticket(alice_, "D-1").error(), store_errc::ticket_not_pending);
  auto paused = db_->set_pending(alice_, "D-1");
  ASSERT_TRUE(paused);
  EXPECT_TRUE(paused->pending_since);
  EXPECT_FALSE(paused->due_at);  // the clock is stopped
  EXPECT_FALSE(paused->overdue);
  EXPECT_EQ(db_->set_pending(alice_, "D-1").error(), store_errc::ticket_pending);
  auto resumed = db_->resume_ticket(alice_, "D-1");
  ASSERT_TRUE(resumed);
  EXPECT_FALSE(resumed->pending_since);
  ASSERT_TRUE(resumed->due_at);
  EXPECT_GE(*resumed->due_at, resumed->created_at + 3600);
  ASSERT_TRUE(db_->resolve_ticket(alice_, "D-1", std::nullopt));
  EXPECT_EQ(db_->set_pending(alice_, "D-1").error(), store_errc::ticket_resolved);
  EXPECT_EQ(db_->set_pending(alice_, "NOPE").error(), store_errc::not_found);
  std::vector<std::string> actions;
  for (const auto& r : *db_->audit_trail("D-1")) actions.push_back(r.action);
  EXPECT_NE(std::find(actions.begin(), actions.end(), "ticket.pending"), actions.end());
  EXPECT_NE(std::find(actions.begin(), actions.end(), "ticket.resumed"), actions.end());
}

TEST_F(DeadlineStore, FirstResponseIsATechniciansNotTheSystems) {
  ASSERT_TRUE(db_->add_comment(actor::system(), "D-1", "automatic note"));
  EXPECT_FALSE(db_->get_ticket("D-1")->first_response_at);
  auto c = db_->add_comment(alice_, "D-1", "on it");
  ASSERT_TRUE(c);
  EXPECT_EQ(db_->get_ticket("D-1")->first_response_at, c->created_at);
}

TEST(TicketOverdue, OpenNotPendingAndPastDue) {
  ticket t;
  t.due_at = 100;
  t.response_due_at = 50;
  EXPECT_FALSE(ticket_overdue(t, 100));
  EXPECT_TRUE(ticket_overdue(t, 101));
  EXPECT_TRUE(ticket_response_overdue(t, 51));
  t.first_response_at = 10;
  EXPECT_FALSE(ticket_response_overdue(t, 51));
  t.pending_since = 90;
  EXPECT_FALSE(ticket_overdue(t, 101));
  t.pending_since.reset();
  t.status = ticket_status::resolved;
  EXPECT_FALSE(ticket_overdue(t, 101));
}

}  // namespace
}  // namespace valise::server
