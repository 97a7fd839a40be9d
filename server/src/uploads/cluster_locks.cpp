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
    if (row && *row) return stmt->integer(0) != 0;
  }
  // Nobody can tell whether another node writes it: as if one did (423, and
  // clients retry) rather than risk two writers.
  spdlog::warn("upload {}: cannot take its lock in the database: {}", id, db_.error_message());
  return false;
}

void advisory_upload_locks::unlock(const std::string& id) {
  std::lock_guard lock(mutex_);
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
  return std::unique_ptr<tus::upload_locks>(
      std::make_unique<advisory_upload_locks>(std::move(*opened)));
}

}  // namespace valise::server::uploads
