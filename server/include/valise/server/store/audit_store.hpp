// The audit trail: every state change's record, chained by HMAC, and the
// checkpoints (audit.head, journal lines) that pin it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "valise/crypto/result.hpp"
#include "valise/server/store/types.hpp"

namespace valise::server {

struct audit_record {
  std::int64_t seq = 0;
  unix_time time = 0;
  std::string actor;
  std::string action;      // "ticket.created", … (docs/api.md)
  std::string ticket_ref;  // may be empty
  std::string detail;      // a JSON object
  // hex SHA-256 (records before the audit key) or HMAC-SHA256 chaining this
  // record to the previous one
  std::string hash;
};

class audit_store {
 public:
  virtual ~audit_store() = default;

  // Audit.
  virtual result<void> audit(const actor& by, const std::string& action,
                             const std::string& ticket_ref, const std::string& detail_json) = 0;
  virtual result<std::vector<audit_record>> audit_trail(const std::string& ticket_ref) = 0;
  // The ticket's records after `seq`, at most `limit` (a timeline's page).
  virtual result<std::vector<audit_record>> audit_trail_after(const std::string& ticket_ref,
                                                              std::int64_t seq,
                                                              std::size_t limit) = 0;
  virtual result<std::vector<audit_record>> audit_since(std::int64_t seq, std::size_t limit) = 0;
  // The newest record's seq (0 for none).
  virtual result<std::int64_t> audit_last_seq() = 0;
  // `fn` runs after each commit that appended audit records, on the
  // committing thread with the store's lock held: it may only post work
  // (wake long-polls). Records another process appends do not call it.
  virtual void on_audit_committed(std::function<void()> fn) = 0;
  // A checkpoint (audit.head, or a line copied from the journal) that the
  // trail does not match.
  struct checkpoint_problem {
    enum class kind {
      missing,        // audit.head does not exist
      unreadable,     // no checkpoint in it
      other_key,      // made with another audit key
      not_authentic,  // its MAC is not the key's: forged or edited
      truncated,      // it counts more records than there are
      diverged,       // the record it counts is not the one it names
    };
    kind what;
    std::size_t source = 0;  // 0: audit.head; i: the i-th of the lines given
    std::int64_t records = 0;
    unix_time time = 0;
    std::string key_id;
  };
  struct verify_report {
    std::int64_t records = 0;
    std::int64_t last_seq = 0;
    std::optional<std::int64_t> first_bad_seq;
    std::int64_t checkpoints = 0;  // checkpoints that match
    std::vector<checkpoint_problem> problems;
  };
  // Recomputes the chain (first_bad_seq: the first record that does not
  // follow) and checks it against audit.head and `checkpoint_lines`.
  virtual result<verify_report> verify_audit(const std::vector<std::string>& checkpoint_lines) = 0;
  // Writes a checkpoint of the trail as it is now to audit.head, unless
  // audit.head already holds it; never replaces one the trail does not match
  // (audit_mismatch). `line` is the checkpoint, for the journal.
  struct checkpoint_report {
    std::string line;
    bool written = false;
    bool head_was_missing = false;
  };
  virtual result<checkpoint_report> checkpoint_audit() = 0;
};

}  // namespace valise::server
