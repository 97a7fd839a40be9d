// Deliveries from helpdesk connectors in the store: replays, their bounded
// memory, the ticket's life, the scheduled resolution.
#include "store_fixture.hpp"

namespace valise::server {
namespace {

helpdesk_delivery delivery(std::string id, std::string event, std::string ref = "42") {
  return {.connector = "glpi",
          .delivery_id = std::move(id),
          .event = std::move(event),
          .ticket_ref = std::move(ref),
          .title = "Printer jams",
          .level = severity::blocking,
          .status = "2",
          .grace_seconds = 60,
          .forget_before = now - 600};
}

TEST_F(Store, HelpdeskDeliveriesCreateUpdateAndRefuseReplays) {
  auto created = db_->apply_helpdesk_delivery(delivery("d1", "updated"), now);
  ASSERT_TRUE(created) << created.error().message();
  EXPECT_EQ(created->effect, helpdesk_effect::created);
  auto t = db_->get_ticket("42");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->connector, "glpi");
  EXPECT_EQ(t->level, severity::blocking);
  EXPECT_EQ(db_->apply_helpdesk_delivery(delivery("d1", "updated"), now).error(),
            store_errc::already_exists);
  auto same = db_->apply_helpdesk_delivery(delivery("d2", "updated"), now);
  ASSERT_TRUE(same);
  EXPECT_EQ(same->effect, helpdesk_effect::unchanged);
  auto renamed = delivery("d3", "updated");
  renamed.title = "Printer fixed?";
  EXPECT_EQ(db_->apply_helpdesk_delivery(renamed, now)->effect, helpdesk_effect::updated);
  EXPECT_EQ(db_->get_ticket("42")->title, "Printer fixed?");
  // Another connector's ticket is not this one's, nor is one made in valise.
  auto other = delivery("d4", "updated");
  other.connector = "zammad";
  EXPECT_EQ(db_->apply_helpdesk_delivery(other, now).error(), store_errc::bad_state);
  auto adopt = delivery("d5", "solved", "T-1");
  EXPECT_EQ(db_->apply_helpdesk_delivery(adopt, now).error(), store_errc::bad_state);
  EXPECT_EQ(db_->get_ticket("T-1")->connector, "");
  EXPECT_EQ(db_->get_ticket("T-1")->status, ticket_status::open);
  // Each delivery left one record naming its connector and id.
  auto trail = db_->audit_trail("42");
  ASSERT_TRUE(trail);
  ASSERT_EQ(trail->size(), 3u);
  EXPECT_EQ((*trail)[0].action, "ticket.created");
  EXPECT_EQ((*trail)[0].actor, "helpdesk:glpi");
  EXPECT_NE((*trail)[0].detail.find(R"("delivery":"d1")"), std::string::npos);
  EXPECT_EQ((*trail)[1].action, "helpdesk.received");
  EXPECT_EQ((*trail)[2].action, "ticket.updated");
}

TEST_F(Store, HelpdeskDeliveryIdsAreForgottenPastTheWindow) {
  ASSERT_TRUE(db_->apply_helpdesk_delivery(delivery("old", "updated"), now));
  // Ten minutes on, the connector forgets ids older than its window: the
  // table does not grow with every delivery ever received.
  auto later = delivery("new", "updated");
  later.forget_before = now + 1;
  ASSERT_TRUE(db_->apply_helpdesk_delivery(later, now + 600));
  auto again = delivery("old", "updated");
  again.forget_before = now + 1;
  EXPECT_TRUE(db_->apply_helpdesk_delivery(again, now + 600));
}

TEST_F(Store, SolvedIsResolvedAfterTheGraceUnlessReopened) {
  ASSERT_TRUE(db_->apply_helpdesk_delivery(delivery("d1", "updated"), now));
  auto solved = db_->apply_helpdesk_delivery(delivery("d2", "solved"), now);
  ASSERT_TRUE(solved);
  EXPECT_EQ(solved->effect, helpdesk_effect::resolution_scheduled);
  EXPECT_EQ(solved->resolve_at, now + 60);
  // Solved again: the first schedule stands.
  EXPECT_EQ(db_->apply_helpdesk_delivery(delivery("d3", "closed"), now + 30)->resolve_at, now + 60);
  EXPECT_TRUE(db_->due_helpdesk_resolutions(now + 59)->empty());
  auto due = db_->due_helpdesk_resolutions(now + 60);
  ASSERT_TRUE(due);
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].ticket_ref, "42");
  EXPECT_EQ((*due)[0].event, "solved");
  // Reopened in time: cancelled.
  EXPECT_EQ(db_->apply_helpdesk_delivery(delivery("d4", "reopened"), now + 40)->effect,
            helpdesk_effect::resolution_cancelled);
  EXPECT_TRUE(db_->due_helpdesk_resolutions(now + 100)->empty());
  // Solved, resolved (its schedule goes with it), reopened after.
  ASSERT_TRUE(db_->apply_helpdesk_delivery(delivery("d5", "solved"), now + 50));
  ASSERT_TRUE(db_->resolve_ticket(actor::helpdesk("glpi"), "42", "solved in glpi"));
  EXPECT_TRUE(db_->due_helpdesk_resolutions(now + 1000)->empty());
  EXPECT_EQ(db_->apply_helpdesk_delivery(delivery("d6", "reopened"), now + 2000)->effect,
            helpdesk_effect::reopened);
  EXPECT_EQ(db_->get_ticket("42")->status, ticket_status::open);
  // Solved before valise heard of it: nothing to follow.
  auto unknown = db_->apply_helpdesk_delivery(delivery("d7", "solved", "43"), now);
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->effect, helpdesk_effect::unchanged);
  EXPECT_EQ(db_->get_ticket("43").error(), store_errc::not_found);
}

