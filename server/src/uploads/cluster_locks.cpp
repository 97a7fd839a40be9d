#include "uploads/cluster_locks.hpp"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <array>

namespace valise::server::uploads {

std::int64_t advisory_upload_locks::key_of(const std::string& id) {
  const std::string text = "valise upload " + id;
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int n = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &n, EVP_sha256(), nullptr);
  std::uint64_t key = 0;
  for (int i = 0; i < 8; ++i) key = (key << 8) | digest[static_cast<std::size_t>(i)];
  return static_cast<std::int64_t>(key);
}

bool advisory_upload_locks::try_lock(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto stmt = db_.prepare("SELECT pg_try_advisory_lock(?)");
  if (stmt) {
    auto row = stmt->bind(key_of(id)).step();
    if (row && *row) {
      if (stmt->integer(0) == 0) return false;
      sessions_[id] = db_.generation();  // read after the statement, which may have reconnected
      return true;
    }
  }
  // Nobody can tell whether another node writes it: as if one did (423, and
  // clients retry) rather than risk two writers.
  spdlog::warn("upload {}: cannot take its lock in the database: {}", id, db_.error_message());
  return false;
}

bool advisory_upload_locks::held(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return false;
  // sql/ finds a session ended only when it sends something: one statement,
  // which opens a new session if the old one is gone.
  auto stmt = db_.prepare("SELECT 1");
  if (!stmt || !stmt->run()) {
    spdlog::warn("upload {}: cannot tell whether this node still holds its lock: {}", id,
                 db_.error_message());
    return false;
  }
  if (db_.generation() == it->second) return true;
  spdlog::warn("upload {}: its lock went with a database session that ended", id);
  return false;
}

void advisory_upload_locks::unlock(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto taken = sessions_.find(id);
  if (taken == sessions_.end()) return;
  const bool same_session = taken->second == db_.generation();
  sessions_.erase(taken);
  // A session ended since took the lock with it: nothing to give back (and
  // a new session would only warn that it holds no such lock).
  if (!same_session) return;
  auto stmt = db_.prepare("SELECT pg_advisory_unlock(?)");
  // A connection lost meanwhile took the lock with it: nothing to give back.
  if (!stmt || !stmt->bind(key_of(id)).run())
    spdlog::warn("upload {}: cannot give back its lock in the database: {}", id,
                 db_.error_message());
}

result<std::unique_ptr<tus::upload_locks>> open_upload_locks(const common::wiped_string& url,
                                                             std::string& why) {
  if (url.value.empty()) return std::unique_ptr<tus::upload_locks>();
  auto opened = sql::connection::open(url.value, why);
  if (!opened) return opened.error();
  // Tells this session apart in pg_stat_activity: the one whose end takes
  // the node's upload locks with it.
  if (auto named = opened->set_application_name("valise-upload-locks"); !named) {
    why = opened->error_message();
    return named.error();
  }
  return std::unique_ptr<tus::upload_locks>(
      std::make_unique<advisory_upload_locks>(std::move(*opened)));
}

}  // namespace valise::server::uploads
