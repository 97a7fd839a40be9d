// PostgreSQL under sql.hpp, over libpq. Statements go out once, at their
// first step, as one PQexecParams (parse, bind and execute in a single round
// trip; the store prepares a statement per use), and their rows come back
// whole. Values travel as text, except blobs, which go as binary BYTEA.
// A connection found lost (a restart, a failover, a session the server ended)
// is opened again before the next statement outside a transaction.
#include <libpq-fe.h>
#include <poll.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <utility>

#include "sql/backend.hpp"
#include "sql/dialect.hpp"
#include "sql/reconnect_pacing.hpp"

namespace valise::server::sql {
namespace {

using detail::reconnect_pacing;

// Type OIDs from PostgreSQL's catalogue (pg_type.dat); stable across versions.
constexpr Oid bool_oid = 16;
constexpr Oid bytea_oid = 17;
constexpr Oid int8_oid = 20;

// The key of the advisory lock that every write transaction takes first, on
// every node: "valise" in ASCII, then 1 (the writer lock).
constexpr std::int64_t writer_lock = 0x76616c6973650001;

// How long one attempt to connect again may take (the store's mutex is held
// meanwhile, on an I/O thread): a database that does not answer within it
// counts as unreachable until the next attempt (reconnect_pacing.hpp).
constexpr std::chrono::milliseconds reconnect_budget{2000};

int encode_sqlstate(std::string_view state) {
  int code = 0;
  for (char c : state.substr(0, 5)) {
    const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'Z' ? c - 'A' + 10 : 0;
    code = code * 36 + digit;
  }
  return code;
}

std::string decode_sqlstate(int code) {
  std::string state(5, '0');
  for (int i = 4; i >= 0; --i, code /= 36) {
    const int digit = code % 36;
    state[static_cast<std::size_t>(i)] =
        static_cast<char>(digit < 10 ? '0' + digit : 'A' + digit - 10);
  }
  return state;
}

std::string_view describe(std::string_view state) {
  struct known {
    std::string_view state, text;
  };
  static constexpr known table[] = {
      {"08006", "unavailable (connection failure)"},
      {"22021", "invalid text (NUL or not UTF-8)"},
      {"23502", "not-null violation"},
      {"23503", "foreign key violation"},
      {"23505", "unique violation"},
      {"23514", "check violation"},
      {"25P02", "the transaction failed and was rolled back"},
      {"40001", "serialization failure"},
      {"40P01", "deadlock detected"},
      {"42601", "syntax error"},
      {"42703", "undefined column"},
      {"42P01", "undefined table"},
      {"42P02", "undefined parameter"},
      {"55P03", "lock not available"},
  };
  for (const auto& k : table)
    if (k.state == state) return k.text;
  return "error";
}

class postgresql_errors final : public std::error_category {
 public:
  const char* name() const noexcept override { return "postgresql"; }
  std::string message(int code) const override {
    const std::string state = decode_sqlstate(code);
    return "database: " + std::string(describe(state)) + " (SQLSTATE " + state + ")";
  }
  bool equivalent(int code, const std::error_condition& condition) const noexcept override {
    if (condition.category() != condition_category()) return false;
    const std::string state = decode_sqlstate(code);
    const std::string_view cls = std::string_view(state).substr(0, 2);
    switch (static_cast<errc>(condition.value())) {
      case errc::unique_violation:
        return state == "23505";
      case errc::constraint_violation:
        return cls == "23";
      case errc::busy:
        return state == "40001" || state == "40P01" || state == "55P03" || state == "55006";
      case errc::connection_lost:
        return cls == "08" || state == "57P01" || state == "57P02" || state == "57P03";
      case errc::invalid_statement:
        return cls == "42";
      case errc::invalid_text:
        return state == "22021" || state == "22P05";
      case errc::corrupt:
        return state == "XX001" || state == "XX002";
      case errc::full:
        return cls == "53";
    }
    return false;
  }
};

std::error_code make_error(std::string_view state) {
  return {encode_sqlstate(state), postgresql_category()};
}

// What a failed result (or a failed connection: no result) says. A
// connection not OK is lost, or half-way through connecting again (an
// attempt that ran out of time).
std::error_code error_of(PGconn* conn, const PGresult* res) {
  if (PQstatus(conn) != CONNECTION_OK) return make_error("08006");
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  return make_error(state ? state : "XX000");
}

bool succeeded(const PGresult* res) {
  const auto status = PQresultStatus(res);
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

// BYTEA in text form is `\x` and two hex digits a byte.
std::string bytea_bytes(std::string_view hex) {
  if (!hex.starts_with("\\x")) return std::string(hex);
  hex.remove_prefix(2);
  std::string out(hex.size() / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    unsigned value = 0;
    std::from_chars(hex.data() + 2 * i, hex.data() + 2 * i + 2, value, 16);
    out[i] = static_cast<char>(value);
  }
  return out;
}

struct result_deleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using pg_result = std::unique_ptr<PGresult, result_deleter>;

class pg_connection;

class pg_statement final : public detail::statement_impl {
 public:
  pg_statement(pg_connection& db, numbered_statement sql)
      : db_(db), sql_(std::move(sql)), values_(static_cast<std::size_t>(sql_.parameters)) {
    types_.resize(values_.size(), 0);
    formats_.resize(values_.size(), 0);
  }

  // Text goes untyped: PostgreSQL takes the type from the context, so that a
  // name compared with a CITEXT column compares as CITEXT.
  void bind_text(std::string_view text) override {
    // libpq sends text parameters NUL-terminated: a NUL inside would cut it.
    if (text.find('\0') != std::string_view::npos) bind_error_ = "22021";
    put(std::string(text), 0, 0);
  }
  void bind_integer(std::int64_t value) override { put(std::to_string(value), int8_oid, 0); }
  void bind_blob(std::string_view bytes) override { put(std::string(bytes), bytea_oid, 1); }
  void bind_null() override { put(std::nullopt, 0, 0); }

  result<bool> step() override;

  std::string text(int column) const override {
    if (is_null(column)) return {};
    const char* value = PQgetvalue(res_.get(), row_, column);
    const std::string_view text(value,
                                static_cast<std::size_t>(PQgetlength(res_.get(), row_, column)));
    return PQftype(res_.get(), column) == bytea_oid ? bytea_bytes(text) : std::string(text);
  }
  std::int64_t integer(int column) const override {
    if (is_null(column)) return 0;
    const char* value = PQgetvalue(res_.get(), row_, column);
    if (PQftype(res_.get(), column) == bool_oid) return value[0] == 't' ? 1 : 0;
    std::int64_t n = 0;
    const char* end = value + PQgetlength(res_.get(), row_, column);
    if (std::from_chars(value, end, n).ec != std::errc{})
      return static_cast<std::int64_t>(std::strtod(value, nullptr));
    return n;
  }
  bool is_null(int column) const override {
    return !res_ || row_ < 0 || row_ >= PQntuples(res_.get()) || column < 0 ||
           column >= PQnfields(res_.get()) || PQgetisnull(res_.get(), row_, column);
  }
  void reset() override {
    std::ranges::fill(values_, std::nullopt);
    next_ = 0;
    bind_error_ = nullptr;
    res_.reset();
    row_ = -1;
    done_ = false;
  }

 private:
  void put(std::optional<std::string> value, Oid type, int format) {
    if (next_ >= values_.size()) {
      bind_error_ = "42P02";  // more values than parameters
      return;
    }
    values_[next_] = std::move(value);
    types_[next_] = type;
    formats_[next_] = format;
    ++next_;
  }

  pg_connection& db_;
  numbered_statement sql_;
  std::vector<std::optional<std::string>> values_;  // unbound: NULL, as in SQLite
  std::vector<Oid> types_;
  std::vector<int> formats_;
  std::size_t next_ = 0;
  const char* bind_error_ = nullptr;
  pg_result res_;
  int row_ = -1;
  bool done_ = false;
};

class pg_connection final : public detail::connection_impl {
 public:
  // `channels`: LISTENed by the session's set-up.
  explicit pg_connection(PGconn* conn, std::vector<std::string> channels = {})
      : conn_(conn), channels_(std::move(channels)) {
    // Notices (e.g. "extension citext already exists, skipping") are not
    // errors: libpq would print them on stderr. Kept across resets.
    if (conn_)
      PQsetNoticeProcessor(
          conn_, [](void*, const char*) {}, nullptr);
  }
  ~pg_connection() override { PQfinish(conn_); }

  backend kind() const override { return backend::postgresql; }

  // What every session needs, at open and after a reconnect, as one query
  // (one round trip; the first statement that fails ends it).
  // lock_timeout, as SQLite's busy timeout: a writer waits this long for the
  // lock, then fails with errc::busy. A transaction left open (a stuck
  // process) is ended after a minute, so it cannot hold the writers' lock.
  // bytea_output: blobs are read back as hex whatever the role's default.
  // tcp_keepalives_*: the database's own side of this connection gives up on
  // a node cut off from it after about a minute (the OS default is two
  // hours), and with it that node's advisory locks: the leader's, the
  // uploads' (docs/cluster.md).
  std::string session_sql() const {
    std::string sql =
        "SET lock_timeout = '10s'; SET idle_in_transaction_session_timeout = '60s'; "
        "SET bytea_output = 'hex'; SET tcp_keepalives_idle = 30; "
        "SET tcp_keepalives_interval = 10; SET tcp_keepalives_count = 3";
    if (!application_name_.empty()) sql += "; " + application_name_sql();
    for (const auto& channel : channels_) sql += "; " + listen_sql(channel);
    return sql;
  }
  result<void> set_up_session() {
    pg_result res(PQexec(conn_, session_sql().c_str()));
    return finish(res.get());
  }

  // One round trip (`send`). Outside a transaction, a connection found lost
  // is opened again first, and once more if the call itself finds it lost:
  // nothing was in flight but this one statement. Inside one, the
  // transaction fails (the server rolled it back) and the next call after
  // it reconnects.
  template <class Send>
  pg_result round_trip(Send send) {
    // Still lost (or reset but not set up: no lock timeout, no LISTENs): no
    // statement goes out, and finish() says connection_lost.
    if (!in_transaction_ && (lost_ || PQstatus(conn_) != CONNECTION_OK) && !reconnect())
      return pg_result(nullptr);
    pg_result res(send());
    if (!in_transaction_ && PQstatus(conn_) != CONNECTION_OK && reconnect()) res.reset(send());
    return res;
  }

  result<void> exec(const char* sql) override {
    pg_result res = round_trip([&] { return PQexec(conn_, sql); });
    return finish(res.get());
  }

  result<std::unique_ptr<detail::statement_impl>> prepare(std::string_view sql) override {
    return std::unique_ptr<detail::statement_impl>(
        std::make_unique<pg_statement>(*this, postgresql_parameters(sql)));
  }

  std::int64_t changes() const override { return changes_; }
  std::string error_message() const override { return error_; }

  result<int> schema_version() override {
    // A new database has no table yet: reading it would fail (and end the
    // transaction), so ask first.
    auto stmt = prepare("SELECT to_regclass('schema_version') IS NOT NULL");
    if (!stmt) return stmt.error();
    auto row = (*stmt)->step();
    if (!row) return row.error();
    if ((*stmt)->integer(0) == 0) return 0;
    stmt = prepare("SELECT COALESCE(MAX(version), 0) FROM schema_version");
    if (!stmt) return stmt.error();
    row = (*stmt)->step();
    if (!row) return row.error();
    return static_cast<int>((*stmt)->integer(0));
  }
  result<void> set_schema_version(int version) override {
    const std::string sql =
        "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL); "
        "DELETE FROM schema_version; INSERT INTO schema_version (version) VALUES (" +
        std::to_string(version) + ")";
    return exec(sql.c_str());
  }

  // PostgreSQL has no BEGIN IMMEDIATE: each write transaction first takes one
  // advisory lock that all nodes share, so writers run one at a time across
  // the cluster as they do on one SQLite file. The store's read-check-write
  // steps (a link's byte budget, the audit chain's next record) rely on it.
  // READ COMMITTED (the default) matters: each statement then sees every
  // writer that committed before the lock was granted, where REPEATABLE READ
  // would keep the snapshot taken before the wait.
  result<void> begin() override {
    const std::string sql =
        "BEGIN; SELECT pg_advisory_xact_lock(" + std::to_string(writer_lock) + ")";
    if (auto r = exec(sql.c_str()); !r) {
      rollback();
      return r;
    }
    in_transaction_ = true;
    return {};
  }

  result<void> commit() override {
    in_transaction_ = false;
    pg_result res(PQexec(conn_, "COMMIT"));
    if (auto r = finish(res.get()); !r) return r;
    // COMMIT of a transaction that failed part-way answers ROLLBACK.
    if (std::string_view(PQcmdStatus(res.get())) != "COMMIT") return make_error("25P02");
    return {};
  }

  void rollback() override {
    in_transaction_ = false;
    if (PQstatus(conn_) == CONNECTION_OK) pg_result res(PQexec(conn_, "ROLLBACK"));
  }

  result<void> listen(std::string_view channel) override {
    if (auto r = exec(listen_sql(channel).c_str()); !r) return r;
    if (std::ranges::find(channels_, channel) == channels_.end()) channels_.emplace_back(channel);
    return {};
  }

  result<void> notify(std::string_view channel, std::string_view payload) override {
    auto stmt = prepare("SELECT pg_notify(?, ?)");
    if (!stmt) return stmt.error();
    (*stmt)->bind_text(channel);
    (*stmt)->bind_text(payload);
    auto row = (*stmt)->step();
    if (!row) return row.error();
    return {};
  }

  int notification_fd() const override { return PQsocket(conn_); }

  // A lost connection is not opened again here: its listener (the wake
  // relay) opens one of its own and drops this one. Any other caller's next
  // statement reconnects, LISTENs renewed.
  result<std::vector<notification>> notifications() override {
    if (!PQconsumeInput(conn_)) {
      error_ = PQerrorMessage(conn_);
      return make_error("08006");
    }
    std::vector<notification> out;
    while (PGnotify* n = PQnotifies(conn_)) {
      out.push_back({n->relname, n->extra});
      PQfreemem(n);
    }
    return out;
  }

  std::uint64_t generation() const override { return generation_; }

  result<void> set_application_name(std::string_view name) override {
    const std::string previous = std::exchange(application_name_, std::string(name));
    if (auto r = exec(application_name_sql().c_str()); !r) {
      application_name_ = previous;
      return r;
    }
    return {};
  }

  PGconn* handle() const { return conn_; }
  bool in_transaction() const { return in_transaction_; }

  // Notes what a finished result says: rows changed, or the error.
  result<void> finish(const PGresult* res) {
    if (!res || !succeeded(res)) {
      error_ = res ? PQresultErrorMessage(res) : PQerrorMessage(conn_);
      if (!res && lost_) return make_error("08006");
      return error_of(conn_, res);
    }
    const std::string_view status = PQcmdStatus(const_cast<PGresult*>(res));
    if (status.starts_with("INSERT") || status.starts_with("UPDATE") ||
        status.starts_with("DELETE") || status.starts_with("MERGE"))
      changes_ = std::atoll(PQcmdTuples(const_cast<PGresult*>(res)));
    return {};
  }

 private:
  friend class session_start;

  std::string listen_sql(std::string_view channel) const {
    char* name = PQescapeIdentifier(conn_, channel.data(), channel.size());
    if (!name) return "LISTEN \"\"";  // out of memory: a statement that fails
    std::string sql = "LISTEN " + std::string(name);
    PQfreemem(name);
    return sql;
  }

  std::string application_name_sql() const {
    char* literal = PQescapeLiteral(conn_, application_name_.data(), application_name_.size());
    if (!literal) return "SET application_name = ''";  // out of memory, or no connection
    std::string sql = "SET application_name = " + std::string(literal);
    PQfreemem(literal);
    return sql;
  }

  // Connects again with what the connection was opened with (the password
  // stays inside libpq), within reconnect_budget. Logged once when lost and
  // once when back, with no password: libpq's fields, not the URL. While the
  // database stays unreachable, attempts back off (reconnect_pacing): calls
  // fail at once in between.
  bool reconnect() {
    const auto now = reconnect_pacing::clock::now();
    if (lost_ && !pacing_.may_try(now)) return false;
    if (!lost_) spdlog::warn("database: the connection to {} was lost: reconnecting", where());
    lost_ = true;
    if (!reset_within(reconnect_budget)) {
      if (error_.empty()) error_ = "the database did not answer within 2 s";
      pacing_.failed(reconnect_pacing::clock::now());  // the wait counts from the attempt's end
      return false;
    }
    lost_ = false;
    ++generation_;
    pacing_.succeeded();
    spdlog::warn("database: reconnected to {}", where());
    return true;
  }

  // PQreset without its wait of up to connect_timeout: the new session
  // (connection and set-up) is driven step by step while the socket is
  // ready, until `budget` runs out (then it stays half-open, and the next
  // PQresetStart closes it). libpq still resolves a host name before it
  // returns. error_ says why it failed, or is empty when time ran out.
  bool reset_within(std::chrono::milliseconds budget);

  std::string where() const {
    const char* host = PQhost(conn_);
    const char* port = PQport(conn_);
    const char* db = PQdb(conn_);
    const char* user = PQuser(conn_);
    return std::string("postgresql://") + (user ? user : "") + "@" + (host ? host : "") + ":" +
           (port ? port : "") + "/" + (db ? db : "");
  }

  PGconn* conn_;
  std::int64_t changes_ = 0;
  std::string error_;
  std::vector<std::string> channels_;  // LISTENed: renewed on a new connection
  std::string application_name_;       // set again on a new connection
  bool in_transaction_ = false;
  bool lost_ = false;
  reconnect_pacing pacing_;
  std::uint64_t generation_ = 0;  // new connections since open
};

// One attempt at a session of `db`, step by step, for a caller that waits
// on PQsocket for what wants() says and then calls step(): libpq's polling
// connect (PQconnectPoll for a new connection, PQresetPoll for a lost one),
// then the session's set-up sent as one query whose answers are read as
// they come. Nothing here blocks but the send of that query (a few hundred
// bytes into an empty socket buffer).
class session_start {
 public:
  using poll_fn = PostgresPollingStatusType (*)(PGconn*);
  session_start(pg_connection& db, poll_fn poll) : db_(db), poll_(poll) {
    db_.error_.clear();
    if (PQstatus(db_.conn_) == CONNECTION_BAD) fail();
  }

  opening::wait wants() const {
    switch (phase_) {
      case phase::connecting:
        return polled_ == PGRES_POLLING_READING ? opening::wait::read : opening::wait::write;
      case phase::setting_up:
        return opening::wait::read;
      default:
        return opening::wait::done;
    }
  }
  bool ok() const { return phase_ == phase::ready; }
  std::error_code error() const { return error_; }

  void step() {
    PGconn* conn = db_.conn_;
    if (phase_ == phase::connecting) {
      polled_ = poll_(conn);
      if (polled_ == PGRES_POLLING_FAILED) return fail();
      if (polled_ != PGRES_POLLING_OK) return;
      if (!PQsendQuery(conn, db_.session_sql().c_str())) return fail();
      phase_ = phase::setting_up;
      return;
    }
    if (phase_ != phase::setting_up) return;
    if (!PQconsumeInput(conn)) return fail();
    while (!PQisBusy(conn)) {
      pg_result res(PQgetResult(conn));
      if (!res) {
        phase_ = error_ ? phase::failed : phase::ready;
        return;
      }
      if (auto r = db_.finish(res.get()); !r && !error_) error_ = r.error();
    }
  }

 private:
  void fail() {
    phase_ = phase::failed;
    if (db_.error_.empty()) db_.error_ = PQerrorMessage(db_.conn_);
    if (!error_) error_ = make_error("08006");
  }

  enum class phase { connecting, setting_up, ready, failed };
  pg_connection& db_;
  poll_fn poll_;
  phase phase_ = phase::connecting;
  PostgresPollingStatusType polled_ = PGRES_POLLING_WRITING;  // as libpq's documentation starts
  std::error_code error_;
};

bool pg_connection::reset_within(std::chrono::milliseconds budget) {
  using clock = reconnect_pacing::clock;
  if (!PQresetStart(conn_)) {
    error_ = PQerrorMessage(conn_);
    return false;
  }
  const auto deadline = clock::now() + budget;
  session_start attempt(*this, PQresetPoll);
  for (auto wants = attempt.wants(); wants != opening::wait::done; wants = attempt.wants()) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    if (left.count() <= 0) {
      error_.clear();
      return false;
    }
    pollfd ready{PQsocket(conn_),
                 static_cast<short>(wants == opening::wait::read ? POLLIN : POLLOUT), 0};
    const int n = ::poll(&ready, 1, static_cast<int>(left.count()));
    if (n < 0 && errno != EINTR) return false;
    if (n > 0) attempt.step();
  }
  return attempt.ok();
}

// connection::open without its wait: a new connection, driven by whoever
// waits on its socket (opening).
class pg_opening final : public detail::opening_impl {
 public:
  explicit pg_opening(std::unique_ptr<pg_connection> db)
      : db_(std::move(db)), attempt_(*db_, PQconnectPoll) {}

