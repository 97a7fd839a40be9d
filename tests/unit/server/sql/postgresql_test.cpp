// What only PostgreSQL does: notifications across connections, text it
// cannot store, a transaction that an error ended, a lost connection.
#include <poll.h>

#include "scratch_database.hpp"

namespace valise::server::sql {
namespace {

class postgresql : public ::testing::Test {
 protected:
  testing::scratch_database scratch_{backend::postgresql};
  connection db_ = scratch_.open();
};

bool readable_within(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, ms) == 1;
}

TEST_F(postgresql, a_notification_reaches_another_connection_when_its_transaction_commits) {
  auto listener = scratch_.open();
  ASSERT_TRUE(listener.listen("agent:a1"));
  const int fd = listener.notification_fd();
  ASSERT_GE(fd, 0);
  {
    auto tx = transaction::begin(db_);
    ASSERT_TRUE(tx);
    ASSERT_TRUE(db_.notify("agent:a1", "rolled back"));
  }
  auto tx = transaction::begin(db_);
  ASSERT_TRUE(tx);
  ASSERT_TRUE(db_.notify("agent:a1", "request r1"));
  ASSERT_TRUE(db_.notify("agent:other", "not listened to"));
  EXPECT_FALSE(readable_within(fd, 200));  // not before the commit
  ASSERT_TRUE(tx->commit());
  ASSERT_TRUE(readable_within(fd, 5000));
  auto got = listener.notifications();
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].channel, "agent:a1");
  EXPECT_EQ((*got)[0].payload, "request r1");
  auto none = listener.notifications();
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_F(postgresql, text_it_cannot_store_is_invalid_text) {
  testing::exec_or_throw(db_, "CREATE TABLE t (x TEXT)");
  for (const std::string& bad : {std::string("a\0b", 3), std::string("\xff\xfe")}) {
    auto stmt = db_.prepare("INSERT INTO t (x) VALUES (?)");
    ASSERT_TRUE(stmt);
    auto r = stmt->bind(bad).run();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::invalid_text) << r.error().message();
  }
  // The same bytes are fine as a blob.
  testing::exec_or_throw(db_, "CREATE TABLE b (x BYTEA)");
  auto blob = db_.prepare("INSERT INTO b (x) VALUES (?)");
  ASSERT_TRUE(blob);
  EXPECT_TRUE(blob->bind_blob(std::string("a\0b\xff", 4)).run());
}

TEST_F(postgresql, an_error_ends_the_transaction_and_its_commit_fails) {
  // Unlike SQLite, where only the failed statement is undone.
  testing::exec_or_throw(db_, "CREATE TABLE t (x BIGINT PRIMARY KEY)");
  auto tx = transaction::begin(db_);
  ASSERT_TRUE(tx);
  ASSERT_TRUE(db_.exec("INSERT INTO t (x) VALUES (1)"));
  EXPECT_FALSE(db_.exec("INSERT INTO t (x) VALUES (1)"));
  auto committed = tx->commit();
  EXPECT_FALSE(committed);
  auto stmt = db_.prepare("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(stmt && *stmt->step());
  EXPECT_EQ(stmt->integer(0), 0);
}

TEST_F(postgresql, a_lost_connection_is_connection_lost) {
  auto pid = db_.prepare("SELECT pg_backend_pid()");
  ASSERT_TRUE(pid && *pid->step());
  auto other = scratch_.open();
  // Integers go as int8: a function taking int4 needs the cast.
  auto kill = other.prepare("SELECT pg_terminate_backend(CAST(? AS INTEGER))");
  ASSERT_TRUE(kill && kill->bind(pid->integer(0)).run());
  auto after = db_.prepare("SELECT 1");
  ASSERT_TRUE(after);
  auto row = after->step();
  ASSERT_FALSE(row);
  EXPECT_EQ(row.error(), errc::connection_lost) << row.error().message();
  auto notes = db_.notifications();
  ASSERT_FALSE(notes);
  EXPECT_EQ(notes.error(), errc::connection_lost);
}

TEST_F(postgresql, a_failed_open_says_why) {
  std::string why;
  auto db = connection::open("postgresql://valise@127.0.0.1:1/valise?connect_timeout=5", why);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error(), errc::connection_lost);
  EXPECT_NE(why.find("127.0.0.1"), std::string::npos) << why;
}

}  // namespace
}  // namespace valise::server::sql
