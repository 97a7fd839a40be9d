// `valise-server migrate`: the metadata of one database copied into another
// (SQLite into PostgreSQL), every row as it is, so that the audit chain and
// its checkpoints hold on the target unchanged.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "valise/crypto/result.hpp"
#include "valise/server/store/types.hpp"

namespace valise::server {

struct copy_report {
  std::size_t tables = 0;
  std::uint64_t rows = 0;
};

// Copies every table of the SQLite file `from` into the PostgreSQL database
// `to` ([store] url and password_file) in dependency order (foreign keys), in
// one transaction on `to`, keeping each row's rowid (the tie-break of rows
// made in the same second), and checks each table's row count before
// committing. The source is read in one snapshot, opened read-only, and only
// with its directory's valise.lock held (no server running on it); its schema
// must be this version's (it is never migrated here). `to` is brought to the
// current schema and must hold no row yet. On failure `why` says what went
// wrong in one line.
result<copy_report> copy_database(const std::filesystem::path& from, const database_settings& to,
                                  std::string& why);

}  // namespace valise::server
