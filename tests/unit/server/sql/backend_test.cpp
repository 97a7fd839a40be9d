// The same test bodies against SQLite and PostgreSQL: what store code may
// rely on whichever database it runs on.
#include <atomic>
#include <chrono>
#include <limits>
#include <thread>
#include <vector>

#include "scratch_database.hpp"

namespace valise::server::sql {
namespace {

using namespace std::chrono_literals;

class database : public ::testing::TestWithParam<backend> {
 protected:
  testing::scratch_database scratch_{GetParam()};
  connection db_ = scratch_.open();

  void exec(const std::string& sqlite_ddl) {
    testing::exec_or_throw(db_, scratch_.ddl(sqlite_ddl));
  }
};

TEST_P(database, binds_and_reads_every_kind_of_value) {
  exec("CREATE TABLE v (n INTEGER NOT NULL, t TEXT, i INTEGER, b BLOB)");
  std::string all_bytes;
  for (int c = 0; c < 256; ++c) all_bytes += static_cast<char>(c);
  const std::int64_t min = std::numeric_limits<std::int64_t>::min();
  const std::uint64_t big = std::numeric_limits<std::uint64_t>::max() - 1;
  auto insert = db_.prepare("INSERT INTO v (n, t, i, b) VALUES (?, ?, ?, ?)");
  ASSERT_TRUE(insert) << insert.error().message();
  ASSERT_TRUE(insert->bind(1).bind("h\xc3\xa9llo").bind(min).bind_blob(all_bytes).run());
  auto empty = db_.prepare("INSERT INTO v (n, t, i, b) VALUES (?, ?, ?, ?)");
  ASSERT_TRUE(empty && empty->bind(2).bind("").bind(big).bind_blob("").run());
  auto nulls = db_.prepare("INSERT INTO v (n, t, i, b) VALUES (?, ?, ?, ?)");
  ASSERT_TRUE(nulls &&
              nulls->bind(3).bind_null().bind(std::optional<std::uint64_t>()).bind_null().run());
  auto rows = db_.prepare("SELECT t, i, b FROM v ORDER BY n");
  ASSERT_TRUE(rows);
  ASSERT_TRUE(*rows->step());
  EXPECT_EQ(rows->text(0), "h\xc3\xa9llo");
  EXPECT_EQ(rows->integer(1), min);
  EXPECT_EQ(rows->text(2), all_bytes);
  EXPECT_FALSE(rows->is_null(0));
  ASSERT_TRUE(*rows->step());
  EXPECT_EQ(rows->text(0), "");
  EXPECT_FALSE(rows->is_null(0));  // empty, not NULL
  EXPECT_EQ(rows->size(1), big);
  EXPECT_EQ(rows->text(2), "");
  EXPECT_FALSE(rows->is_null(2));
  ASSERT_TRUE(*rows->step());
  EXPECT_TRUE(rows->is_null(0));
  EXPECT_TRUE(rows->is_null(1));
  EXPECT_TRUE(rows->is_null(2));
  EXPECT_EQ(rows->text(0), "");
  EXPECT_EQ(rows->integer(1), 0);
  auto end = rows->step();
  ASSERT_TRUE(end);
  EXPECT_FALSE(*end);
}

TEST_P(database, an_integer_primary_key_numbers_rows_left_without_one) {
  exec("CREATE TABLE k (id INTEGER PRIMARY KEY, t TEXT NOT NULL)");
  ASSERT_TRUE(db_.exec("INSERT INTO k (t) VALUES ('a'); INSERT INTO k (t) VALUES ('b')"));
  auto stmt = db_.prepare("SELECT id FROM k ORDER BY t");
  ASSERT_TRUE(stmt);
  std::vector<std::int64_t> ids;
  ASSERT_TRUE(stmt->each([&] { ids.push_back(stmt->integer(0)); }));
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_LT(ids[0], ids[1]);
}

TEST_P(database, numbers_parameters_as_sqlite_does) {
  // ?N reused, a bare ? after ?3 is ?4, and a ? inside a string is text.
  auto stmt = db_.prepare("SELECT ?3, ?, ?1, '?', ?1");
  ASSERT_TRUE(stmt);
  ASSERT_TRUE(*stmt->bind(1).bind(2).bind(3).bind(4).step());
  EXPECT_EQ(stmt->integer(0), 3);
  EXPECT_EQ(stmt->integer(1), 4);
  EXPECT_EQ(stmt->integer(2), 1);
  EXPECT_EQ(stmt->text(3), "?");
  EXPECT_EQ(stmt->integer(4), 1);
}

TEST_P(database, a_text_parameter_takes_its_type_from_the_context) {
  exec("CREATE TABLE c (n INTEGER NOT NULL, t TEXT NOT NULL)");
  auto insert = db_.prepare("INSERT INTO c (n, t) VALUES (?, ?), (?, ?)");
  ASSERT_TRUE(insert);
  ASSERT_TRUE(insert->bind(1).bind("a").bind(2).bind("b").run());
  // The store's optional filters: (?1 = '' OR t = ?1).
  for (const std::string& filter : {std::string(), std::string("b")}) {
    auto stmt = db_.prepare("SELECT COUNT(*) FROM c WHERE (?1 = '' OR t = ?1) AND n <= ?2");
    ASSERT_TRUE(stmt);
    ASSERT_TRUE(*stmt->bind(filter).bind(5).step());
    EXPECT_EQ(stmt->integer(0), filter.empty() ? 2 : 1);
  }
  auto sum = db_.prepare(
      "SELECT COALESCE(SUM(n), 0), COALESCE(SUM(CASE WHEN t = ? THEN 1 ELSE 0 "
      "END), 0) FROM c");
  ASSERT_TRUE(sum);
  ASSERT_TRUE(*sum->bind("a").step());
  EXPECT_EQ(sum->integer(0), 3);  // numeric on PostgreSQL, read as an integer
  EXPECT_EQ(sum->integer(1), 1);
}

TEST_P(database, changes_counts_the_rows_the_last_change_touched) {
  exec("CREATE TABLE k (id TEXT PRIMARY KEY, n INTEGER NOT NULL)");
  auto insert = db_.prepare("INSERT INTO k (id, n) VALUES ('a', 1), ('b', 2), ('c', 3)");
  ASSERT_TRUE(insert && insert->run());
  EXPECT_EQ(db_.changes(), 3);
  auto update = db_.prepare("UPDATE k SET n = n + 1 WHERE n >= ?");
  ASSERT_TRUE(update && update->bind(2).run());
  EXPECT_EQ(db_.changes(), 2);
  auto select = db_.prepare("SELECT id FROM k");
  ASSERT_TRUE(select && select->run());
  EXPECT_EQ(db_.changes(), 2);  // a query changes nothing
  auto again = db_.prepare("INSERT INTO k (id, n) VALUES (?, 0) ON CONFLICT DO NOTHING");
  ASSERT_TRUE(again && again->bind("a").run());
  EXPECT_EQ(db_.changes(), 0);
  auto remove = db_.prepare("DELETE FROM k WHERE id = ?");
  ASSERT_TRUE(remove && remove->bind("b").run());
  EXPECT_EQ(db_.changes(), 1);
}

TEST_P(database, errors_compare_equal_to_portable_conditions) {
  exec("CREATE TABLE u (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE)");
  auto first = db_.prepare("INSERT INTO u (id, name) VALUES (?, ?)");
  ASSERT_TRUE(first && first->bind("1").bind("a").run());

  auto taken = db_.prepare("INSERT INTO u (id, name) VALUES (?, ?)");
  ASSERT_TRUE(taken);
  auto r = taken->bind("2").bind("a").run();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::unique_violation);
  EXPECT_EQ(r.error(), errc::constraint_violation);
  EXPECT_NE(r.error(), errc::busy);
  EXPECT_FALSE(db_.error_message().empty());

