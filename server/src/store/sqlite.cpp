#include "store/sqlite.hpp"

#include <sqlite3.h>

namespace valise::server::sqlite {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "sqlite"; }
  std::string message(int code) const override {
    return std::string("database: ") + sqlite3_errstr(code);
  }
};

}  // namespace

const std::error_category& sqlite_category() {
  static const category instance;
  return instance;
}

std::error_code make_error(int code) {
  return {code & 0xff, sqlite_category()};
}

std::int64_t connection::changes() const {
  return sqlite3_changes64(db_);
}

result<connection> connection::open(const std::filesystem::path& file) {
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(file.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_close(db);
    return make_error(rc);
  }
  connection c(db);
  // Other processes (`valise-server token create`) share the file: wait for
  // their short write locks instead of failing.
  sqlite3_busy_timeout(db, 10'000);
  return c;
}

connection::~connection() {
  if (db_) sqlite3_close_v2(db_);
}

result<void> connection::exec(const char* sql) {
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return make_error(rc);
  return {};
}

result<statement> connection::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return make_error(rc);
  return statement(stmt);
}

statement::~statement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

statement& statement::bind(std::string_view text) {
  // A null data() would bind SQL NULL, not an empty string.
  int rc = sqlite3_bind_text(stmt_, next_++, text.data() ? text.data() : "",
                             static_cast<int>(text.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) bind_error_ = rc;
  return *this;
}

statement& statement::bind(std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, next_++, value);
  if (rc != SQLITE_OK) bind_error_ = rc;
  return *this;
}

statement& statement::bind(std::optional<std::uint64_t> value) {
  return value ? bind(*value) : bind_null();
}

statement& statement::bind_blob(std::string_view bytes) {
  int rc = sqlite3_bind_blob(stmt_, next_++, bytes.data(), static_cast<int>(bytes.size()),
                             SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) bind_error_ = rc;
  return *this;
}

statement& statement::bind_null() {
  int rc = sqlite3_bind_null(stmt_, next_++);
  if (rc != SQLITE_OK) bind_error_ = rc;
  return *this;
}

result<bool> statement::step() {
  // result<bool> would take an error_code for a bool: say which is meant.
  if (bind_error_ != SQLITE_OK) return {boost::system::in_place_error, make_error(bind_error_)};
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return {boost::system::in_place_error, make_error(rc)};
}

result<void> statement::run() {
  for (;;) {
    auto row = step();
    if (!row) return row.error();
    if (!*row) return {};
  }
}

result<void> statement::each(const std::function<void()>& on_row) {
  for (;;) {
    auto row = step();
    if (!row) return row.error();
    if (!*row) return {};
    on_row();
  }
}

std::string statement::text(int column) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
           : std::string();
}

std::int64_t statement::integer(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

bool statement::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

result<transaction> transaction::begin(connection& db) {
  if (auto r = db.exec("BEGIN IMMEDIATE"); !r) return r.error();
  return transaction(db);
}

transaction::~transaction() {
  if (db_) (void)db_->exec("ROLLBACK");
}

result<void> transaction::commit() {
  if (auto r = db_->exec("COMMIT"); !r) return r;
  if (db_->committed_) db_->committed_();
  db_ = nullptr;
  return {};
}

}  // namespace valise::server::sqlite
