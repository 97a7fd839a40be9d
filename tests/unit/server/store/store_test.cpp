// The SQLite store over a real temporary data directory: what each state
// change records, what resolution destroys, and what start-up repairs after
// a crash in the middle of a purge or a completion.
#include "valise/server/store.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "store/audit_chain.hpp"
#include "store_fixture.hpp"

namespace valise::server {
namespace {

TEST_F(Store, TokensAreStoredHashedAndRevocable) {
  auto t = db_->create_token(actor::system(), role::admin, "root");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->secret.rfind("vsa_", 0), 0u);
  EXPECT_EQ(db_->create_token(actor::system(), role::admin, "root").error(),
            store_errc::already_exists);
  std::ifstream file(dir_ / "valise.db", std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(file)), {});
  EXPECT_EQ(content.find(t->secret), std::string::npos);
  ASSERT_TRUE(db_->revoke_token(actor::system(), "root"));
  EXPECT_EQ(db_->authenticate(t->secret, now).error(), store_errc::not_found);
}

TEST_F(Store, LinksSpendTheirBudgetAndDieWithTheirTicket) {
  auto link = db_->create_link(alice_, "T-1", {.expires_at = now + 60, .max_bytes = 150});
  ASSERT_TRUE(link);
  auto by = db_->authenticate(link->secret, now);
  ASSERT_TRUE(by);
  EXPECT_EQ(by->label(), "link:" + link->info.id);
  // A known link says why it stopped working.
  EXPECT_EQ(db_->authenticate(link->secret, now + 60).error(), store_errc::link_expired);
  EXPECT_EQ(db_->authenticate("vsl_unknown", now).error(), store_errc::not_found);
  upload_bundle(100, *by);
  upload_info u{.ticket_ref = "T-1", .owner_id = by->id, .length = 100};
  EXPECT_EQ(db_->create_upload(*by, u, {}).error(), store_errc::budget_exceeded);
  ASSERT_TRUE(db_->resolve_ticket(alice_, "T-1", std::nullopt));
  EXPECT_EQ(db_->authenticate(link->secret, now).error(), store_errc::ticket_resolved);
  ASSERT_TRUE(db_->reopen_ticket(alice_, "T-1"));
  EXPECT_EQ(db_->authenticate(link->secret, now).error(), store_errc::link_revoked);
}

TEST_F(Store, LinksKeepTheirModeAndRecipients) {
  const std::string key = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
  auto keyed = db_->create_link(alice_, "T-1",
                                {.expires_at = now + 60, .max_bytes = 10, .recipients = {key}});
  auto phrase = db_->create_link(
      alice_, "T-1", {.expires_at = now + 60, .max_bytes = 10, .mode = link_mode::passphrase});
  ASSERT_TRUE(keyed && phrase);
  auto got = db_->get_link(keyed->info.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->mode, link_mode::recipients);
  EXPECT_EQ(got->recipients, std::vector<std::string>{key});
  auto listed = db_->list_links("T-1");
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[1].mode, link_mode::passphrase);
  EXPECT_TRUE((*listed)[1].recipients.empty());
  EXPECT_EQ(db_->get_link("lnk_none").error(), store_errc::not_found);
}

TEST_F(Store, DeferredLinkUploadsShareTheBudgetAsTheirBytesArrive) {
  auto link = db_->create_link(alice_, "T-1", {.expires_at = now + 60, .max_bytes = 150});
  ASSERT_TRUE(link);
  auto by = db_->authenticate(link->secret, now);
  ASSERT_TRUE(by);
  upload_info deferred{.ticket_ref = "T-1", .owner_id = by->id};
  auto a = db_->create_upload(*by, deferred, {});
  auto b = db_->create_upload(*by, deferred, {});
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*db_->reserve_link_bytes(a->id, 100), 100u);
  EXPECT_EQ(*db_->reserve_link_bytes(b->id, 100), 50u);  // what is left
  EXPECT_EQ(*db_->reserve_link_bytes(b->id, 120), 50u);
  EXPECT_EQ(*db_->reserve_link_bytes(a->id, 60), 60u);  // given back
  EXPECT_EQ(db_->get_link(link->info.id)->used_bytes, 110u);
  // The final length is charged whole, or not set.
  EXPECT_EQ(db_->set_upload_length(*by, b->id, 91), store_errc::budget_exceeded);
  ASSERT_TRUE(db_->set_upload_length(*by, b->id, 90));
  EXPECT_EQ(db_->get_link(link->info.id)->used_bytes, 150u);
  // A technician's upload holds nothing of any link.
  upload_info own{.ticket_ref = "T-1", .owner_id = alice_.id};
  auto c = db_->create_upload(alice_, own, {});
  ASSERT_TRUE(c);
  EXPECT_EQ(*db_->reserve_link_bytes(c->id, 1000), 1000u);
  EXPECT_EQ(db_->get_link(link->info.id)->used_bytes, 150u);
}

