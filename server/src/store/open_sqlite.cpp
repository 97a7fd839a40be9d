// The embedded backend's wiring: the SQL store over SQLite in
// DATA/valise.db and the blob directory DATA/uploads, DATA/bundles. Another
// backend is another such file (the same sql_store over its connection, or
// another blob_store).
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "store/blob_dir.hpp"
#include "store/schema.hpp"
#include "store/sql_store.hpp"

namespace valise::server {

result<std::unique_ptr<store>> store::open_sqlite(const std::filesystem::path& data_dir,
                                                  open_mode mode) {
  auto blobs = blob_dir::open(data_dir);
  if (!blobs) return blobs.error();
  auto db = sqlite::connection::open(data_dir / "valise.db");
  if (!db) return db.error();
  ::chmod((data_dir / "valise.db").c_str(), 0600);
  // synchronous=FULL: an acknowledged change (a bundle, its audit record)
  // survives power loss, not only a crash of the process.
  if (auto r = db->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                        "PRAGMA foreign_keys=ON;");
      !r)
    return r.error();
  if (auto r = sqlite::migrate(*db); !r) return r.error();
  auto key = open_audit_key(*db, data_dir);
  if (!key) return key.error();
  if (mode == open_mode::tool)
    return std::unique_ptr<store>(std::make_unique<sql_store>(std::move(*db), std::move(*blobs), -1,
                                                              data_dir, std::move(*key)));
  // Two servers on one directory would each repair what the other is doing.
  int lock_fd = ::open((data_dir / "valise.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0) return std::error_code(errno, std::generic_category());
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd);
    return store_errc::locked;
  }
  auto s = std::make_unique<sql_store>(std::move(*db), std::move(*blobs), lock_fd, data_dir,
                                       std::move(*key));
  if (auto r = s->reconcile(); !r) return r.error();
  return std::unique_ptr<store>(std::move(s));
}

}  // namespace valise::server
