// The database layer under the store: one connection / statement /
// transaction shape over SQLite (the embedded default) and PostgreSQL
// (several nodes sharing one database), opened by URL. Store code writes
// SQLite-style SQL with `?`/`?N` placeholders; the PostgreSQL side numbers
// them `$N` (sql/dialect.hpp). Errors keep the backend's own code (its message
// says what the database said) and compare equal to the portable conditions
// in sql::errc, which is all store code looks at.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "valise/crypto/result.hpp"

namespace valise::server::sql {

// What store code branches on, whichever database answered:
// `if (r.error() == sql::errc::unique_violation)`.
enum class errc {
  unique_violation = 1,  // a UNIQUE or PRIMARY KEY constraint (also a constraint_violation)
  constraint_violation,  // any constraint: NOT NULL, CHECK, FOREIGN KEY, UNIQUE
  busy,                  // another writer held the lock too long, or a deadlock: retry may work
  connection_lost,       // cannot reach the database, or it went away
  invalid_statement,     // SQL the database does not accept (syntax, unknown table or column)
  invalid_text,          // NUL or invalid UTF-8: PostgreSQL cannot store it, SQLite refuses it too
  corrupt,               // the database file or pages are damaged
  full,                  // the disk or the database is full
};
const std::error_category& condition_category();
std::error_condition make_error_condition(errc e);

// The backends' own codes: SQLite's extended result codes, and PostgreSQL's
// SQLSTATE (five characters of [0-9A-Z], stored as a base-36 number).
const std::error_category& sqlite_category();
const std::error_category& postgresql_category();

enum class backend { sqlite, postgresql };

// What a URL names: `postgresql://…` or `postgres://…` (a libpq connection
// URI, passed on whole), `sqlite:PATH` (`sqlite:///abs/path` too), or a bare
// path (SQLite). Anything else with a scheme is refused (invalid_argument).
struct location {
  backend kind = backend::sqlite;
  std::string target;  // the file for SQLite, the URI for PostgreSQL
};
result<location> parse_url(std::string_view url);

// A NOTIFY received on a channel this connection LISTENs to.
struct notification {
  std::string channel;
  std::string payload;
};

namespace detail {
class connection_impl;
class statement_impl;
class opening_impl;
}  // namespace detail

class statement;
class opening;

// One thread at a time (the store's mutex), like a libpq connection.
// PostgreSQL: a connection lost (a restart, a failover, a session the server
// ended) is opened again before the next statement outside a transaction,
// and a statement that found it lost outside one is sent once more; inside
// one, the transaction fails with connection_lost. While the database is
// unreachable, calls fail with connection_lost.
class connection {
 public:
  static result<connection> open(std::string_view url);
  // The same, saying in `why` what the database answered when it failed
  // (PostgreSQL: the server's or libpq's message, for the operator).
  static result<connection> open(std::string_view url, std::string& why);
  // An SQLite file opened read-only, as it is (no WAL switch, no file
  // created): what `migrate` copies from.
  static result<connection> open_read_only(const std::filesystem::path& sqlite_file);
  connection(connection&& other) noexcept;
  connection& operator=(connection&&) = delete;
  ~connection();

  backend kind() const;
  // Runs one or more statements that take no parameters and return no rows.
  result<void> exec(const char* sql);
  // PostgreSQL sends the statement when it first steps: SQL errors may come
  // from prepare() (SQLite) or from the first step() (PostgreSQL).
  result<statement> prepare(std::string_view sql);
  // Rows changed by the last INSERT, UPDATE or DELETE.
  std::int64_t changes() const;
  // What the database said of the last error, for logs.
  std::string error_message() const;
  // The schema's version, 0 for a new database (SQLite: PRAGMA user_version;
  // PostgreSQL: the row of table schema_version, made when first set). Read
  // and set it inside a transaction, as migrations do.
  result<int> schema_version();
  result<void> set_schema_version(int version);
  // Called after each transaction that committed, under the caller's locks:
  // it may only note or post work.
  void on_commit(std::function<void()> fn) { committed_ = std::move(fn); }

