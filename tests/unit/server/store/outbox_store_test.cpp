// The outbox in the store: events enqueued with the change they report, as
// the policy routes them; attempts recorded and audited; a target's backlog
// bounded; retry by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <ctime>

#include "store_fixture.hpp"

namespace valise::server {
namespace {

// The store stamps entries with the wall clock.
unix_time wall() {
  return static_cast<unix_time>(std::time(nullptr));
}

class Outbox : public Store {
 protected:
  void SetUp() override {
    Store::SetUp();
    policy({"hook", "desk"});
  }
  void policy(std::vector<std::string> targets, std::size_t max_pending = 100) {
    outbox_policy p;
    p.route = [targets, this](const outbox_subject& subject, std::string_view event) {
      subjects_.push_back(subject);
      return event == "never" ? std::vector<std::string>{} : targets;
    };
    p.max_pending_per_target = max_pending;
    p.enqueued = [this] { ++wakes_; };
    db_->set_outbox_policy(std::move(p));
  }
  std::vector<outbox_entry> entries() { return *db_->list_outbox(true, 1000); }
  std::vector<std::string> actions() {
    std::vector<std::string> out;
    for (const auto& r : *db_->audit_since(0, 10000)) out.push_back(r.action);
    return out;
  }
  static boost::json::object data(const outbox_entry& e) {
    return boost::json::parse(e.payload).as_object();
  }
  int wakes_ = 0;
  std::vector<outbox_subject> subjects_;
};

TEST_F(Outbox, ABundleIsAnnouncedToEveryRoutedTarget) {
  auto b = upload_bundle(10, alice_);
  auto all = entries();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(wakes_, 1);  // once, after the commit
  std::set<std::string> targets;
  for (const auto& e : all) {
    targets.insert(e.target);
    EXPECT_EQ(e.event, "bundle.arrived");
    EXPECT_EQ(e.ticket_ref, "T-1");
    EXPECT_EQ(e.state, outbox_state::pending);
    EXPECT_EQ(e.attempts, 0u);
    EXPECT_TRUE(e.id.starts_with("msg_"));
    auto d = data(e);
    EXPECT_EQ(d.at("bundle").as_string(), b.id);
    EXPECT_EQ(d.at("sha256").as_string(), b.sha256);
    EXPECT_EQ(d.at("size").to_number<std::uint64_t>(), 10u);
    EXPECT_EQ(d.at("uploader").as_string(), alice_.label());
    EXPECT_EQ(d.at("ticket").as_string(), "T-1");
  }
  EXPECT_EQ(targets, (std::set<std::string>{"hook", "desk"}));
  ASSERT_EQ(subjects_.size(), 1u);
  EXPECT_EQ(subjects_[0].ticket_ref, "T-1");
  EXPECT_EQ(subjects_[0].connector, "");  // made in valise
  EXPECT_NE(all[0].id, all[1].id);
}

TEST_F(Outbox, TheRouteKnowsTheHelpdeskATicketCameFrom) {
  policy({"hook"});
  ASSERT_TRUE(db_->apply_helpdesk_delivery({.connector = "glpi",
                                            .delivery_id = "d1",
                                            .event = "updated",
                                            .ticket_ref = "42",
                                            .title = "Printer jams",
                                            .level = severity::blocking,
                                            .status = "2",
                                            .grace_seconds = 60,
                                            .forget_before = now - 600},
                                           now));
  ASSERT_TRUE(db_->resolve_ticket(alice_, "42", std::nullopt));
  ASSERT_EQ(subjects_.size(), 1u);  // the purge's receipt
  EXPECT_EQ(subjects_[0].ticket_ref, "42");
  EXPECT_EQ(subjects_[0].connector, "glpi");
}

TEST_F(Outbox, APurgeSendsItsReceipt) {
  policy({"hook"});
  auto b = upload_bundle(7, alice_);
  ASSERT_TRUE(db_->resolve_ticket(alice_, "T-1", std::nullopt));
  auto all = entries();
  ASSERT_EQ(all.size(), 2u);
  const auto& purge = all[0].event == "bundles.purged" ? all[0] : all[1];
  ASSERT_EQ(purge.event, "bundles.purged");
  auto d = data(purge);
  EXPECT_EQ(d.at("cause").as_string(), "purge.resolved");
  const auto& bundles = d.at("bundles").as_array();
  ASSERT_EQ(bundles.size(), 1u);
  EXPECT_EQ(bundles[0].at("id").as_string(), b.id);
  EXPECT_EQ(bundles[0].at("sha256").as_string(), b.sha256);
  EXPECT_EQ(bundles[0].at("size").to_number<std::uint64_t>(), 7u);
}

TEST_F(Outbox, AFailedRequestIsAnnounced) {
  policy({"hook"});
  auto token = db_->create_enroll_token(alice_, now + 600);
  ASSERT_TRUE(token);
  auto a = db_->enroll_agent(token->secret, now, {"db1", "Debian 12", "6.1.0", "0.1.0", {"base"}},
                             [](const std::string& id) -> result<issued_certificate> {
                               return issued_certificate{"PEM " + id, "sha-" + id, now + 86400};
                             });
  ASSERT_TRUE(a);
  const actor agent{.kind = role::agent, .id = a->id, .name = a->id};
  auto r = db_->create_request(alice_, {.ticket_ref = "T-1", .agent_id = a->id, .profile = "base"});
  ASSERT_TRUE(r);
  ASSERT_TRUE(db_->update_request(agent, r->id, {request_state::failed, "disk full", ""}));
  auto all = entries();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].event, "request.failed");
  auto d = data(all[0]);
  EXPECT_EQ(d.at("request").as_string(), r->id);
  EXPECT_EQ(d.at("agent").as_string(), a->id);
  EXPECT_EQ(d.at("reason").as_string(), "disk full");
  // Failed by the agent's revocation too.
  auto second =
      db_->create_request(alice_, {.ticket_ref = "T-1", .agent_id = a->id, .profile = "base"});
  ASSERT_TRUE(second);
  ASSERT_TRUE(db_->revoke_agent(alice_, a->id));
  all = entries();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(data(all[0]).at("reason").as_string(), "agent revoked");
}