// The loop reads what is due, then resolves each: a reopening that lands in
// between wins, and nothing is purged.
TEST_F(Store, AReopeningBetweenReadAndResolveWins) {
  ASSERT_TRUE(db_->apply_helpdesk_delivery(delivery("d1", "updated"), now));
  ASSERT_TRUE(db_->apply_helpdesk_delivery(delivery("d2", "solved"), now));
  ASSERT_EQ(db_->due_helpdesk_resolutions(now + 60)->size(), 1u);
  ASSERT_TRUE(db_->apply_helpdesk_delivery(delivery("d3", "reopened"), now + 60));
  EXPECT_EQ(db_->resolve_scheduled("42", now + 60).error(), store_errc::not_found);
  EXPECT_EQ(db_->get_ticket("42")->status, ticket_status::open);
  // Scheduled and due: resolved by the helpdesk, its schedule gone.
  ASSERT_TRUE(db_->apply_helpdesk_delivery(delivery("d4", "closed"), now + 100));
  EXPECT_EQ(db_->resolve_scheduled("42", now + 159).error(), store_errc::not_found);
  ASSERT_TRUE(db_->resolve_scheduled("42", now + 160));
  auto t = db_->get_ticket("42");
  EXPECT_EQ(t->status, ticket_status::resolved);
  EXPECT_EQ(t->resolution, "closed in glpi");
  EXPECT_EQ(db_->audit_trail("42")->back().actor, "helpdesk:glpi");
  EXPECT_TRUE(db_->due_helpdesk_resolutions(now + 1000)->empty());
}

TEST_F(Store, AScheduledResolutionSurvivesAReopenedStore) {
  ASSERT_TRUE(db_->apply_helpdesk_delivery(delivery("d1", "updated"), now));
  ASSERT_TRUE(db_->apply_helpdesk_delivery(delivery("d2", "closed"), now));
  reopen();
  auto due = db_->due_helpdesk_resolutions(now + 60);
  ASSERT_TRUE(due);
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].event, "closed");
  // A replay is still one after the restart.
  EXPECT_EQ(db_->apply_helpdesk_delivery(delivery("d2", "closed"), now).error(),
            store_errc::already_exists);
}

}  // namespace
}  // namespace valise::server
