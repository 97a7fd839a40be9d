// The collector's storage: tickets, tokens, upload links, partial uploads,
// bundles and the audit chain. Handlers see only these interfaces, one per
// concern in valise/server/store/ (tickets, access, agents and requests,
// uploads and bundles, audit, outbox); `store` is all of them. SQL lives in
// the metadata backend (SQLite, or PostgreSQL for several nodes) and the ciphertext
// files behind a blob store (a local directory today: uploads/ while
// partial, bundles/ when complete).
//
// Every state change appends its audit record in the same transaction, so an
// audit record exists exactly when the change happened.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "valise/common/secret_file.hpp"
#include "valise/crypto/result.hpp"
#include "valise/server/store/access_store.hpp"
#include "valise/server/store/agent_store.hpp"
#include "valise/server/store/audit_store.hpp"
#include "valise/server/store/bundle_store.hpp"
#include "valise/server/store/outbox_store.hpp"
#include "valise/server/store/ticket_store.hpp"

namespace valise::server {

// All of it: what the server opens and hands to its parts. A part that needs
// one concern only takes that interface (the outbox worker an outbox_store).
class store : public ticket_store,
              public access_store,
              public agent_store,
              public bundle_store,
              public audit_store,
              public outbox_store {
 public:
  // serve: the one process that serves `data_dir` (it holds its lock and
  // repairs it at start-up); tool: `token create` and the like, next to a
  // running server, which touch the database only.
  enum class open_mode { serve, tool };
  // Opens (creating if needed) the store in `data_dir`: database, uploads/,
  // bundles/. Runs schema migrations; in serve mode it then reconciles blobs
  // with records so that an interrupted purge or completion leaves nothing
  // behind.
  // The metadata in `db` (SQLite in the data directory by default), the
  // blobs and audit key in `data_dir`. `why`, if given, says what failed in
  // the operator's words (a PostgreSQL server's answer, its URL redacted).
  static result<std::unique_ptr<store>> open(const std::filesystem::path& data_dir,
                                             const database_settings& db,
                                             open_mode mode = open_mode::serve,
                                             std::string* why = nullptr);
  // As above, with PostgreSQL's connection URL already built (its password
  // included; empty with SQLite): the server builds it once for the store and
  // its other connections (leader, upload locks, wakes).
  static result<std::unique_ptr<store>> open(const std::filesystem::path& data_dir,
                                             const database_settings& db,
                                             const common::wiped_string& url, open_mode mode,
                                             std::string* why);
  static result<std::unique_ptr<store>> open_sqlite(const std::filesystem::path& data_dir,
                                                    open_mode mode = open_mode::serve) {
    return open(data_dir, {}, mode);
  }
  ~store() override = default;

  // What open(serve) does with SQLite, which PostgreSQL leaves to the
  // cluster's leader (docs/cluster.md): finishes interrupted moves of files
  // and removes files no record names, leaving partial files younger than
  // `min_age` alone, since another node may be between a record's commit and
  // its file's creation or move.
  virtual result<void> reconcile(std::chrono::seconds min_age) = 0;
};

}  // namespace valise::server
