// Agents in the store: one-time enrollment tokens, certificate lookup,
// renewal and revocation, last_seen coalescing, and the requests an agent
// answers (transitions, the bundle an upload links, resolution and
// revocation failing what is unfinished).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "store_fixture.hpp"

namespace valise::server {
namespace {

long count(const std::vector<std::string>& items, const std::string& item) {
  return std::count(items.begin(), items.end(), item);
}

// A stand-in for the CA: the fingerprint names the agent, so each is unique.
certificate_issuer fake_ca(unix_time expires_at, std::string* issued_for = nullptr) {
  return [=](const std::string& agent_id) -> result<issued_certificate> {
    if (issued_for) *issued_for = agent_id;
    return issued_certificate{"PEM " + agent_id, "sha-" + agent_id, expires_at};
  };
}

class Agents : public Store {
 protected:
  void SetUp() override {
    Store::SetUp();
    auto token = db_->create_enroll_token(alice_, now + 600);
    ASSERT_TRUE(token);
    auto a = db_->enroll_agent(token->secret, now, facts(), fake_ca(now + 86400));
    ASSERT_TRUE(a) << a.error().message();
    agent_ = *a;
    as_agent_ = {.kind = role::agent, .id = agent_.id, .name = agent_.id};
  }
  static agent_facts facts() { return {"db1", "Debian 12", "6.1.0", "0.1.0", {"base", "web"}}; }
  request_info make_request() {
    auto r = db_->create_request(
        alice_,
        {.ticket_ref = "T-1", .agent_id = agent_.id, .profile = "base", .recipients = {"age1abc"}});
    EXPECT_TRUE(r) << r.error().message();
    return *r;
  }
  result<request_info> move_to(const std::string& id, request_state s,
                               const std::string& bundle = {}) {
    return db_->update_request(as_agent_, id, {s, "", bundle});
  }
  std::vector<std::string> actions(const std::string& ref = "") {
    std::vector<std::string> out;
    for (const auto& r : *db_->audit_since(0, 10000))
      if (ref.empty() || r.ticket_ref == ref) out.push_back(r.action);
    return out;
  }
  // An agent upload for `request_id`, completed.
  result<bundle_info> agent_upload(const actor& by, const std::string& request_id) {
    upload_info u{.ticket_ref = "T-1",
                  .owner_id = by.id,
                  .source = by.label(),
                  .filename = "b.age",
                  .length = 4,
                  .expires_at = now + 3600,
                  .request_id = request_id};
    auto created = db_->create_upload(by, u, {});
    if (!created) return created.error();
    EXPECT_TRUE(db_->open_upload_file(created->id)->append(std::vector<std::uint8_t>(4, 'a')));
    return db_->complete_upload(by, created->id, std::string(64, 'e'));
  }

  agent_info agent_;
  actor as_agent_;
};

TEST_F(Store, EnrollmentTokensAreOneTimeExpiringAndStoredHashed) {
  auto token = db_->create_enroll_token(alice_, now + 60);
  ASSERT_TRUE(token);
  EXPECT_EQ(token->secret.rfind("vse_", 0), 0u);
  EXPECT_TRUE(db_->check_enroll_token(token->secret, now));
  EXPECT_EQ(db_->check_enroll_token(token->secret, now + 60).error(), store_errc::not_found);
  EXPECT_EQ(db_->enroll_agent(token->secret, now + 60, {}, fake_ca(now + 999)).error(),
            store_errc::not_found);
  // A CA that refuses leaves the token unused.
  auto refusing = [](const std::string&) -> result<issued_certificate> {
    return std::make_error_code(std::errc::invalid_argument);
  };
  EXPECT_FALSE(db_->enroll_agent(token->secret, now, {}, refusing));
  std::string issued_for;
  auto a =
      db_->enroll_agent(token->secret, now, {.hostname = "h"}, fake_ca(now + 999, &issued_for));
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(a->id.rfind("agt_", 0), 0u);
  EXPECT_EQ(issued_for, a->id);
  EXPECT_EQ(db_->enroll_agent(token->secret, now, {}, fake_ca(now + 999)).error(),
            store_errc::not_found);
  EXPECT_EQ(db_->check_enroll_token(token->secret, now).error(), store_errc::not_found);
  std::ifstream file(dir_ / "valise.db", std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(file)), {});
  EXPECT_EQ(content.find(token->secret), std::string::npos);
  for (const auto& r : *db_->audit_since(0, 100))
    EXPECT_EQ(r.detail.find("vse_"), std::string::npos);
}

TEST_F(Agents, CertificateFindsTheAgentRevokedOrNotExpiredNever) {
  auto found = db_->authenticate_agent("sha-" + agent_.id, now + 1);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, agent_.id);
  EXPECT_EQ(found->facts.profiles, (std::vector<std::string>{"base", "web"}));
  EXPECT_EQ(db_->authenticate_agent("sha-unknown", now).error(), store_errc::not_found);
  EXPECT_EQ(db_->authenticate_agent("sha-" + agent_.id, now + 86400).error(),
            store_errc::not_found);
  auto revoked = db_->revoke_agent(alice_, agent_.id);
  ASSERT_TRUE(revoked);
  EXPECT_TRUE(revoked->revoked_at);
  auto after = db_->authenticate_agent("sha-" + agent_.id, now + 2);
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->revoked_at);
  EXPECT_TRUE(db_->revoke_agent(alice_, agent_.id));  // again: no change, no error
  EXPECT_EQ(count(actions(), "agent.revoked"), 1);
  EXPECT_EQ(db_->update_agent_facts(as_agent_, facts(), now).error(), store_errc::revoked);
}