  opening::wait wants() const override { return attempt_.wants(); }
  int socket() const override { return db_ ? PQsocket(db_->handle()) : -1; }
  void step() override { attempt_.step(); }
  result<std::unique_ptr<detail::connection_impl>> finish(std::string& why) override {
    if (!attempt_.ok()) {
      why = db_->error_message();
      if (why.empty()) why = "the connection is not finished";
      return attempt_.error() ? attempt_.error() : make_error("08006");
    }
    return std::unique_ptr<detail::connection_impl>(std::move(db_));
  }

 private:
  std::unique_ptr<pg_connection> db_;
  session_start attempt_;
};

result<bool> pg_statement::step() {
  if (bind_error_) return {boost::system::in_place_error, make_error(bind_error_)};
  if (done_) return false;
  if (!res_) {
    std::vector<const char*> values(values_.size());
    std::vector<int> lengths(values_.size());
    for (std::size_t i = 0; i < values_.size(); ++i) {
      values[i] = values_[i] ? values_[i]->data() : nullptr;
      lengths[i] = values_[i] ? static_cast<int>(values_[i]->size()) : 0;
    }
    res_ = db_.round_trip([&] {
      return PQexecParams(db_.handle(), sql_.text.c_str(), static_cast<int>(values_.size()),
                          types_.data(), values.data(), lengths.data(), formats_.data(), 0);
    });
    if (auto r = db_.finish(res_.get()); !r) {
      done_ = true;
      return {boost::system::in_place_error, r.error()};
    }
  }
  if (++row_ < PQntuples(res_.get())) return true;
  done_ = true;
  return false;
}

}  // namespace

const std::error_category& postgresql_category() {
  static const postgresql_errors instance;
  return instance;
}

namespace detail {

// What every connection is opened with, the URL (`dbname`, expanded) among
// them. Later entries win (libpq), so the URL may change the keepalives and
// the connect timeout but not the encoding: text is UTF-8 on both backends.
// Keepalives: a node cut off while holding the writers' lock must lose its
// connection (and the lock) in about a minute, not in TCP's two hours.
// tcp_user_timeout: a statement sent to a database host that vanished fails
// in 20 s, not after TCP's retransmissions (about 15 minutes), with the
// store's lock held meanwhile.
template <class Connect>
PGconn* connect_with(const std::string& uri, Connect connect) {
  const char* const keys[] = {"connect_timeout",
                              "keepalives",
                              "keepalives_idle",
                              "keepalives_interval",
                              "keepalives_count",
                              "tcp_user_timeout",
                              "dbname",
                              "client_encoding",
                              nullptr};
  const char* const values[] = {"10", "1", "30", "10", "3", "20000", uri.c_str(), "UTF8", nullptr};
  return connect(keys, values, /*expand_dbname=*/1);
}

std::unique_ptr<opening_impl> start_postgresql(const std::string& uri,
                                               std::vector<std::string> channels) {
  PGconn* conn = connect_with(uri, PQconnectStartParams);
  if (!conn) return nullptr;  // out of memory: opening says it is no URL it can open
  return std::make_unique<pg_opening>(std::make_unique<pg_connection>(conn, std::move(channels)));
}

result<std::unique_ptr<connection_impl>> open_postgresql(const std::string& uri, std::string* why) {
  PGconn* conn = connect_with(uri, PQconnectdbParams);
  auto c = std::make_unique<pg_connection>(conn);
  if (!conn || PQstatus(conn) != CONNECTION_OK) {
    if (why) *why = conn ? PQerrorMessage(conn) : "out of memory";
    return make_error("08006");
  }
  if (auto r = c->set_up_session(); !r) {
    if (why) *why = c->error_message();
    return r.error();
  }
  return std::unique_ptr<connection_impl>(std::move(c));
}

}  // namespace detail
}  // namespace valise::server::sql