TEST_F(Store, AnUploadDeletedWhileItsBytesArriveIsChargedNothingMore) {
  // Resolving the ticket deletes the upload under a PATCH still streaming:
  // that PATCH must not go on as if it had no budget (found by review).
  auto link = db_->create_link(alice_, "T-1", {.expires_at = now + 60, .max_bytes = 150});
  ASSERT_TRUE(link);
  auto by = db_->authenticate(link->secret, now);
  ASSERT_TRUE(by);
  auto up = db_->create_upload(*by, {.ticket_ref = "T-1", .owner_id = by->id}, {});
  ASSERT_TRUE(up);
  ASSERT_TRUE(db_->resolve_ticket(alice_, "T-1", std::nullopt));
  EXPECT_EQ(db_->reserve_link_bytes(up->id, 1u << 30).error(), store_errc::not_found);
}

TEST_F(Store, CommentsAndTheResolutionOutliveAReopening) {
  auto first = db_->add_comment(alice_, "T-1", "first\nline");
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->id.starts_with("cmt_"));
  EXPECT_EQ(first->author, alice_.name);
  EXPECT_EQ(first->author_kind, alice_.label().substr(0, alice_.label().find(':')));
  ASSERT_TRUE(db_->resolve_ticket(alice_, "T-1", "fixed"));
  EXPECT_EQ(db_->get_ticket("T-1")->resolution, "fixed");
  ASSERT_TRUE(db_->add_comment(alice_, "T-1", "after the fix"));
  ASSERT_TRUE(db_->reopen_ticket(alice_, "T-1"));
  EXPECT_EQ(db_->get_ticket("T-1")->resolution, "fixed");
  ASSERT_TRUE(db_->resolve_ticket(alice_, "T-1", std::nullopt));
  EXPECT_FALSE(db_->get_ticket("T-1")->resolution);
  auto comments = db_->list_comments("T-1", 10);
  ASSERT_TRUE(comments);
  ASSERT_EQ(comments->size(), 2u);
  EXPECT_EQ((*comments)[0].text, "first\nline");
  EXPECT_EQ((*comments)[1].text, "after the fix");
  EXPECT_EQ(db_->list_comments("T-1", 1)->size(), 1u);
  EXPECT_EQ(db_->add_comment(alice_, "nope", "x").error(), store_errc::not_found);
  // Each resolution's text stays in its record; pages of the trail follow seq.
  auto trail = db_->audit_trail("T-1");
  ASSERT_TRUE(trail);
  std::vector<std::string> resolved;
  for (const auto& r : *trail)
    if (r.action == "ticket.resolved") resolved.push_back(r.detail);
  EXPECT_EQ(resolved, (std::vector<std::string>{R"({"resolution":"fixed"})", "{}"}));
  auto page = db_->audit_trail_after("T-1", (*trail)[1].seq, 2);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].seq, (*trail)[2].seq);
}

TEST_F(Store, ResolveDestroysBundlesAndPartialUploadsBeforeReturning) {
  auto b = upload_bundle(10, alice_);
  upload_info partial{.ticket_ref = "T-1", .owner_id = alice_.id, .length = 50};
  auto p = db_->create_upload(alice_, partial, {});
  ASSERT_TRUE(p);
  ASSERT_TRUE(db_->open_upload_file(p->id)->append(std::vector<std::uint8_t>(7, 'x')));
  auto report = db_->resolve_ticket(alice_, "T-1", std::nullopt);
  ASSERT_TRUE(report);
  ASSERT_EQ(report->bundles.size(), 1u);
  EXPECT_EQ(report->bundles[0].id, b.id);
  EXPECT_EQ(report->bundles[0].size, 10u);
  ASSERT_EQ(report->uploads.size(), 1u);
  EXPECT_EQ(report->uploads[0].offset, 7u);
  EXPECT_TRUE(files("bundles").empty());
  EXPECT_TRUE(files("uploads").empty());
  EXPECT_EQ(db_->get_bundle(b.id).error(), store_errc::not_found);
  EXPECT_EQ(db_->resolve_ticket(alice_, "T-1", std::nullopt).error(), store_errc::ticket_resolved);
  upload_info late{.ticket_ref = "T-1", .owner_id = alice_.id, .length = 50};
  EXPECT_EQ(db_->create_upload(alice_, late, {}).error(), store_errc::ticket_resolved);
  std::vector<std::string> actions;
  for (const auto& r : *db_->audit_trail("T-1")) actions.push_back(r.action);
  EXPECT_NE(std::find(actions.begin(), actions.end(), "purge.resolved"), actions.end());
}