TEST_F(Agents, LastSeenIsWrittenAtMostEveryFiveMinutes) {
  ASSERT_TRUE(db_->authenticate_agent("sha-" + agent_.id, now + 299));
  EXPECT_EQ(db_->get_agent(agent_.id)->last_seen, now);
  ASSERT_TRUE(db_->authenticate_agent("sha-" + agent_.id, now + 300));
  EXPECT_EQ(db_->get_agent(agent_.id)->last_seen, now + 300);
  auto beat =
      db_->update_agent_facts(as_agent_, {"db2", "Debian 13", "6.12", "0.2.0", {}}, now + 301);
  ASSERT_TRUE(beat);
  EXPECT_EQ(beat->facts.hostname, "db2");
  EXPECT_TRUE(beat->facts.profiles.empty());
  EXPECT_EQ(beat->last_seen, now + 301);
}

TEST_F(Agents, ARenewedCertificateRetiresTheOldOneWhenFirstUsed) {
  const std::string old_sha = "sha-" + agent_.id;
  ASSERT_TRUE(db_->renew_agent_certificate(as_agent_, old_sha, {"PEM", "sha-new1", now + 5000}));
  // The answer was lost: the agent asks again with its old certificate.
  ASSERT_TRUE(db_->authenticate_agent(old_sha, now + 1));
  ASSERT_TRUE(db_->renew_agent_certificate(as_agent_, old_sha, {"PEM", "sha-new2", now + 6000}));
  EXPECT_TRUE(db_->authenticate_agent(old_sha, now + 2));
  EXPECT_EQ(db_->authenticate_agent("sha-new1", now + 2).error(), store_errc::not_found);
  auto renewed = db_->authenticate_agent("sha-new2", now + 3);
  ASSERT_TRUE(renewed);
  EXPECT_EQ(renewed->cert_expires_at, now + 6000);
  EXPECT_EQ(db_->authenticate_agent(old_sha, now + 4).error(), store_errc::not_found);
  EXPECT_EQ(db_->renew_agent_certificate(as_agent_, old_sha, {"PEM", "sha-x", now}).error(),
            store_errc::not_found);
  EXPECT_EQ(count(actions(), "agent.certificate_renewed"), 2);
}

TEST(RequestStates, TransitionsAreTheDocumentedOnes) {
  using rs = request_state;
  const std::vector<rs> all = {
      rs::queued, rs::awaiting_approval, rs::collecting, rs::uploading, rs::done, rs::failed};
  const std::set<std::pair<rs, rs>> allowed = {{rs::queued, rs::awaiting_approval},
                                               {rs::queued, rs::collecting},
                                               {rs::queued, rs::failed},
                                               {rs::awaiting_approval, rs::collecting},
                                               {rs::awaiting_approval, rs::failed},
                                               {rs::collecting, rs::uploading},
                                               {rs::collecting, rs::failed},
                                               {rs::uploading, rs::done},
                                               {rs::uploading, rs::failed}};
  for (auto from : all)
    for (auto to : all) {
      const bool want = allowed.contains({from, to}) || (from == to && !is_terminal(from));
      EXPECT_EQ(transition_allowed(from, to), want) << to_string(from) << " -> " << to_string(to);
    }
  for (auto s : all) EXPECT_EQ(parse_request_state(to_string(s)), s);
  EXPECT_FALSE(parse_request_state("running"));
}

TEST_F(Agents, RequestsMoveAlongTheirStatesToABundle) {
  auto r = make_request();
  EXPECT_EQ(r.id.rfind("req_", 0), 0u);
  EXPECT_EQ(r.state, request_state::queued);
  auto queued = db_->list_requests({.agent_id = agent_.id, .state = request_state::queued});
  ASSERT_TRUE(queued);
  ASSERT_EQ(queued->size(), 1u);
  EXPECT_EQ(queued->front().recipients, std::vector<std::string>{"age1abc"});
  EXPECT_EQ(move_to(r.id, request_state::uploading).error(), store_errc::bad_state);
  ASSERT_TRUE(move_to(r.id, request_state::collecting));
  ASSERT_TRUE(move_to(r.id, request_state::collecting));  // a restarted agent repeats itself
  ASSERT_TRUE(move_to(r.id, request_state::uploading));
  EXPECT_EQ(move_to(r.id, request_state::done, "bdl_nothing").error(), store_errc::bad_state);
  auto b = agent_upload(as_agent_, r.id);
  ASSERT_TRUE(b) << b.error().message();
  EXPECT_EQ(b->source, "agent:" + agent_.id);
  EXPECT_EQ(db_->get_request(r.id)->bundle_id, b->id);
  // The request has its bundle: a second upload is refused.
  EXPECT_EQ(agent_upload(as_agent_, r.id).error(), store_errc::has_bundle);
  auto done = move_to(r.id, request_state::done, b->id);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->state, request_state::done);
  EXPECT_EQ(move_to(r.id, request_state::failed).error(), store_errc::request_finished);
  EXPECT_EQ(count(actions("T-1"), "request.state_changed"), 3);
}