  auto missing = db_.prepare("INSERT INTO u (id, name) VALUES (?, ?)");
  ASSERT_TRUE(missing);
  r = missing->bind("3").bind_null().run();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::constraint_violation);
  EXPECT_NE(r.error(), errc::unique_violation);

  // SQLite refuses bad SQL at prepare, PostgreSQL at the first step.
  for (const char* bad : {"SELEC 1", "SELECT nothing FROM nowhere"}) {
    auto stmt = db_.prepare(bad);
    std::error_code error = stmt ? std::error_code() : stmt.error();
    if (stmt) {
      auto row = stmt->step();
      ASSERT_FALSE(row) << bad;
      error = row.error();
    }
    EXPECT_EQ(error, errc::invalid_statement) << bad << ": " << error.message();
  }
  auto exec = db_.exec("CREATE TABLE");
  ASSERT_FALSE(exec);
  EXPECT_EQ(exec.error(), errc::invalid_statement);

  // One value too many is an error, not silently dropped.
  auto extra = db_.prepare("SELECT ?");
  ASSERT_TRUE(extra);
  auto row = extra->bind(1).bind(2).step();
  ASSERT_FALSE(row);
  EXPECT_EQ(row.error(), errc::invalid_statement);
}

TEST_P(database, text_postgresql_cannot_store_is_invalid_text_on_both) {
  // SQLite would store these bytes; it refuses them too, so that a client
  // gets the same answer from a server on either database.
  exec("CREATE TABLE t (x TEXT)");
  for (const std::string& bad :
       {std::string("a\0b", 3), std::string("\xff\xfe"), std::string("caf\xc3"),
        std::string("\xc0\xaf"), std::string("\xed\xa0\x80"), std::string("\xf4\x90\x80\x80")}) {
    auto stmt = db_.prepare("INSERT INTO t (x) VALUES (?)");
    ASSERT_TRUE(stmt);
    auto r = stmt->bind(bad).run();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::invalid_text) << r.error().message();
  }
  auto good = db_.prepare("INSERT INTO t (x) VALUES (?)");
  ASSERT_TRUE(good && good->bind("caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80").run());
}

