// The store's migrations on PostgreSQL (through postgresql_ddl) give the
// tables and columns they give on SQLite, and behave the same.
#include <map>

#include "scratch_database.hpp"
#include "store/schema.hpp"

namespace valise::server::sql {
namespace {

struct column {
  std::string type;  // as PostgreSQL names it
  bool not_null = false;
  auto operator<=>(const column&) const = default;
};
using table_columns = std::map<std::string, std::map<std::string, column>>;

void migrate(const testing::scratch_database& scratch, connection& db, std::size_t from,
             std::size_t to) {
  const auto scripts = schema::migration_scripts();
  for (std::size_t i = from; i < to && i < scripts.size(); ++i) {
    auto tx = transaction::begin(db);
    ASSERT_TRUE(tx) << tx.error().message();
    auto version = db.schema_version();
    ASSERT_TRUE(version);
    ASSERT_EQ(*version, static_cast<int>(i));
    const std::string script = scratch.ddl(scripts[i]);
    auto r = db.exec(script.c_str());
    ASSERT_TRUE(r) << "migration " << i + 1 << ": " << db.error_message() << "\n" << script;
    ASSERT_TRUE(db.set_schema_version(static_cast<int>(i + 1)));
    ASSERT_TRUE(tx->commit());
  }
}

std::vector<std::string> strings(connection& db, const std::string& sql,
                                 const std::string& arg = {}) {
  std::vector<std::string> out;
  auto stmt = db.prepare(sql);
  if (!stmt) throw std::runtime_error(sql + ": " + db.error_message());
  if (!arg.empty()) stmt->bind(arg);
  if (auto r = stmt->each([&] { out.push_back(stmt->text(0)); }); !r)
    throw std::runtime_error(sql + ": " + db.error_message());
  return out;
}

// SQLite's view, in PostgreSQL's terms: INTEGER is int8, BLOB bytea, a
// NOCASE column citext; a PRIMARY KEY column is NOT NULL (SQLite lets a
// non-INTEGER key hold NULL, a historical quirk; the store never writes one).
table_columns sqlite_columns(connection& db) {
  table_columns out;
  for (const auto& table :
       strings(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")) {
    auto stmt = db.prepare(
        "SELECT name, type, \"notnull\", pk, "
        "(SELECT sql FROM sqlite_master WHERE name = ?1) FROM pragma_table_info(?1)");
    EXPECT_TRUE(stmt);
    stmt->bind(table);
    EXPECT_TRUE(stmt->each([&] {
      const std::string name = stmt->text(0), type = stmt->text(1), sql = stmt->text(4);
      const bool nocase =
          sql.find(name + " TEXT PRIMARY KEY COLLATE NOCASE") != std::string::npos ||
          sql.find(name + " TEXT NOT NULL COLLATE NOCASE") != std::string::npos;
      const std::string pg_type = type == "INTEGER" ? "int8"
                                  : type == "BLOB"  ? "bytea"
                                  : nocase          ? "citext"
                                                    : "text";
      out[table][name] = {pg_type, stmt->integer(2) != 0 || stmt->integer(3) != 0};
    }));
  }
  return out;
}

table_columns postgresql_columns(connection& db) {
  table_columns out;
  for (const auto& table : strings(db,
                                   "SELECT table_name FROM information_schema.tables WHERE "
                                   "table_schema = 'public' ORDER BY table_name")) {
    auto stmt = db.prepare(
        "SELECT column_name, udt_name, is_nullable FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name = ?");
    EXPECT_TRUE(stmt);
    stmt->bind(table);
    EXPECT_TRUE(stmt->each([&] {
      out[table][stmt->text(0)] = {stmt->text(1), stmt->text(2) == "NO"};
    }));
  }
  return out;
}

TEST(migrations, give_postgresql_the_tables_and_columns_they_give_sqlite) {
  testing::scratch_database lite(backend::sqlite), pg(backend::postgresql);
  auto lite_db = lite.open();
  auto pg_db = pg.open();
  migrate(lite, lite_db, 0, schema::migration_scripts().size());
  migrate(pg, pg_db, 0, schema::migration_scripts().size());
  auto expected = sqlite_columns(lite_db);
  auto got = postgresql_columns(pg_db);
  ASSERT_GE(expected.size(), 15u);
  EXPECT_EQ(expected["users"]["name"].type, "citext");
  EXPECT_EQ(expected["sessions"]["user"].type, "citext");
  // PostgreSQL keeps the version in a table (SQLite: PRAGMA user_version).
  ASSERT_EQ(got.erase("schema_version"), 1u);
  // PostgreSQL's tables also have SQLite's implicit rowid.
  for (auto& [table, columns] : expected) columns["rowid"] = {"int8", true};
  EXPECT_EQ(got, expected);

  // Every column reads by its bare name (PostgreSQL reserves `user`: quoted).
  for (const auto& [table, columns] : got)
    for (const auto& [name, c] : columns) {
      const std::string sql = "SELECT " + (name == "user" ? "\"user\"" : name) + " FROM " + table;
      EXPECT_TRUE(pg_db.prepare(sql) && pg_db.prepare(sql)->run()) << sql;
    }

  // Text compares and sorts byte by byte, as on SQLite.
  auto other_order = strings(pg_db,
                             "SELECT table_name || '.' || column_name FROM "
                             "information_schema.columns WHERE table_schema = 'public' AND "
                             "udt_name = 'text' AND collation_name IS DISTINCT FROM 'C'");
  EXPECT_TRUE(other_order.empty()) << other_order.front();

  // And every named index is there.
  for (const auto& index : strings(lite_db,
                                   "SELECT name FROM sqlite_master WHERE type = 'index' AND "
                                   "sql IS NOT NULL")) {
    auto found = strings(pg_db, "SELECT indexname FROM pg_indexes WHERE indexname = ?", index);
    EXPECT_EQ(found.size(), 1u) << index;
  }
}

class migrated : public ::testing::TestWithParam<backend> {
 protected:
  testing::scratch_database scratch_{GetParam()};
  connection db_ = scratch_.open();

  void run(const std::string& sql, const std::vector<std::string>& args = {}) {
    auto stmt = db_.prepare(sql);
    ASSERT_TRUE(stmt) << sql;
    for (const auto& a : args) stmt->bind(a);
    auto r = stmt->run();
    ASSERT_TRUE(r) << sql << ": " << db_.error_message();
  }
};

TEST_P(migrated, fill_in_the_first_response_of_tickets_made_before) {
  migrate(scratch_, db_, 0, 7);
  run("INSERT INTO tickets (ref, title, severity, status, created_at) "
      "VALUES ('T1', 't', 'low', 'open', 100), ('T2', 't', 'low', 'open', 100)");
  run("INSERT INTO comments (id, ticket_ref, author_name, author_kind, created_at, text) "
      "VALUES ('c1', 'T1', 'ann', 'user', 150, 'hello')");
  migrate(scratch_, db_, 7, schema::migration_scripts().size());
  auto stmt = db_.prepare("SELECT ref, first_response_at FROM tickets ORDER BY ref");
  ASSERT_TRUE(stmt && *stmt->step());
  EXPECT_EQ(stmt->integer(1), 150);
  ASSERT_TRUE(*stmt->step());
  EXPECT_TRUE(stmt->is_null(1));
}

TEST_P(migrated, user_names_ignore_case_as_sqlite_nocase_does) {
  migrate(scratch_, db_, 0, schema::migration_scripts().size());
  for (const char* name : {"bob", "Alice", "Carol"})
    run("INSERT INTO users (name, role, password_hash, created_at) VALUES (?, 'admin', 'x', 1)",
        {name});
  auto again = db_.prepare(
      "INSERT INTO users (name, role, password_hash, created_at) VALUES (?, 'admin', 'x', 1)");
  ASSERT_TRUE(again);
  auto r = again->bind("ALICE").run();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::unique_violation);

  auto found = db_.prepare("SELECT name FROM users WHERE name = ?");
  ASSERT_TRUE(found && *found->bind("aLiCe").step());
  EXPECT_EQ(found->text(0), "Alice");
  EXPECT_EQ(strings(db_, "SELECT name FROM users ORDER BY name"),
            (std::vector<std::string>{"Alice", "bob", "Carol"}));

  // A session names its user in any case; the join and the foreign key agree.
  auto session = db_.prepare(
      "INSERT INTO sessions (id_sha256, \"user\", csrf, created_at, last_used_at) "
      "VALUES (?, ?, 'c', 1, 1)");
  ASSERT_TRUE(session);
  ASSERT_TRUE(session->bind_blob(std::string("\x00\x01", 2)).bind("BOB").run());
  auto joined = db_.prepare(
      "SELECT u.name FROM sessions s JOIN users u ON u.name = s.user WHERE s.id_sha256 = ?");
  ASSERT_TRUE(joined && *joined->bind_blob(std::string("\x00\x01", 2)).step());
  EXPECT_EQ(joined->text(0), "bob");
}

TEST_P(migrated, keep_insertion_order_through_rowid) {
  migrate(scratch_, db_, 0, schema::migration_scripts().size());
  for (const char* ref : {"T3", "T1", "T2"})
    run("INSERT INTO tickets (ref, title, severity, status, created_at) "
        "VALUES (?, 't', 'low', 'open', 100)",
        {ref});
  EXPECT_EQ(strings(db_, "SELECT ref FROM tickets ORDER BY created_at, rowid"),
            (std::vector<std::string>{"T3", "T1", "T2"}));
}

TEST_P(migrated, sort_text_byte_by_byte) {
  migrate(scratch_, db_, 0, schema::migration_scripts().size());
  for (const char* ref : {"b", "B", "a", "_x"})
    run("INSERT INTO tickets (ref, title, severity, status, created_at) "
        "VALUES (?, 't', 'low', 'open', 100)",
        {ref});
  EXPECT_EQ(strings(db_, "SELECT ref FROM tickets ORDER BY ref"),
            (std::vector<std::string>{"B", "_x", "a", "b"}));
  EXPECT_EQ(strings(db_, "SELECT ref FROM tickets WHERE ref < 'a' ORDER BY ref"),
            (std::vector<std::string>{"B", "_x"}));
}

INSTANTIATE_TEST_SUITE_P(backends, migrated,
                         ::testing::Values(backend::sqlite, backend::postgresql),
                         testing::backend_name);

}  // namespace
}  // namespace valise::server::sql