TEST_F(Agents, OnlyTheNamedAgentReportsOrUploadsForARequest) {
  auto r = make_request();
  auto token = db_->create_enroll_token(alice_, now + 600);
  auto other = db_->enroll_agent(token->secret, now, facts(), fake_ca(now + 86400));
  ASSERT_TRUE(other);
  actor intruder{.kind = role::agent, .id = other->id, .name = other->id};
  EXPECT_EQ(db_->update_request(intruder, r.id, {request_state::failed, "", ""}).error(),
            store_errc::not_found);
  EXPECT_EQ(agent_upload(intruder, r.id).error(), store_errc::not_found);
  EXPECT_EQ(agent_upload(as_agent_, "req_unknown").error(), store_errc::not_found);
}

TEST_F(Agents, ResolutionAndRevocationFailWhatIsUnfinished) {
  auto finished = make_request();
  ASSERT_TRUE(move_to(finished.id, request_state::collecting));
  ASSERT_TRUE(move_to(finished.id, request_state::uploading));
  auto b = agent_upload(as_agent_, finished.id);
  ASSERT_TRUE(b);
  ASSERT_TRUE(move_to(finished.id, request_state::done, b->id));
  auto open = make_request();
  ASSERT_TRUE(move_to(open.id, request_state::collecting));
  ASSERT_TRUE(db_->resolve_ticket(alice_, "T-1", std::nullopt));
  EXPECT_EQ(db_->get_request(finished.id)->state, request_state::done);
  auto failed = db_->get_request(open.id);
  EXPECT_EQ(failed->state, request_state::failed);
  EXPECT_EQ(failed->error, "ticket resolved");
  EXPECT_EQ(move_to(open.id, request_state::uploading).error(), store_errc::request_finished);
  EXPECT_EQ(
      db_->create_request(alice_, {.ticket_ref = "T-1", .agent_id = agent_.id, .profile = "base"})
          .error(),
      store_errc::ticket_resolved);

  ASSERT_TRUE(db_->reopen_ticket(alice_, "T-1"));
  auto pending = make_request();
  ASSERT_TRUE(db_->revoke_agent(alice_, agent_.id));
  EXPECT_EQ(db_->get_request(pending.id)->error, "agent revoked");
  EXPECT_EQ(
      db_->create_request(alice_, {.ticket_ref = "T-1", .agent_id = agent_.id, .profile = "base"})
          .error(),
      store_errc::revoked);
  EXPECT_EQ(
      db_->create_request(alice_, {.ticket_ref = "T-1", .agent_id = "agt_none", .profile = "base"})
          .error(),
      store_errc::not_found);
}

TEST_F(Agents, ListsAreTheNewestInTheOrderTheyWereMade) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(make_request().id);
  auto last3 = db_->list_requests({.ticket_ref = "T-1", .limit = 3});
  ASSERT_TRUE(last3);
  ASSERT_EQ(last3->size(), 3u);
  EXPECT_EQ((*last3)[0].id, ids[2]);
  EXPECT_EQ((*last3)[2].id, ids[4]);
  EXPECT_TRUE(db_->list_requests({.ticket_ref = "T-2"})->empty());
}

// Two creations for one request race: each listed the request's unfinished
// uploads (and leased them) before the other's was made. The later one may
// replace only what it leased, not the upload made in between, which its
// client is still writing.
TEST_F(Agents, AnUploadMadeAfterTheListingIsNotReplaced) {
  auto r = make_request();
  upload_info u{.ticket_ref = "T-1",
                .owner_id = as_agent_.id,
                .source = as_agent_.label(),
                .filename = "b.age",
                .length = 4,
                .expires_at = now + 3600,
                .request_id = r.id};
  auto listed = db_->receiving_uploads(r.id);
  ASSERT_TRUE(listed);
  ASSERT_TRUE(listed->empty());
  auto first = db_->create_upload(as_agent_, u, {});  // the other POST, in between
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(db_->create_upload(as_agent_, u, {.replaces = *listed}).error(), store_errc::busy);
  auto kept = db_->get_upload(first->id);
  ASSERT_TRUE(kept) << kept.error().message();
  EXPECT_EQ(kept->state, upload_state::receiving);
  EXPECT_TRUE(fs::exists(dir_ / "uploads" / first->id));
  // What it leased, it replaces.
  auto second = db_->create_upload(as_agent_, u, {.replaces = {first->id}});
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_EQ(db_->get_upload(first->id).error(), store_errc::not_found);
  EXPECT_EQ(*db_->receiving_uploads(r.id), std::vector<std::string>{second->id});
}

}  // namespace
}  // namespace valise::server
