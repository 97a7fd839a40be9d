// The metadata schema and its versioned migrations (sql::connection::schema_version:
// SQLite's user_version, a table on PostgreSQL).
#pragma once

#include <span>

#include "sql/sql.hpp"

namespace valise::server::schema {

// Brings the database to the newest schema, one migration per transaction.
// A database from a newer valise-server is refused (store_errc::schema_too_new).
result<void> migrate(sql::connection& db);

// The migrations' SQL, oldest first: entry i takes the schema from version i
// to i + 1. For PostgreSQL, sql::postgresql_ddl renders each one.
std::span<const char* const> migration_scripts();

}  // namespace valise::server::schema