  // Cross-node wake-ups (PostgreSQL LISTEN/NOTIFY). A notify made inside a
  // transaction is delivered when it commits, and not at all if it rolls
  // back. A listening connection is best kept for that alone: a query on it
  // may read a notification off the socket, which poll() then misses (call
  // notifications() after queries too). SQLite serves one process, where
  // on_commit already wakes everyone: there these do nothing and
  // notification_fd() is -1.
  // A channel name is at most 63 bytes (PostgreSQL's identifiers).
  // A lost PostgreSQL connection is opened again (the LISTENs renewed) by the
  // next call outside a transaction, so notification_fd() may change; a
  // notifications() that answers connection_lost may have missed some.
  result<void> listen(std::string_view channel);
  result<void> notify(std::string_view channel, std::string_view payload);
  // Readable when notifications may have arrived; -1 when there are none to wait for.
  int notification_fd() const;
  // The notifications received so far (reads what the socket holds, never blocks).
  // A lost connection answers connection_lost and stays lost until the next
  // call that sends a statement.
  result<std::vector<notification>> notifications();

  // Which session of the database this is: changes each time a lost
  // PostgreSQL connection is opened again, so what the old session held (its
  // advisory locks, above all) is known to be gone. It changes only when a
  // call reconnects: what holds such locks asks with a statement. SQLite: 0.
  std::uint64_t generation() const;
  // PostgreSQL's application_name for this session and the ones after a
  // reconnect, so that pg_stat_activity tells the node's connections apart.
  // Printable ASCII; SQLite ignores it.
  result<void> set_application_name(std::string_view name);

 private:
  friend class transaction;
  friend class opening;
  explicit connection(std::unique_ptr<detail::connection_impl> impl);
  std::unique_ptr<detail::connection_impl> impl_;
  std::function<void()> committed_;
};

// A PostgreSQL connection opened without blocking its caller, for one that
// waits on sockets already (the wake relay, under asio), where
// connection::open waits up to libpq's connect_timeout. Wait until socket()
// is ready for what wants() says, then step(), until wants() is `done`;
// finish() then gives the connection, its session set up as open's and
// `channels` LISTENed, or why not. The caller bounds the time it gives it.
// libpq still resolves a host name inside a step (a blocking lookup; an IP
// address needs none). A URL that is not PostgreSQL's is done at once and
// refused.
class opening {
 public:
  enum class wait { read, write, done };
  static opening start(std::string_view url, std::vector<std::string> channels = {});
  opening(opening&& other) noexcept;
  opening& operator=(opening&&) = delete;
  ~opening();

  wait wants() const;
  int socket() const;  // may change from one step to the next
  void step();
  // Once done; `why`: what the database or libpq answered.
  result<connection> finish(std::string& why);

 private:
  explicit opening(std::unique_ptr<detail::opening_impl> impl);
  std::unique_ptr<detail::opening_impl> impl_;
};

class statement {
 public:
  statement(statement&& other) noexcept;
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
  // Ready to bind and step again from the start (the same SQL, new values).
  void reset();
  // Steps to completion (INSERT, UPDATE, DELETE).
  result<void> run();
  // Calls `on_row` for each row; an error part-way is returned, never taken
  // for the end of the rows.
  result<void> each(const std::function<void()>& on_row);

  // A BLOB / BYTEA column reads as its raw bytes; NULL as "" or 0.
  std::string text(int column) const;
  std::int64_t integer(int column) const;
  std::uint64_t size(int column) const { return static_cast<std::uint64_t>(integer(column)); }
  bool is_null(int column) const;

 private:
  friend class connection;
  explicit statement(std::unique_ptr<detail::statement_impl> impl);
  std::unique_ptr<detail::statement_impl> impl_;
};

// A write transaction: it holds the database's one writer lock from begin()
// (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock every node shares,
// see docs/postgresql.md), so reads inside see what the write will build on.
// Rolls back unless committed.
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

}  // namespace valise::server::sql

template <>
struct std::is_error_condition_enum<valise::server::sql::errc> : std::true_type {};
