// The audit trail's hash chain, as a pure function: each record's hash is
// SHA-256 over the previous record's hash and this record's fields, each
// field length-prefixed so that no two records encode alike. Editing,
// inserting or removing a record changes every later hash
// (`valise-server audit verify`).
#pragma once

#include <string>

#include "valise/server/store.hpp"

namespace valise::server {

// The hash before the first record.
inline const std::string audit_genesis(64, '0');

// Hex SHA-256 of `previous_hash` (hex) and the record's seq, time, actor,
// action, ticket_ref and detail; `record.hash` is ignored.
std::string audit_hash(const std::string& previous_hash, const audit_record& record);

}  // namespace valise::server