TEST_F(Store, RetentionPurgesOldBundlesAndExpiredUploads) {
  auto b = upload_bundle(10, alice_);
  upload_info partial{
      .ticket_ref = "T-1", .owner_id = alice_.id, .length = 50, .expires_at = now - 1};
  ASSERT_TRUE(db_->create_upload(alice_, partial, {}));
  auto report = db_->purge_expired(b.created_at + 1, now);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->bundles.size(), 1u);
  EXPECT_EQ(report->uploads.size(), 1u);
  EXPECT_TRUE(files("bundles").empty());
  EXPECT_TRUE(files("uploads").empty());
  auto again = db_->purge_expired(b.created_at + 1, now);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->bundles.empty());
}

TEST_F(Store, StartUpRemovesFilesThatNoRecordNames) {
  // What a crash between a purge's commit and its unlink leaves behind.
  auto b = upload_bundle(10, alice_);
  std::ofstream(dir_ / "bundles" / "bdl_orphan") << "age-encryption.org/v1\n";
  std::ofstream(dir_ / "uploads" / "upl_orphan") << "age";
  reopen();
  EXPECT_EQ(files("bundles"), std::set<std::string>{b.id});
  EXPECT_TRUE(files("uploads").empty());
}

TEST_F(Store, StartUpFinishesACompletionCutBeforeItsFileMoved) {
  auto b = upload_bundle(10, alice_);
  // Put the file back where it was before the move, as if the server stopped
  // between the commit and the rename.
  const std::string upload_id = completed_upload_id();
  ASSERT_FALSE(upload_id.empty());
  fs::rename(dir_ / "bundles" / b.id, dir_ / "uploads" / upload_id);
  reopen();
  EXPECT_EQ(files("bundles"), std::set<std::string>{b.id});
  EXPECT_TRUE(files("uploads").empty());
  auto file = db_->open_bundle(alice_, b.id);
  ASSERT_TRUE(file);
  EXPECT_EQ(file->size(), 10u);
}

// The cluster's leader reconciles while the nodes serve (min_age): files
// younger than that may be another node's, between its commit and its move.
TEST_F(Store, ReconcileWithAMinimumAgeLeavesYoungFilesAlone) {
  using namespace std::chrono_literals;
  auto b = upload_bundle(10, alice_);
  const std::string upload_id = completed_upload_id();
  ASSERT_FALSE(upload_id.empty());
  fs::rename(dir_ / "bundles" / b.id, dir_ / "uploads" / upload_id);  // a move not made yet
  std::ofstream(dir_ / "uploads" / "upl_old") << "age";
  std::ofstream(dir_ / "uploads" / "upl_young") << "age";
  std::ofstream(dir_ / "bundles" / "bdl_orphan") << "age-encryption.org/v1\n";
  const auto two_hours_ago = fs::file_time_type::clock::now() - 2h;
  fs::last_write_time(dir_ / "uploads" / "upl_old", two_hours_ago);
  ASSERT_TRUE(db_->reconcile(3600s));
  EXPECT_TRUE(files("bundles").empty());  // the bundle's own file not moved yet
  EXPECT_EQ(files("uploads"), (std::set<std::string>{upload_id, "upl_young"}));
  fs::last_write_time(dir_ / "uploads" / upload_id, two_hours_ago);
  ASSERT_TRUE(db_->reconcile(3600s));
  EXPECT_EQ(files("bundles"), std::set<std::string>{b.id});
  EXPECT_EQ(files("uploads"), std::set<std::string>{"upl_young"});
  auto file = db_->open_bundle(alice_, b.id);
  ASSERT_TRUE(file);
  EXPECT_EQ(file->size(), 10u);
}

