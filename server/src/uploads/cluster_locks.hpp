// One PATCH per upload across the nodes of a cluster (docs/cluster.md): each
// upload lease also takes PostgreSQL's session advisory lock on a key of the
// upload's id, so that a second PATCH on another node gets 423 Locked as on
// one node. A node that dies loses its connection, and PostgreSQL releases
// its locks with it.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "sql/sql.hpp"
#include "tus/upload_locks.hpp"
#include "valise/common/secret_file.hpp"

namespace valise::server::uploads {

// All of one node's upload locks on one connection of its own: a session
// holds any number of advisory locks, each taken and given back in one
// short round trip per PATCH, so one connection per node (not one per PATCH
// in flight) bounds what the cluster costs PostgreSQL's max_connections
// while uploads stream. Its statements run one at a time (the mutex).
// A session the database ended (a restart, a failover, an administrator)
// took the locks with it, while sql/ opens a new one silently: each lock
// notes the session (sql::connection::generation) it was taken on, and
// held() asks the database once, so that a lost session shows.
class advisory_upload_locks final : public tus::upload_locks {
 public:
  explicit advisory_upload_locks(sql::connection db) : db_(std::move(db)) {}
  bool try_lock(const std::string& id) override;
  bool held(const std::string& id) override;
  void unlock(const std::string& id) override;

  // The lock's key: 64 bits of SHA-256("valise upload " + id). Another key
  // (the writers' lock, the leader's) is equal by chance 1 in 2^64.
  static std::int64_t key_of(const std::string& id);

 private:
  std::mutex mutex_;
  sql::connection db_;
  std::unordered_map<std::string, std::uint64_t> sessions_;  // id: generation when taken
};

// advisory_upload_locks on a connection of their own to `url` (the store's
// PostgreSQL URL, password included: connection_url); null with SQLite (an
// empty `url`), where one process serves the data directory and the
// registry's lease is enough. `why`: what the database answered. The
// session's application_name is `valise-upload-locks`.
result<std::unique_ptr<tus::upload_locks>> open_upload_locks(const common::wiped_string& url,
                                                             std::string& why);

}  // namespace valise::server::uploads
