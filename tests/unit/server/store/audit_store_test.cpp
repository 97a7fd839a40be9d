// The audit key and checkpoints of the SQLite store, over a real data
// directory: where the key lives, what a lost key or a truncated trail does,
// and that audit.head is never replaced by a trail it contradicts.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "store/audit_files.hpp"
#include "store_fixture.hpp"

namespace valise::server {
namespace {

using kind = store::checkpoint_problem::kind;

std::string read(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST_F(Store, TheAuditKeyIsAFileBesideTheDatabaseNeverInIt) {
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "audit.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto key = read_audit_key(dir_);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->keyed_from, 1);
  const std::string raw(key->bytes.begin(), key->bytes.end());
  db_.reset();
  const auto db = read(dir_ / "valise.db") + read(dir_ / "valise.db-wal");
  EXPECT_EQ(db.find(raw), std::string::npos);
  EXPECT_EQ(db.find(format_audit_key(*key).substr(37, 64)), std::string::npos);
  reopen();
  EXPECT_EQ(read_audit_key(dir_)->bytes, key->bytes);  // made once
}

TEST_F(Store, ALostKeyIsNotReplacedOnceRecordsNeedIt) {
  db_.reset();
  fs::remove(dir_ / "audit.key");
  auto opened = store::open_sqlite(dir_, store::open_mode::tool);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error(), store_errc::audit_key_missing);
  EXPECT_FALSE(fs::exists(dir_ / "audit.key"));
}

TEST_F(Store, ClosingAfterWritingLeavesACheckpointOfEveryRecord) {
  upload_bundle(10, alice_);
  auto records = db_->verify_audit({})->records;
  db_.reset();
  auto head = read_audit_head(dir_);
  ASSERT_TRUE(head && *head);
  EXPECT_EQ((*head)->records, records);
  reopen();
  auto report = db_->verify_audit({});
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->problems.empty());
  EXPECT_EQ(report->checkpoints, 1);
}

TEST_F(Store, ATruncatedTrailIsReportedAndItsCheckpointKept) {
  upload_bundle(10, alice_);
  db_.reset();
  const auto before = read(dir_ / "audit.head");
  sql("DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit)");
  reopen();
  auto report = db_->verify_audit({});
  ASSERT_TRUE(report);
  EXPECT_FALSE(report->first_bad_seq);
  ASSERT_EQ(report->problems.size(), 1u);
  EXPECT_EQ(report->problems[0].what, kind::truncated);
  EXPECT_EQ(report->problems[0].records, report->last_seq + 1);
  EXPECT_EQ(db_->checkpoint_audit().error(), store_errc::audit_mismatch);
  ASSERT_TRUE(db_->create_ticket(alice_, {.ref = "T-2", .title = "later"}));
  db_.reset();  // the close does not replace it either
  EXPECT_EQ(read(dir_ / "audit.head"), before);
}

TEST_F(Store, CheckpointLinesFromElsewhereAreChecked) {
  auto first = db_->checkpoint_audit();
  ASSERT_TRUE(first);
  ASSERT_TRUE(db_->create_ticket(alice_, {.ref = "T-2", .title = "later"}));
  auto second = db_->checkpoint_audit();
  ASSERT_TRUE(second);
  EXPECT_TRUE(second->written);
  EXPECT_FALSE(db_->checkpoint_audit()->written);  // nothing new
  auto ok = db_->verify_audit({first->line, "journal prefix: " + second->line});
  ASSERT_TRUE(ok);
  EXPECT_TRUE(ok->problems.empty());
  EXPECT_EQ(ok->checkpoints, 3);
  auto edited = second->line;
  edited.replace(edited.find("time="), 6, "time=9");
  auto bad = db_->verify_audit({edited, "no checkpoint"});
  ASSERT_TRUE(bad);
  ASSERT_EQ(bad->problems.size(), 2u);
  EXPECT_EQ(bad->problems[0].what, kind::not_authentic);
  EXPECT_EQ(bad->problems[0].source, 1u);
  EXPECT_EQ(bad->problems[1].what, kind::unreadable);
  EXPECT_EQ(bad->problems[1].source, 2u);
}

TEST_F(Store, AMissingHeadFileIsReportedThenWrittenAgain) {
  db_.reset();
  fs::remove(dir_ / "audit.head");
  reopen();
  auto report = db_->verify_audit({});
  ASSERT_EQ(report->problems.size(), 1u);
  EXPECT_EQ(report->problems[0].what, kind::missing);
  auto written = db_->checkpoint_audit();
  ASSERT_TRUE(written);
  EXPECT_TRUE(written->head_was_missing);
  EXPECT_TRUE(db_->verify_audit({})->problems.empty());
}

// The newest audit seq another connection sees: what is committed.
std::int64_t committed_audit_records(const fs::path& dir) {
  sqlite3* db = nullptr;
  std::int64_t seq = -1;
  if (sqlite3_open_v2((dir / "valise.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
      SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT max(seq) FROM audit", -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
      seq = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return seq;
}

// The console's event long-poll is woken after the commit, so that what
// it wakes reads the record; a rolled-back change announces nothing new.
TEST_F(Store, CommittedAuditRecordsAreAnnounced) {
  // The callback runs under the store's lock (a server only posts a wake):
  // it reads through a connection of its own what another reader would see.
  std::vector<std::int64_t> seen;
  db_->on_audit_committed([&] { seen.push_back(committed_audit_records(dir_)); });
  const auto before = *db_->audit_last_seq();
  ASSERT_TRUE(db_->create_ticket(alice_, {.ref = "T-2", .title = "t"}));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], before + 1);  // committed before the announcement
  EXPECT_EQ(db_->create_ticket(alice_, {.ref = "T-2", .title = "t"}).error(),
            store_errc::already_exists);
  EXPECT_EQ(seen.size(), 1u);
  ASSERT_TRUE(db_->audit(alice_, "note", "T-2", "{}"));
  EXPECT_EQ(seen.size(), 2u);
  db_->on_audit_committed({});
  ASSERT_TRUE(db_->audit(alice_, "note", "T-2", "{}"));
  EXPECT_EQ(seen.size(), 2u);
}

TEST_F(Store, ReceivingUploadsOfATicketWithTheirProgress) {
  upload_info u;
  u.ticket_ref = "T-1";
  u.owner_id = alice_.id;
  u.source = alice_.label();
  u.filename = "partial.age";
  u.length = 100;
  u.expires_at = now + 3600;
  auto partial = db_->create_upload(alice_, u, {});
  ASSERT_TRUE(partial);
  auto file = db_->open_upload_file(partial->id);
  ASSERT_TRUE(file);
  std::vector<std::uint8_t> bytes(40, 'a');
  ASSERT_TRUE(file->append(bytes));
  u.filename = "expired.age";
  u.expires_at = now - 1;
  ASSERT_TRUE(db_->create_upload(alice_, u, {}));
  upload_bundle(10, alice_);  // completed: not listed
  auto listed = db_->receiving_uploads_of_ticket("T-1", now);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, partial->id);
  EXPECT_EQ((*listed)[0].offset, 40u);
  EXPECT_EQ((*listed)[0].length, 100u);
  EXPECT_GE((*listed)[0].updated_at, (*listed)[0].created_at);
  EXPECT_TRUE(db_->receiving_uploads_of_ticket("T-9", now)->empty());
}

}  // namespace
}  // namespace valise::server
