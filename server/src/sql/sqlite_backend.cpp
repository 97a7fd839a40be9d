// SQLite under sql.hpp: the behaviour store/sqlite.cpp had (WAL, a busy
// timeout for other processes, BEGIN IMMEDIATE), with extended result codes
// so that a UNIQUE violation can be told from other constraints.
#include <sqlite3.h>

#include "sql/backend.hpp"

namespace valise::server::sql {
namespace {

// Text bind_text refuses (what PostgreSQL cannot store), as an extended code
// of SQLITE_MISMATCH that SQLite does not use: a plain SQLITE_MISMATCH (a
// datatype mismatch) is not invalid text.
constexpr int unstorable_text = SQLITE_MISMATCH | (0x7f << 8);

class sqlite_errors final : public std::error_category {
 public:
  const char* name() const noexcept override { return "sqlite"; }
  std::string message(int code) const override {
    if (code == unstorable_text) return "database: text with a NUL byte or not UTF-8";
    return std::string("database: ") + sqlite3_errstr(code);
  }
  bool equivalent(int code, const std::error_condition& condition) const noexcept override {
    if (condition.category() != condition_category()) return false;
    switch (static_cast<errc>(condition.value())) {
      case errc::unique_violation:
        return code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY;
      case errc::constraint_violation:
        return (code & 0xff) == SQLITE_CONSTRAINT;
      case errc::busy:
        return (code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED;
      case errc::connection_lost:
        return (code & 0xff) == SQLITE_CANTOPEN;
      case errc::invalid_statement:
        return code == SQLITE_ERROR || code == SQLITE_RANGE;
      case errc::invalid_text:
        return code == unstorable_text;  // bind_text refused it, as PostgreSQL would
      case errc::corrupt:
        return (code & 0xff) == SQLITE_CORRUPT || code == SQLITE_NOTADB;
      case errc::full:
        return code == SQLITE_FULL;
    }
    return false;
  }
};

// UTF-8 without NUL: what a PostgreSQL database (UTF8) accepts as text.
bool storable_text(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    const unsigned char c = *p;
    if (c == 0) return false;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int more = 0;
    std::uint32_t cp = 0;
    if (c >= 0xc2 && c <= 0xdf) {
      more = 1, cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      more = 2, cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      more = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= more) return false;
    for (int i = 1; i <= more; ++i) {
      if ((p[i] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3f);
    }
    // Overlong forms, surrogates, past U+10FFFF.
    if ((more == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (more == 3 && (cp < 0x10000 || cp > 0x10ffff)))
      return false;
    p += more + 1;
  }
  return true;
}

std::error_code make_error(int code) {
  return {code, sqlite_category()};
}

class sqlite_statement final : public detail::statement_impl {
 public:
  explicit sqlite_statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~sqlite_statement() override { sqlite3_finalize(stmt_); }

  void bind_text(std::string_view text) override {
    // What PostgreSQL cannot store is refused here too, so that a client
    // sending it gets the same answer whichever database the server uses.
    if (!storable_text(text)) bind_error_ = unstorable_text;
    // A null data() would bind SQL NULL, not an empty string.
    note(sqlite3_bind_text(stmt_, next_++, text.data() ? text.data() : "",
                           static_cast<int>(text.size()), SQLITE_TRANSIENT));
  }
  void bind_integer(std::int64_t value) override {
    note(sqlite3_bind_int64(stmt_, next_++, value));
  }
  void bind_blob(std::string_view bytes) override {
    note(sqlite3_bind_blob(stmt_, next_++, bytes.data(), static_cast<int>(bytes.size()),
                           SQLITE_TRANSIENT));
  }
  void bind_null() override { note(sqlite3_bind_null(stmt_, next_++)); }

  result<bool> step() override {
    // result<bool> would take an error_code for a bool: say which is meant.
    if (bind_error_ != SQLITE_OK) return {boost::system::in_place_error, make_error(bind_error_)};
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return {boost::system::in_place_error, make_error(rc)};
  }

  std::string text(int column) const override {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
             : std::string();
  }
  std::int64_t integer(int column) const override { return sqlite3_column_int64(stmt_, column); }
  bool is_null(int column) const override {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
  }
  void reset() override {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    next_ = 1;
    bind_error_ = SQLITE_OK;
  }

 private:
  void note(int rc) {
    if (rc != SQLITE_OK) bind_error_ = rc;
  }
  sqlite3_stmt* stmt_;
  int next_ = 1;
  int bind_error_ = SQLITE_OK;
};

class sqlite_connection final : public detail::connection_impl {
 public:
  explicit sqlite_connection(sqlite3* db) : db_(db) {}
  ~sqlite_connection() override { sqlite3_close_v2(db_); }

  backend kind() const override { return backend::sqlite; }

  result<void> exec(const char* sql) override {
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return make_error(rc);
    return {};
  }

  result<std::unique_ptr<detail::statement_impl>> prepare(std::string_view sql) override {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
    if (rc != SQLITE_OK) return make_error(rc);
    return std::unique_ptr<detail::statement_impl>(std::make_unique<sqlite_statement>(stmt));
  }

  std::int64_t changes() const override { return sqlite3_changes64(db_); }
  std::string error_message() const override { return sqlite3_errmsg(db_); }

  result<int> schema_version() override {
    auto stmt = prepare("PRAGMA user_version");
    if (!stmt) return stmt.error();
    auto row = (*stmt)->step();
    if (!row) return row.error();
    return static_cast<int>((*stmt)->integer(0));
  }
  result<void> set_schema_version(int version) override {
    const std::string sql = "PRAGMA user_version = " + std::to_string(version);
    return exec(sql.c_str());
  }

  // BEGIN IMMEDIATE: the write lock at once, so reads inside see what the
  // write will build on.
  result<void> begin() override { return exec("BEGIN IMMEDIATE"); }
  result<void> commit() override { return exec("COMMIT"); }
  void rollback() override { (void)exec("ROLLBACK"); }

  // One process holds a SQLite database: on_commit wakes its waiters.
  result<void> listen(std::string_view) override { return {}; }
  result<void> notify(std::string_view, std::string_view) override { return {}; }
  int notification_fd() const override { return -1; }
  result<std::vector<notification>> notifications() override { return std::vector<notification>{}; }
  std::uint64_t generation() const override { return 0; }  // a file is never "lost"
  result<void> set_application_name(std::string_view) override { return {}; }

 private:
  sqlite3* db_;
};

}  // namespace

const std::error_category& sqlite_category() {
  static const sqlite_errors instance;
  return instance;
}

namespace detail {

result<std::unique_ptr<connection_impl>> open_sqlite(const std::filesystem::path& file,
                                                     bool read_only) {
  sqlite3* db = nullptr;
  const int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(file.c_str(), &db, flags | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_close(db);
    return make_error(rc);
  }
  auto c = std::make_unique<sqlite_connection>(db);
  sqlite3_extended_result_codes(db, 1);
  // Other processes (`valise-server token create`) share the file: wait for
  // their short write locks instead of failing.
  sqlite3_busy_timeout(db, 10'000);
  if (read_only) return std::unique_ptr<connection_impl>(std::move(c));
  // synchronous=FULL: an acknowledged change (a bundle, its audit record)
  // survives power loss, not only a crash of the process. PostgreSQL has
  // both of these by default.
  if (auto r = c->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                       "PRAGMA foreign_keys=ON;");
      !r)
    return r.error();
  return std::unique_ptr<connection_impl>(std::move(c));
}

}  // namespace detail
}  // namespace valise::server::sql
