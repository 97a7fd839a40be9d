// A thin RAII layer over the SQLite C API: a connection, prepared statements
// with typed bind/column helpers, and transactions. Errors become
// std::error_code in sqlite_category() (the value is SQLite's primary code).
// The C API stays in sqlite.cpp: the store's SQL talks to these three
// classes only, so that another backend with their shape can replace them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "valise/crypto/result.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace valise::server::sqlite {

const std::error_category& sqlite_category();
std::error_code make_error(int code);

class statement;

class connection {
 public:
  static result<connection> open(const std::filesystem::path& file);
  connection(connection&& other) noexcept
      : db_(std::exchange(other.db_, nullptr)), committed_(std::move(other.committed_)) {}
  connection& operator=(connection&&) = delete;
  ~connection();

  // Runs one or more statements that return no rows.
  result<void> exec(const char* sql);
  result<statement> prepare(std::string_view sql);
  // Rows the last INSERT, UPDATE or DELETE changed.
  std::int64_t changes() const;
  // Called after each transaction that committed, under the caller's locks:
  // it may only note or post work.
  void on_commit(std::function<void()> fn) { committed_ = std::move(fn); }

 private:
  friend class transaction;
  explicit connection(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
  std::function<void()> committed_;
};

class statement {
 public:
  statement(statement&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}
  statement& operator=(statement&&) = delete;
  ~statement();

  // Binds parameters ?1, ?2, … in order; each returns *this for chaining.
  statement& bind(std::string_view text);
  statement& bind(std::int64_t value);
  statement& bind(std::uint64_t value) { return bind(static_cast<std::int64_t>(value)); }
  statement& bind(int value) { return bind(static_cast<std::int64_t>(value)); }
  statement& bind(std::optional<std::uint64_t> value);
  statement& bind_null();
  statement& bind_blob(std::string_view bytes);

  // true: a row is ready; false: done.
  result<bool> step();
  // Steps to completion (INSERT, UPDATE, DELETE).
  result<void> run();
  // Calls `on_row` for each row; an error part-way is returned, never taken
  // for the end of the rows.
  result<void> each(const std::function<void()>& on_row);

  std::string text(int column) const;
  std::int64_t integer(int column) const;
  std::uint64_t size(int column) const { return static_cast<std::uint64_t>(integer(column)); }
  bool is_null(int column) const;

 private:
  friend class connection;
  explicit statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  sqlite3_stmt* stmt_ = nullptr;
  int next_ = 1;
  int bind_error_ = 0;  // SQLITE_OK
};

// BEGIN IMMEDIATE (the write lock at once, so reads inside see what the write
// will build on); rolls back unless committed.
class transaction {
 public:
  static result<transaction> begin(connection& db);
  transaction(transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  transaction& operator=(transaction&&) = delete;
  ~transaction();
  result<void> commit();

 private:
  explicit transaction(connection& db) : db_(&db) {}
  connection* db_ = nullptr;
};

}  // namespace valise::server::sqlite