TEST_P(database, runs_several_statements_in_one_exec) {
  exec("CREATE TABLE a (x INTEGER); CREATE TABLE b (y INTEGER); INSERT INTO a (x) VALUES (1);");
  auto stmt = db_.prepare("SELECT COUNT(*) FROM a, b");
  ASSERT_TRUE(stmt && *stmt->step());
  EXPECT_EQ(stmt->integer(0), 0);
}

TEST_P(database, a_transaction_rolls_back_unless_committed) {
  exec("CREATE TABLE t (x INTEGER NOT NULL)");
  int commits = 0;
  db_.on_commit([&] { ++commits; });
  auto count = [&] {
    auto stmt = db_.prepare("SELECT COUNT(*) FROM t");
    return stmt && *stmt->step() ? stmt->integer(0) : -1;
  };
  {
    auto tx = transaction::begin(db_);
    ASSERT_TRUE(tx) << tx.error().message();
    ASSERT_TRUE(db_.exec("INSERT INTO t (x) VALUES (1)"));
  }
  EXPECT_EQ(count(), 0);
  EXPECT_EQ(commits, 0);
  {
    auto tx = transaction::begin(db_);
    ASSERT_TRUE(tx);
    ASSERT_TRUE(db_.exec("INSERT INTO t (x) VALUES (2)"));
    ASSERT_TRUE(tx->commit());
  }
  EXPECT_EQ(count(), 1);
  EXPECT_EQ(commits, 1);
}

TEST_P(database, keeps_the_schema_version_with_the_transaction) {
  auto version = db_.schema_version();
  ASSERT_TRUE(version) << version.error().message();
  EXPECT_EQ(*version, 0);
  {
    auto tx = transaction::begin(db_);
    ASSERT_TRUE(tx);
    ASSERT_TRUE(db_.set_schema_version(3));
    EXPECT_EQ(db_.schema_version().value(), 3);
  }
  EXPECT_EQ(db_.schema_version().value(), 0);  // rolled back
  auto tx = transaction::begin(db_);
  ASSERT_TRUE(tx);
  ASSERT_TRUE(db_.set_schema_version(4));
  ASSERT_TRUE(db_.set_schema_version(5));
  ASSERT_TRUE(tx->commit());
  EXPECT_EQ(scratch_.open().schema_version().value(), 5);
}

