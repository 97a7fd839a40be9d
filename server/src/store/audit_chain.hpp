// The audit trail's hash chain and its checkpoints, as pure functions.
//
// Each record's hash covers the previous record's hash and this record's
// fields, each field length-prefixed so that no two records encode alike;
// editing, inserting or removing a record changes every later hash. Records
// from before the audit key (v1) are SHA-256, which anyone can recompute;
// from `audit_key::keyed_from` on they are HMAC-SHA256 under a key kept
// outside the database, which only its holder can. A checkpoint is the
// chain's length and head hash, HMAC'd with the same key, kept outside the
// database (audit.head, the journal) so that removing the newest records is
// seen too. docs/security.md says what each attacker can still do.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "valise/server/store.hpp"

namespace valise::server {

// The hash before the first record.
inline const std::string audit_genesis(64, '0');

struct audit_key {
  std::array<std::uint8_t, 32> bytes{};
  // The first record linked by HMAC; records before it are v1.
  std::int64_t keyed_from = 1;

  audit_key() = default;
  audit_key(const audit_key&) = default;
  audit_key& operator=(const audit_key&) = default;
  ~audit_key();
};

// v1: hex SHA-256 of `previous_hash` (hex) and the record's seq, time, actor,
// action, ticket_ref and detail; `record.hash` is ignored.
std::string audit_hash_v1(const std::string& previous_hash, const audit_record& record);
// The record's hash as the chain expects it: v1 before `key.keyed_from`, else
// hex HMAC-SHA256 under the key of the same fields ("valise audit v2").
std::string audit_hash(const audit_key& key, const std::string& previous_hash,
                       const audit_record& record);
// 16 hex digits naming the key (an HMAC of a constant: it tells nothing of the key).
std::string audit_key_id(const audit_key& key);

struct audit_checkpoint {
  std::int64_t records = 0;  // the chain's length
  std::string head;          // hex hash of record `records` (audit_genesis if none)
  unix_time time = 0;
  std::string key_id;
  std::string mac;  // hex HMAC-SHA256 of records, head and time
};

audit_checkpoint sign_checkpoint(const audit_key& key, std::int64_t records, std::string head,
                                 unix_time time);
// Whether the MAC is the key's (compared in constant time); false for another key's.
bool checkpoint_authentic(const audit_key& key, const audit_checkpoint& checkpoint);

// "valise-audit-checkpoint v1 records=N head=HEX time=UNIX key=ID mac=HEX":
// one line, no secret, what audit.head holds and the journal shows.
std::string format_checkpoint(const audit_checkpoint& checkpoint);
// The checkpoint anywhere in `line` (a journal line keeps its prefix);
// nullopt if there is none or it is malformed.
std::optional<audit_checkpoint> parse_checkpoint(std::string_view line);
inline constexpr std::string_view checkpoint_marker = "valise-audit-checkpoint v1 ";

// audit.key's text: the key and where keyed records begin.
std::string format_audit_key(const audit_key& key);
std::optional<audit_key> parse_audit_key(std::string_view text);

}  // namespace valise::server
