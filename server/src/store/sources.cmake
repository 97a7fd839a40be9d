# Sources of the store, relative to server/ (owned by the store; see store.hpp).
set(VALISE_SERVER_STORE_SOURCES
  src/store/audit_chain.cpp
  src/store/audit_files.cpp
  src/store/blob_dir.cpp
  src/store/schema.cpp
  src/store/secrets.cpp
  src/store/sqlite.cpp
  src/store/sqlite_store.cpp
  src/store/sqlite_store_access.cpp
  src/store/sqlite_store_agents.cpp
  src/store/sqlite_store_audit.cpp
  src/store/sqlite_store_requests.cpp
  src/store/sqlite_store_tickets.cpp
  src/store/sqlite_store_uploads.cpp
  src/store/sqlite_store_users.cpp
  src/store/store_types.cpp
)
