#include "store/copy_database.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "sql/sql.hpp"
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
                                         const std::string& arg = {}) {
  auto stmt = db.prepare(query);
  if (!stmt) return stmt.error();
  if (!arg.empty()) stmt->bind(arg);
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

}  // namespace

result<copy_report> copy_database(std::string_view from_url, std::string_view to_url,
                                  std::string& why) {
  std::string answer;
  auto from = sql::connection::open(from_url, answer);
  if (!from) {
    why = "cannot open " + std::string(from_url) + ": " + answer;
    return from.error();
  }
  auto to = sql::connection::open(to_url, answer);
  if (!to) {
    why = "cannot open " + redacted_url(to_url) + ": " + answer;
    return to.error();
  }
  if (from->kind() != sql::backend::sqlite) {
    why = "--from must be an SQLite database (a data directory or sqlite:PATH)";
    return std::make_error_code(std::errc::invalid_argument);
  }
  for (auto* db : {&*from, &*to})
    if (auto r = schema::migrate(*db); !r) {
      why = "cannot bring " + (db == &*from ? std::string(from_url) : redacted_url(to_url)) +
            " to the current schema: " + r.error().message() + " (" + db->error_message() + ")";
      return r.error();
    }
  auto tables = tables_in_order(*from);
  if (!tables) {
    why = "cannot read the tables of " + std::string(from_url) + ": " + from->error_message();
    return tables.error();
  }
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

  copy_report report;
  auto tx = sql::transaction::begin(*to);
  if (!tx) {
    why = "cannot begin a transaction on the target: " + to->error_message();
    return tx.error();
  }
  if (auto r = to->exec("DELETE FROM audit_keyed"); !r) {
    why = "cannot empty audit_keyed on the target: " + to->error_message();
    return r.error();
  }
  for (const auto& t : *tables) {
    std::string names = "rowid", marks = "?";
    for (const auto& c : t.columns) {
      names += ", " + quoted(c.name);
      marks += ", ?";
    }
    auto read = from->prepare("SELECT " + names + " FROM " + quoted(t.name) + " ORDER BY rowid");
    if (!read) return read.error();
    auto write = "INSERT INTO " + quoted(t.name) + " (" + names + ") VALUES (" + marks + ")";
    std::error_code failed;
    std::int64_t failed_row = 0;
    auto each = read->each([&] {
      if (failed) return;
      auto insert = to->prepare(write);
      if (!insert) {
        failed = insert.error();
        return;
      }
      insert->bind(read->integer(0));
      for (std::size_t i = 0; i < t.columns.size(); ++i) {
        const int at = static_cast<int>(i) + 1;
        if (read->is_null(at))
          insert->bind_null();
        else if (t.columns[i].type == kind::integer)
          insert->bind(read->integer(at));
        else if (t.columns[i].type == kind::blob)
          insert->bind_blob(read->text(at));
        else
          insert->bind(read->text(at));
      }
      if (auto r = insert->run(); !r) {
        failed = r.error();
        failed_row = read->integer(0);
      }
    });
    if (!each) {
      why = "cannot read table " + t.name + ": " + from->error_message();
      return each.error();
    }
    if (failed) {
      why = "cannot copy row " + std::to_string(failed_row) + " of table " + t.name + ": " +
            to->error_message();
      return failed;
    }
    // New rows are numbered after the copied ones.
    if (to->kind() == sql::backend::postgresql) {
      auto next = to->prepare(
          "SELECT setval(pg_get_serial_sequence(?, 'rowid'), "
          "COALESCE(MAX(rowid), 0) + 1, false) FROM " +
          quoted(t.name));
      if (!next) return next.error();
      if (auto r = next->bind(t.name).step(); !r) {
        why = "cannot set the next rowid of " + t.name + ": " + to->error_message();
        return r.error();
      }
    }
    auto source_rows = count_rows(*from, t.name);
    auto target_rows = count_rows(*to, t.name);
    if (!source_rows || !target_rows || *source_rows != *target_rows) {
      why = "table " + t.name + ": the row counts differ after the copy";
      return store_errc::corrupt;
    }
    ++report.tables;
    report.rows += static_cast<std::uint64_t>(*source_rows);
  }
  if (auto r = tx->commit(); !r) {
    why = "cannot commit the copy: " + to->error_message();
    return r.error();
  }
  return report;
}

}  // namespace valise::server
