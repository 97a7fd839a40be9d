#include "store/copy_database.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "sql/sql.hpp"
#include "store/connection_url.hpp"
#include "store/schema.hpp"
#include "valise/server/store/types.hpp"

namespace valise::server {
namespace {

// The one table a new database has a row in: migration 4 writes where the
// keyed audit records begin. The copy replaces it with the source's.
constexpr std::string_view made_by_migrations = "audit_keyed";

enum class kind { integer, text, blob };

struct column {
  std::string name;
  kind type = kind::text;
};

struct table {
  std::string name;
  std::vector<column> columns;
  std::set<std::string> references;  // tables its foreign keys name
};

std::string quoted(const std::string& name) {
  return "\"" + name + "\"";
}

result<std::vector<std::string>> strings(sql::connection& db, const std::string& query,
                                         std::optional<std::string> arg = std::nullopt) {
  auto stmt = db.prepare(query);
  if (!stmt) return stmt.error();
  if (arg) stmt->bind(*arg);
  std::vector<std::string> out;
  if (auto r = stmt->each([&] { out.push_back(stmt->text(0)); }); !r) return r.error();
  return out;
}

// The source's tables, each after the tables it references.
result<std::vector<table>> tables_in_order(sql::connection& db) {
  auto names = strings(db,
                       "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                       "'sqlite\\_%' ESCAPE '\\' ORDER BY name");
  if (!names) return names.error();
  std::map<std::string, table> all;
  for (const auto& name : *names) {
    table t{name, {}, {}};
    auto stmt = db.prepare("SELECT name, upper(type) FROM pragma_table_info(?)");
    if (!stmt) return stmt.error();
    stmt->bind(name);
    if (auto r = stmt->each([&] {
          const std::string type = stmt->text(1);
          t.columns.push_back({stmt->text(0), type.find("INT") != std::string::npos ? kind::integer
                                              : type.find("BLOB") != std::string::npos
                                                  ? kind::blob
                                                  : kind::text});
        });
        !r)
      return r.error();
    auto refs = strings(db, "SELECT \"table\" FROM pragma_foreign_key_list(?)", name);
    if (!refs) return refs.error();
    for (const auto& r : *refs)
      if (r != name) t.references.insert(r);
    all.emplace(name, std::move(t));
  }
  std::vector<table> ordered;
  std::set<std::string> placed;
  while (ordered.size() < all.size()) {
    const auto before = ordered.size();
    for (auto& [name, t] : all)
      if (!placed.contains(name) &&
          std::ranges::all_of(t.references, [&](const auto& r) { return placed.contains(r); })) {
        ordered.push_back(t);
        placed.insert(name);
      }
    if (ordered.size() == before) return store_errc::corrupt;  // a cycle of foreign keys
  }
  return ordered;
}

result<std::int64_t> count_rows(sql::connection& db, const std::string& table) {
  auto stmt = db.prepare("SELECT COUNT(*) FROM " + quoted(table));
  if (!stmt) return stmt.error();
  auto row = stmt->step();
  if (!row) return row.error();
  return stmt->integer(0);
}

// The data directory's lock, which a running valise-server holds
// (store::open): none, or ours until the copy is over.
class directory_lock {
 public:
  directory_lock() = default;
  directory_lock(const directory_lock&) = delete;
  directory_lock& operator=(const directory_lock&) = delete;
  ~directory_lock() {
    if (fd_ >= 0) ::close(fd_);
  }
  // false: a server holds it, or the lock file cannot be opened (another
  // user's: whether a server runs cannot be told, so as if one did). A
  // directory with no lock file has never been served: nothing to take (and
  // none made, which root would then own).
  bool take(const std::filesystem::path& dir) {
    fd_ = ::open((dir / "valise.lock").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return errno == ENOENT;
    return ::flock(fd_, LOCK_EX | LOCK_NB) == 0;
  }

 private:
  int fd_ = -1;
};

// Each of the target's identity columns (rowid, audit.seq) continues after
// the largest value copied.
result<void> move_identities_past_copied_rows(sql::connection& to, std::string& why) {
  auto columns = to.prepare(
      "SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
      "WHERE a.attidentity <> '' AND NOT a.attisdropped AND c.relkind = 'r' "
      "AND c.relnamespace = current_schema()::regnamespace ORDER BY c.relname, a.attname");
  if (!columns) return columns.error();
  std::vector<std::pair<std::string, std::string>> found;
  if (auto r = columns->each([&] { found.emplace_back(columns->text(0), columns->text(1)); }); !r) {
    why = "cannot list the target's identity columns: " + to.error_message();
    return r.error();
  }
  for (const auto& [table, column] : found) {
    auto next = to.prepare("SELECT setval(pg_get_serial_sequence(?, ?), COALESCE(MAX(" +
                           quoted(column) + "), 0) + 1, false) FROM " + quoted(table));
    if (!next) return next.error();
    if (auto r = next->bind(quoted(table)).bind(column).step(); !r) {
      why = "cannot set the next " + column + " of " + table + ": " + to.error_message();
      return r.error();
    }
  }
  return {};
}

// Copies table `t`'s rows, one INSERT prepared for them all. SQLite keeps
// whatever a value is: an integer column holding text is refused by name,
// not copied as 0.
result<void> copy_rows(sql::connection& from, sql::connection& to, const table& t,
                       std::string& why) {
  std::string names = "rowid", marks = "?", types;
  for (const auto& c : t.columns) {
    names += ", " + quoted(c.name);
    marks += ", ?";
    types += ", typeof(" + quoted(c.name) + ")";
  }
  const int n = static_cast<int>(t.columns.size());
  auto read =
      from.prepare("SELECT " + names + types + " FROM " + quoted(t.name) + " ORDER BY rowid");
  if (!read) {
    why = "cannot read table " + t.name + ": " + from.error_message();
    return read.error();
  }
  auto insert =
      to.prepare("INSERT INTO " + quoted(t.name) + " (" + names + ") VALUES (" + marks + ")");
  if (!insert) {
    why = "cannot write table " + t.name + ": " + to.error_message();
    return insert.error();
  }
  std::error_code failed;
  auto each = read->each([&] {
    if (failed) return;
    const std::int64_t rowid = read->integer(0);
    insert->reset();
    insert->bind(rowid);
    for (int i = 0; i < n; ++i) {
      const auto& c = t.columns[static_cast<std::size_t>(i)];
      const int at = i + 1;
      const std::string stored = read->text(n + 1 + i);
      if (c.type == kind::integer && stored != "integer" && stored != "null") {
        why = "table " + t.name + ", rowid " + std::to_string(rowid) + ": column " + c.name +
              " holds " + stored + " where an integer belongs";
        failed = store_errc::corrupt;
        return;
      }
      if (read->is_null(at))
        insert->bind_null();
      else if (c.type == kind::integer)
        insert->bind(read->integer(at));
      else if (c.type == kind::blob)
        insert->bind_blob(read->text(at));
      else
        insert->bind(read->text(at));
    }
    if (auto r = insert->run(); !r) {
      why = "cannot copy rowid " + std::to_string(rowid) + " of table " + t.name + ": " +
            to.error_message();
      failed = r.error();
    }
  });
  if (!each) {
    why = "cannot read table " + t.name + ": " + from.error_message();
    return each.error();
  }
  if (failed) return failed;
  return {};
}

}  // namespace

result<copy_report> copy_database(const std::filesystem::path& from_file,
                                  const database_settings& to_settings, std::string& why) {
  const std::filesystem::path dir =
      from_file.has_parent_path() ? from_file.parent_path() : std::filesystem::path(".");
  directory_lock lock;
  if (!lock.take(dir)) {
    why = "valise-server is running on " + dir.string() + ": stop it first";
    return store_errc::locked;
  }
  // Read-only: the source stays as it is, whatever happens (no migration,
  // no WAL switch, no file created where there was none).
  auto from = sql::connection::open_read_only(from_file);
  if (!from) {
    why = "cannot open " + from_file.string() + ": " + from.error().message();
    return from.error();
  }
  // One snapshot for the whole copy: a `valise-server token create` meanwhile
  // goes in after it, or waits.
  if (auto r = from->exec("BEGIN"); !r) {
    why = "cannot read " + from_file.string() + ": " + from->error_message();
    return r.error();
  }
  auto version = from->schema_version();
  if (!version) {
    why = "cannot read " + from_file.string() + ": " + from->error_message();
    return version.error();
  }
  const int current = static_cast<int>(schema::migration_scripts().size());
  if (*version > current) {
    why = from_file.string() + " was written by a newer valise-server (schema " +
          std::to_string(*version) + ", this one knows " + std::to_string(current) +
          "): migrate with that version";
    return store_errc::schema_too_new;
  }
  if (*version == 0) {
    why = from_file.string() + " holds no valise metadata";
    return store_errc::not_found;
  }
  if (*version < current) {
    why = "upgrade " + dir.string() + " first: start this version's valise-server once";
    return store_errc::bad_state;
  }

  if (auto where = sql::parse_url(to_settings.url);
      !where || where->kind != sql::backend::postgresql) {
    why = "the target must be a postgresql:// URL";
    return std::make_error_code(std::errc::invalid_argument);
  }
  auto to_url = connection_url(to_settings, &why);
  if (!to_url) return to_url.error();
  std::string answer;
  auto to = sql::connection::open(to_url->value, answer);
  if (!to) {
    why = "cannot open " + redacted_url(to_settings.url) + ": " + answer;
    return to.error();
  }
  if (auto r = schema::migrate(*to); !r) {
    why = "cannot bring " + redacted_url(to_settings.url) +
          " to the current schema: " + r.error().message() + " (" + to->error_message() + ")";
    return r.error();
  }
  auto tables = tables_in_order(*from);
  if (!tables) {
    why = "cannot read the tables of " + from_file.string() + ": " + from->error_message();
    return tables.error();
  }

  copy_report report;
  auto tx = sql::transaction::begin(*to);
  if (!tx) {
    why = "cannot begin a transaction on the target: " + to->error_message();
    return tx.error();
  }
  // Under the writers' lock: a server started on the target meanwhile
  // cannot write between this check and the copy.
  for (const auto& t : *tables) {
    if (t.name == made_by_migrations) continue;
    auto n = count_rows(*to, t.name);
    if (!n) {
      why = "cannot read table " + t.name + " of the target: " + to->error_message();
      return n.error();
    }
    if (*n > 0) {
      why = "the target database is not empty (table " + t.name +
            " has rows): migrate only fills a new database";
      return store_errc::already_exists;
    }
  }
  if (auto r = to->exec("DELETE FROM audit_keyed"); !r) {
    why = "cannot empty audit_keyed on the target: " + to->error_message();
    return r.error();
  }
  for (const auto& t : *tables) {
    if (auto r = copy_rows(*from, *to, t, why); !r) return r.error();
    auto source_rows = count_rows(*from, t.name);
    auto target_rows = count_rows(*to, t.name);
    if (!source_rows || !target_rows || *source_rows != *target_rows) {
      why = "table " + t.name + ": the row counts differ after the copy";
      return store_errc::corrupt;
    }
    ++report.tables;
    report.rows += static_cast<std::uint64_t>(*source_rows);
  }
  // New rows are numbered after the copied ones.
  if (auto r = move_identities_past_copied_rows(*to, why); !r) return r.error();
  if (auto r = tx->commit(); !r) {
    why = "cannot commit the copy: " + to->error_message();
    return r.error();
  }
  (void)from->exec("ROLLBACK");  // the snapshot: nothing was written
  return report;
}

}  // namespace valise::server