TEST_P(database, writers_wait_for_each_other) {
  exec("CREATE TABLE t (x INTEGER NOT NULL)");
  auto other = scratch_.open();
  auto tx = transaction::begin(db_);
  ASSERT_TRUE(tx);
  std::atomic<bool> began{false};
  std::int64_t seen = -1;
  std::thread second([&] {
    auto tx2 = transaction::begin(other);
    began = true;
    if (!tx2) return;
    // Inside, it sees what the first writer committed.
    auto stmt = other.prepare("SELECT COUNT(*) FROM t");
    if (stmt && *stmt->step()) seen = stmt->integer(0);
    (void)tx2->commit();
  });
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(began);
  ASSERT_TRUE(db_.exec("INSERT INTO t (x) VALUES (1)"));
  ASSERT_TRUE(tx->commit());
  second.join();
  EXPECT_TRUE(began);
  EXPECT_EQ(seen, 1);
}

// What the store's budgets rely on: read, check, write in one transaction
// never loses another writer's change.
TEST_P(database, read_check_write_loses_no_update) {
  exec("CREATE TABLE counter (n INTEGER NOT NULL); INSERT INTO counter (n) VALUES (0);");
  constexpr int threads = 3, rounds = 20;
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < threads; ++w)
    workers.emplace_back([&] {
      auto db = scratch_.open();
      for (int i = 0; i < rounds; ++i) {
        auto tx = transaction::begin(db);
        auto read = db.prepare("SELECT n FROM counter");
        if (!tx || !read || !*read->step()) {
          ++failures;
          continue;
        }
        const std::int64_t n = read->integer(0);
        std::this_thread::yield();
        auto write = db.prepare("UPDATE counter SET n = ?");
        if (!write || !write->bind(n + 1).run() || !tx->commit()) ++failures;
      }
    });
  for (auto& w : workers) w.join();
  EXPECT_EQ(failures, 0);
  auto stmt = db_.prepare("SELECT n FROM counter");
  ASSERT_TRUE(stmt && *stmt->step());
  EXPECT_EQ(stmt->integer(0), threads * rounds);
}

TEST_P(database, a_writer_that_waits_too_long_is_busy) {
  auto other = scratch_.open();
  testing::exec_or_throw(other, GetParam() == backend::sqlite ? "PRAGMA busy_timeout = 100"
                                                              : "SET lock_timeout = '100ms'");
  {
    auto tx = transaction::begin(db_);
    ASSERT_TRUE(tx);
    auto waited = transaction::begin(other);
    ASSERT_FALSE(waited);
    EXPECT_EQ(waited.error(), errc::busy) << waited.error().message();
  }
  auto later = transaction::begin(other);
  EXPECT_TRUE(later);
}

TEST_P(database, notifications_do_nothing_on_sqlite_and_arrive_on_postgresql) {
  auto listener = scratch_.open();
  ASSERT_TRUE(listener.listen("wake"));
  ASSERT_TRUE(db_.notify("wake", "r1"));
  if (GetParam() == backend::sqlite) {
    EXPECT_EQ(listener.notification_fd(), -1);
    auto none = listener.notifications();
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
    return;
  }
  EXPECT_GE(listener.notification_fd(), 0);
  std::vector<notification> got;
  // Up to 10 s: the listener's backend sends it when PostgreSQL schedules it.
  for (int i = 0; i < 500 && got.empty(); ++i) {
    auto some = listener.notifications();
    ASSERT_TRUE(some);
    got = *some;
    if (got.empty()) std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].channel, "wake");
  EXPECT_EQ(got[0].payload, "r1");
}

INSTANTIATE_TEST_SUITE_P(backends, database,
                         ::testing::Values(backend::sqlite, backend::postgresql),
                         testing::backend_name);

}  // namespace
}  // namespace valise::server::sql
