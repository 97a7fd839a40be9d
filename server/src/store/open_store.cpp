// The store's wiring: the SQL store over SQLite in DATA/valise.db or over
// PostgreSQL ([store] url), and the blob directory DATA/uploads, DATA/bundles
// either way. Another blob_store would be chosen here too.
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "sql/sql.hpp"
#include "store/blob_dir.hpp"
#include "store/connection_url.hpp"
#include "store/schema.hpp"
#include "store/sql_store.hpp"

namespace valise::server {
namespace {

// CITEXT (users.name) folds case by the database's LC_CTYPE, whatever the
// column's collation (docs/postgresql.md): on another ctype than C, names
// that differ only in a non-ASCII letter's case are one name here and two on
// SQLite. Warned of, not refused: such a database stays consistent (its
// names are only more unique), and a refusal would stop installations that
// work today; it cannot be fixed in place (a new database and a copy).
void warn_of_ctype(sql::connection& db) {
  auto stmt = db.prepare("SELECT current_setting('lc_ctype')");
  if (!stmt) return;
  if (auto row = stmt->step(); !row || !*row) return;
  const std::string ctype = stmt->text(0);
  if (ctype == "C" || ctype == "POSIX") return;
  spdlog::warn(
      "database: its LC_CTYPE is {}, not C: user names that differ only in the case of a "
      "non-ASCII letter (Émile, émile) are one name here, two on SQLite; create the database "
      "with LC_CTYPE 'C' and move the data to it (docs/postgresql.md, \"Dialect\")",
      ctype);
}

}  // namespace

result<std::unique_ptr<store>> store::open(const std::filesystem::path& data_dir,
                                           const database_settings& settings, open_mode mode,
                                           std::string* why) {
  auto url = connection_url(settings, why);
  if (!url) return url.error();
  return open(data_dir, settings, *url, mode, why);
}

result<std::unique_ptr<store>> store::open(const std::filesystem::path& data_dir,
                                           const database_settings& settings,
                                           const common::wiped_string& url, open_mode mode,
                                           std::string* why) {
  auto failed = [&](std::error_code ec) {
    if (why && why->empty()) *why = ec.message();
    return ec;
  };
  auto blobs = blob_dir::open(data_dir);
  if (!blobs) return failed(blobs.error());
  const bool embedded = settings.url.empty();
  const std::filesystem::path file = data_dir / "valise.db";
  if (!embedded) {
    if (auto where = sql::parse_url(settings.url); !where) {
      if (why) *why = "[store] url \"" + redacted_url(settings.url) + "\" is not postgresql://…";
      return where.error();
    }
  }
  std::string answer;
  // SQLite: WAL, synchronous=FULL (an acknowledged change survives power
  // loss), foreign keys, a busy timeout; PostgreSQL: a lock timeout.
  const std::string sqlite_url = embedded ? "sqlite:" + file.string() : std::string();
  auto db = sql::connection::open(embedded ? sqlite_url : std::string_view(url.value), answer);
  if (!db) {
    if (why && !embedded)
      *why = redacted_url(settings.url) + ": " + (answer.empty() ? db.error().message() : answer);
    return failed(db.error());
  }
  if (embedded) ::chmod(file.c_str(), 0600);
  if (auto r = schema::migrate(*db); !r) return failed(r.error());
  if (!embedded && mode == open_mode::serve) warn_of_ctype(*db);
  auto key = open_audit_key(*db, data_dir);
  if (!key) return failed(key.error());
  if (mode == open_mode::tool)
    return std::unique_ptr<store>(std::make_unique<sql_store>(std::move(*db), std::move(*blobs), -1,
                                                              data_dir, std::move(*key)));
  // Two servers on one SQLite directory would each repair what the other is
  // doing. Nodes sharing a PostgreSQL store share the directory by design
  // (docs/cluster.md): what must run once there runs on the cluster's leader.
  int lock_fd = -1;
  if (embedded) {
    lock_fd = ::open((data_dir / "valise.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0) return failed(std::error_code(errno, std::generic_category()));
    if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(lock_fd);
      return failed(store_errc::locked);
    }
  }
  auto s = std::make_unique<sql_store>(std::move(*db), std::move(*blobs), lock_fd, data_dir,
                                       std::move(*key));
  // With PostgreSQL the leader reconciles, when it becomes leader.
  if (embedded)
    if (auto r = s->reconcile(); !r) return failed(r.error());
  return std::unique_ptr<store>(std::move(s));
}

}  // namespace valise::server
