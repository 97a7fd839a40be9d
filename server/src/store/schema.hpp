// The metadata schema and its versioned migrations (PRAGMA user_version).
#pragma once

#include "store/sqlite.hpp"

namespace valise::server::sqlite {

// Brings the database to the newest schema, one migration per transaction.
// A database from a newer valise-server is refused (store_errc::schema_too_new).
result<void> migrate(connection& db);

}  // namespace valise::server::sqlite
