// `valise-server migrate`: the metadata of one database copied into another
// (SQLite into PostgreSQL), every row as it is, so that the audit chain and
// its checkpoints hold on the target unchanged.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "valise/crypto/result.hpp"

namespace valise::server {

struct copy_report {
  std::size_t tables = 0;
  std::uint64_t rows = 0;
};

// Brings both databases to the newest schema, then copies every table of
// `from` into `to` in dependency order (foreign keys), in one transaction on
// `to`, keeping each row's rowid (the tie-break of rows made in the same
// second), and checks each table's row count before committing. `to` must
// hold no row yet. On failure `why` says what went wrong in one line.
result<copy_report> copy_database(std::string_view from_url, std::string_view to_url,
                                  std::string& why);

}  // namespace valise::server
