// Who else may be writing an upload: the registry's lease is per process, so
// with several nodes sharing the partial files (docs/cluster.md) each lease
// also claims the upload cluster-wide through this interface. One process
// alone needs none (the registry's own lease is enough): the registry then
// has no upload_locks.
#pragma once

#include <string>

namespace valise::server::tus {

class upload_locks {
 public:
  virtual ~upload_locks() = default;
  // true: this process holds `id` until unlock(id). false: another process
  // holds it, or nobody could tell (the client is told 423 and retries).
  // Called twice for one id without an unlock between only after held()
  // said no (the registry holds one lease per id, and takes it back then).
  virtual bool try_lock(const std::string& id) = 0;
  // Whether this process still holds `id`, taken by try_lock: a lock can be
  // lost while held (the database ended the session that held it), and then
  // another process may write the upload. Asked once at the end of each
  // PATCH, before its bytes count (and again before completing): it may
  // cost a round trip. false when nobody could tell.
  virtual bool held(const std::string& id) = 0;
  virtual void unlock(const std::string& id) = 0;
};

}  // namespace valise::server::tus