TEST_F(Outbox, ATargetsBacklogIsBoundedAndDropsAreAudited) {
  policy({"hook"}, 2);
  for (int i = 0; i < 3; ++i) upload_bundle(5, alice_);
  EXPECT_EQ(entries().size(), 2u);
  auto a = actions();
  EXPECT_EQ(std::count(a.begin(), a.end(), "outbox.dropped"), 1);
  // Delivering one makes room again.
  auto due = *db_->due_outbox(wall(), 10);
  ASSERT_EQ(due.size(), 2u);
  ASSERT_TRUE(
      db_->record_outbox_attempt(due[0].id, {outbox_attempt::outcome::delivered, 200}, wall()));
  upload_bundle(5, alice_);
  EXPECT_EQ(db_->list_outbox(false, 100)->size(), 2u);
}

TEST_F(Outbox, AttemptsAreRecordedDeliveriesAndFailuresAudited) {
  policy({"hook"});
  upload_bundle(5, alice_);
  const auto t = wall();
  auto id = entries()[0].id;
  ASSERT_TRUE(db_->record_outbox_attempt(
      id, {outbox_attempt::outcome::retry, 503, "answered HTTP 503", t + 60}, t));
  EXPECT_TRUE(db_->due_outbox(t, 10)->empty());
  auto e = entries()[0];
  EXPECT_EQ(e.attempts, 1u);
  EXPECT_EQ(e.last_status, 503u);
  EXPECT_EQ(e.last_error, "answered HTTP 503");
  EXPECT_EQ(e.next_attempt_at, t + 60);
  EXPECT_EQ(db_->due_outbox(t + 60, 10)->size(), 1u);

  ASSERT_TRUE(db_->record_outbox_attempt(
      id, {outbox_attempt::outcome::give_up, 400, "answered HTTP 400"}, t));
  e = entries()[0];
  EXPECT_EQ(e.state, outbox_state::failed);
  EXPECT_EQ(e.attempts, 2u);
  EXPECT_TRUE(db_->due_outbox(t + 3600, 10)->empty());
  EXPECT_EQ(db_->count_outbox()->targets["hook"].failed, 1u);
  EXPECT_EQ(db_->record_outbox_attempt(id, {outbox_attempt::outcome::delivered, 200}, t).error(),
            store_errc::bad_state);

  wakes_ = 0;
  auto retried = db_->retry_outbox(alice_, id);
  ASSERT_TRUE(retried);
  EXPECT_EQ(retried->state, outbox_state::pending);
  EXPECT_EQ(wakes_, 1);
  ASSERT_EQ(db_->due_outbox(wall(), 10)->size(), 1u);
  ASSERT_TRUE(db_->record_outbox_attempt(id, {outbox_attempt::outcome::delivered, 204}, t));
  e = entries()[0];
  EXPECT_EQ(e.state, outbox_state::delivered);
  EXPECT_TRUE(e.delivered_at);
  EXPECT_TRUE(db_->list_outbox(false, 10)->empty());
  EXPECT_EQ(db_->retry_outbox(alice_, id).error(), store_errc::bad_state);
  EXPECT_EQ(db_->retry_outbox(alice_, "msg_nope").error(), store_errc::not_found);
  auto a = actions();
  for (const char* action : {"outbox.given_up", "outbox.retried", "outbox.delivered"})
    EXPECT_EQ(std::count(a.begin(), a.end(), action), 1) << action;
}

TEST_F(Outbox, AnUnansweringTargetsEntriesWaitTogether) {
  policy({"hook", "desk"});
  for (int i = 0; i < 3; ++i) upload_bundle(5, alice_);
  const auto t = wall();
  ASSERT_TRUE(db_->postpone_outbox("hook", t + 600, "waiting"));
  auto due = *db_->due_outbox(t, 10);
  ASSERT_EQ(due.size(), 3u);
  for (const auto& e : due) EXPECT_EQ(e.target, "desk");
  EXPECT_EQ(db_->due_outbox(t + 600, 10)->size(), 6u);
  for (const auto& e : entries()) {
    EXPECT_EQ(e.attempts, 0u);  // waiting is not an attempt
    EXPECT_EQ(e.last_error, e.target == "hook" ? "waiting" : "");
  }
  // A later time is never brought forward.
  ASSERT_TRUE(db_->postpone_outbox("hook", t + 60, "waiting"));
  EXPECT_EQ(db_->due_outbox(t + 599, 10)->size(), 3u);
}

TEST_F(Outbox, EntriesSurviveReopening) {
  policy({"hook"});
  upload_bundle(5, alice_);
  reopen();  // as after a crash: the entry was committed with the bundle
  auto due = db_->due_outbox(wall(), 10);
  ASSERT_TRUE(due);
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ(due->front().event, "bundle.arrived");
}

TEST_F(Outbox, NothingIsEnqueuedWithoutAPolicy) {
  db_->set_outbox_policy({});
  upload_bundle(5, alice_);
  EXPECT_TRUE(entries().empty());
}

}  // namespace
}  // namespace valise::server