TEST_F(Store, AuditVerifyFindsAnEditedOrRemovedRecord) {
  upload_bundle(10, alice_);
  auto clean = db_->verify_audit({});
  ASSERT_TRUE(clean);
  EXPECT_FALSE(clean->first_bad_seq);
  EXPECT_GE(clean->records, 4);
  db_.reset();
  sql("UPDATE audit SET actor = 'technician:mallory' WHERE seq = 3");
  reopen();
  auto edited = db_->verify_audit({});
  ASSERT_TRUE(edited);
  EXPECT_EQ(edited->first_bad_seq, 3);
  db_.reset();
  sql("DELETE FROM audit WHERE seq <= 3");
  reopen();
  EXPECT_EQ(db_->verify_audit({})->first_bad_seq, 4);
}

TEST_F(Store, AuditVerifyReadsALongTrailPageByPage) {
  // Past one page of the verifier's reads (10,000 records): every record
  // read once. The records after the fixture's are written straight into
  // the table (unchained, so the first of them is the first bad one): ten
  // thousand audited transactions would take a minute.
  const auto valid = *db_->audit_last_seq();
  db_.reset();
  sql("WITH RECURSIVE n(i) AS (SELECT " + std::to_string(valid + 1) +
      " UNION ALL SELECT i + 1 FROM n WHERE i < 10005) "
      "INSERT INTO audit SELECT i, 0, 'system', 'test.tick', '', '{}', 'unchained' FROM n");
  reopen();
  auto report = db_->verify_audit({});
  ASSERT_TRUE(report);
  EXPECT_EQ(report->first_bad_seq, valid + 1);
  EXPECT_EQ(report->records, 10'005);
  EXPECT_EQ(report->last_seq, 10'005);
  db_.reset();
  sql("DELETE FROM audit WHERE seq = 10000");
  reopen();
  report = db_->verify_audit({});
  ASSERT_TRUE(report);
  EXPECT_EQ(report->records, 10'004);
  EXPECT_EQ(report->last_seq, 10'005);
  // A record moved below the first seq is read, not skipped.
  db_.reset();
  sql("UPDATE audit SET seq = 0 WHERE seq = 1");
  reopen();
  report = db_->verify_audit({});
  ASSERT_TRUE(report);
  EXPECT_EQ(report->first_bad_seq, 0);
  EXPECT_EQ(report->records, 10'004);
}

TEST_F(Store, AuditHashCoversEveryField) {
  audit_record r{1, now, "system", "ticket.created", "T-1", "{}", {}};
  const auto h = audit_hash_v1(audit_genesis, r);
  auto changed = [&](auto edit) {
    audit_record copy = r;
    edit(copy);
    return audit_hash_v1(audit_genesis, copy) != h;
  };
  EXPECT_TRUE(changed([](audit_record& c) { c.seq = 2; }));
  EXPECT_TRUE(changed([](audit_record& c) { c.time += 1; }));
  EXPECT_TRUE(changed([](audit_record& c) { c.actor = "systen"; }));
  EXPECT_TRUE(changed([](audit_record& c) { c.action = "ticket.resolved"; }));
  EXPECT_TRUE(changed([](audit_record& c) { c.ticket_ref = "T-2"; }));
  EXPECT_TRUE(changed([](audit_record& c) { c.detail = "{ }"; }));
  // Moving a byte from one field to the next changes the hash too.
  EXPECT_TRUE(changed([](audit_record& c) {
    c.actor = "systemt";
    c.action = "icket.created";
  }));
}

TEST_F(Store, OneServerPerDataDirectoryToolsBeside) {
  auto second = store::open_sqlite(dir_);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), store_errc::locked);
  // A tool (token create) next to the server neither waits nor repairs.
  std::ofstream(dir_ / "uploads" / "upl_in_flight") << "age";
  auto tool = store::open_sqlite(dir_, store::open_mode::tool);
  ASSERT_TRUE(tool) << tool.error().message();
  EXPECT_TRUE(fs::exists(dir_ / "uploads" / "upl_in_flight"));
  EXPECT_TRUE((*tool)->create_token(actor::system(), role::technician, "bob"));
}

TEST_F(Store, ADatabaseFromANewerServerIsRefused) {
  db_.reset();
  sql("PRAGMA user_version = 999");
  auto opened = store::open_sqlite(dir_);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error(), store_errc::schema_too_new);
}

}  // namespace
}  // namespace valise::server
