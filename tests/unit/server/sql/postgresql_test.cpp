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

// The server's session ended (pg_terminate_backend: an administrator, a
// failover): inside a transaction the transaction fails with connection_lost;
// the next call outside one opens a new session, LISTENs renewed.
std::int64_t backend_pid(connection& db) {
  auto pid = db.prepare("SELECT pg_backend_pid()");
  EXPECT_TRUE(pid && *pid->step());
  return pid->integer(0);
}

void terminate(testing::scratch_database& scratch, std::int64_t pid) {
  auto other = scratch.open();
  // Integers go as int8: a function taking int4 needs the cast.
  auto kill = other.prepare("SELECT pg_terminate_backend(CAST(? AS INTEGER))");
  ASSERT_TRUE(kill && kill->bind(pid).run());
}

TEST_F(postgresql, a_lost_connection_fails_its_transaction_then_is_opened_again) {
  ASSERT_TRUE(db_.set_application_name("valise-test's"));
  const auto first = backend_pid(db_);
  EXPECT_EQ(db_.generation(), 0u);
  {
    auto tx = transaction::begin(db_);
    ASSERT_TRUE(tx);
    terminate(scratch_, first);
    auto after = db_.prepare("SELECT 1");
    ASSERT_TRUE(after);
    auto row = after->step();
    ASSERT_FALSE(row);
    EXPECT_EQ(row.error(), errc::connection_lost) << row.error().message();
    EXPECT_FALSE(tx->commit());
  }
  const auto second = backend_pid(db_);
  EXPECT_NE(second, first);
  EXPECT_EQ(db_.generation(), 1u);  // what the first session held is gone
  // Outside a transaction the statement that finds it lost is sent again.
  terminate(scratch_, second);
  auto again = db_.prepare("SELECT 2");
  ASSERT_TRUE(again);
  auto row = again->step();
  ASSERT_TRUE(row) << row.error().message();
  EXPECT_EQ(again->integer(0), 2);
  EXPECT_EQ(db_.generation(), 2u);
  // The session's settings are back too, its name among them.
  auto named = db_.prepare("SHOW application_name");
  ASSERT_TRUE(named && *named->step());
  EXPECT_EQ(named->text(0), "valise-test's");
  auto timeout = db_.prepare("SHOW lock_timeout");
  ASSERT_TRUE(timeout && *timeout->step());
  EXPECT_EQ(timeout->text(0), "10s");
  // The database's side gives up on a silent peer within about a minute
  // (over TCP, as the test cluster is reached).
  auto keepalive = db_.prepare("SHOW tcp_keepalives_idle");
  ASSERT_TRUE(keepalive && *keepalive->step());
  EXPECT_EQ(keepalive->text(0), "30");
}

TEST_F(postgresql, a_lost_listening_connection_says_so_and_listens_again) {
  ASSERT_TRUE(db_.listen("agent:a1"));
  terminate(scratch_, backend_pid(db_));
  // The server's goodbye, then the end of the socket: reading them says the
  // connection was lost (what was sent meanwhile may be lost too).
  std::error_code lost;
  for (int i = 0; i < 50 && !lost; ++i) {
    readable_within(db_.notification_fd(), 100);
    if (auto notes = db_.notifications(); !notes) lost = notes.error();
  }
  EXPECT_EQ(lost, errc::connection_lost) << lost.message();
  // notifications() itself does not connect again (the wake relay opens a
  // connection of its own): the next statement does, and LISTENs again.
  EXPECT_EQ(db_.generation(), 0u);
  ASSERT_TRUE(db_.exec("SELECT 1"));
  EXPECT_EQ(db_.generation(), 1u);
  auto other = scratch_.open();
  ASSERT_TRUE(other.notify("agent:a1", "after"));
  ASSERT_TRUE(readable_within(db_.notification_fd(), 5000));
  auto got = db_.notifications();
  ASSERT_TRUE(got) << got.error().message();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].payload, "after");
}

TEST_F(postgresql, a_failed_open_says_why) {
  std::string why;
  auto db = connection::open("postgresql://valise@127.0.0.1:1/valise?connect_timeout=5", why);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error(), errc::connection_lost);
  EXPECT_NE(why.find("127.0.0.1"), std::string::npos) << why;
}

// An opening driven as the wake relay drives it (there through asio): wait
// for what it wants, then step, until done.
result<connection> open_by_steps(std::string_view url, std::vector<std::string> channels,
                                 std::string& why) {
  auto opening = opening::start(url, std::move(channels));
  for (auto wants = opening.wants(); wants != opening::wait::done; wants = opening.wants()) {
    pollfd ready{opening.socket(),
                 static_cast<short>(wants == opening::wait::read ? POLLIN : POLLOUT), 0};
    if (::poll(&ready, 1, 5000) != 1) {
      why = "no answer within 5 s";
      return std::make_error_code(std::errc::timed_out);
    }
    opening.step();
  }
  return opening.finish(why);
}

TEST_F(postgresql, an_opening_gives_a_session_set_up_and_listening) {
  std::string why;
  auto listener = open_by_steps(scratch_.url(), {"agent:a1"}, why);
  ASSERT_TRUE(listener) << why;
  auto timeout = listener->prepare("SHOW lock_timeout");
  ASSERT_TRUE(timeout && *timeout->step());
  EXPECT_EQ(timeout->text(0), "10s");
  ASSERT_TRUE(db_.notify("agent:a1", "hello"));
  ASSERT_TRUE(readable_within(listener->notification_fd(), 5000));
  auto got = listener->notifications();
  ASSERT_TRUE(got) << got.error().message();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].payload, "hello");
}

TEST_F(postgresql, an_opening_that_fails_says_why) {
  std::string why;
  auto refused = open_by_steps("postgresql://valise@127.0.0.1:1/valise", {}, why);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), errc::connection_lost);
  EXPECT_NE(why.find("127.0.0.1"), std::string::npos) << why;
  // Refused by the database itself, part-way through the exchange.
  const auto url = scratch_.url();
  const auto at = url.find("://") + 3;
  auto unknown =
      open_by_steps(url.substr(0, at) + "nobody-here" + url.substr(url.find(':', at)), {}, why);
  ASSERT_FALSE(unknown);
  EXPECT_NE(why.find("nobody-here"), std::string::npos) << why;
  auto not_postgresql = opening::start("sqlite:/tmp/x.db");
  EXPECT_EQ(not_postgresql.wants(), opening::wait::done);
  EXPECT_FALSE(not_postgresql.finish(why));
}

}  // namespace
}  // namespace valise::server::sql
