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

}  // namespace
}  // namespace valise::server
