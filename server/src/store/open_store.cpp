// The store's wiring: the SQL store over SQLite in DATA/valise.db or over
// PostgreSQL ([store] url), and the blob directory DATA/uploads, DATA/bundles
// either way. Another blob_store would be chosen here too.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <utility>

#include "sql/sql.hpp"
#include "store/blob_dir.hpp"
#include "store/connection_url.hpp"
#include "store/schema.hpp"
#include "store/sql_store.hpp"

namespace valise::server {
namespace {

// What percent-encoding leaves as it is: unreserved characters (RFC 3986).
bool unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

}  // namespace

result<common::wiped_string> connection_url(const database_settings& db, std::string* why) {
  if (db.password_file.empty()) return common::wiped_string{db.url};
  auto password = common::read_secret_file(db.password_file, {.owner_only = true});
  if (!password) {
    if (why) *why = "[store] password_file: " + password.error();
    return std::make_error_code(std::errc::permission_denied);
  }
  static constexpr char hex[] = "0123456789ABCDEF";
  const char separator = db.url.find('?') == std::string::npos ? '?' : '&';
  common::wiped_string url{std::string()};
  // Its final size at once: growing would leave copies of the password behind.
  url.value.reserve(db.url.size() + 10 + 3 * password->value.size());
  url.value = db.url;
  url.value += separator;
  url.value += "password=";
  for (unsigned char c : password->value) {
    if (unreserved(c)) {
      url.value += static_cast<char>(c);
    } else {
      url.value += '%';
      url.value += hex[c >> 4];
      url.value += hex[c & 15];
    }
  }
  return url;
}

std::string redacted_url(std::string_view url) {
  std::string out(url);
  // scheme://user:PASSWORD@host…
  if (auto scheme = out.find("://"); scheme != std::string::npos) {
    const auto start = scheme + 3;
    const auto at = out.find('@', start);
    const auto end_of_authority = out.find_first_of("/?", start);
    if (at != std::string::npos && (end_of_authority == std::string::npos || at < end_of_authority))
      if (auto colon = out.find(':', start); colon != std::string::npos && colon < at)
        out.replace(colon + 1, at - colon - 1, "***");
  }
  // …?password=PASSWORD&…
  for (std::size_t from = 0;;) {
    auto p = out.find("password=", from);
    if (p == std::string::npos) break;
    if (p > 0 && out[p - 1] != '?' && out[p - 1] != '&') {
      from = p + 1;
      continue;
    }
    const auto value = p + 9;
    const auto end = out.find('&', value);
    out.replace(value, (end == std::string::npos ? out.size() : end) - value, "***");
    from = value + 3;
  }
  return out;
}

result<std::unique_ptr<store>> store::open(const std::filesystem::path& data_dir,
                                           const database_settings& settings, open_mode mode,
                                           std::string* why) {
  auto failed = [&](std::error_code ec) {
    if (why && why->empty()) *why = ec.message();
    return ec;
  };
  auto blobs = blob_dir::open(data_dir);
  if (!blobs) return failed(blobs.error());
  const bool embedded = settings.url.empty();
  const std::filesystem::path file = data_dir / "valise.db";
  common::wiped_string url;
  if (embedded) {
    url.value = "sqlite:" + file.string();
  } else {
    auto where = sql::parse_url(settings.url);
    if (!where) {
      if (why) *why = "[store] url \"" + redacted_url(settings.url) + "\" is not postgresql://…";
      return where.error();
    }
    auto full = connection_url(settings, why);
    if (!full) return full.error();
    url.value = std::exchange(full->value, {});
  }
  std::string answer;
  // SQLite: WAL, synchronous=FULL (an acknowledged change survives power
  // loss), foreign keys, a busy timeout; PostgreSQL: a lock timeout.
  auto db = sql::connection::open(url.value, answer);
  if (!db) {
    if (why && !embedded)
      *why = redacted_url(settings.url) + ": " + (answer.empty() ? db.error().message() : answer);
    return failed(db.error());
  }
  if (embedded) ::chmod(file.c_str(), 0600);
  if (auto r = schema::migrate(*db); !r) return failed(r.error());
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
