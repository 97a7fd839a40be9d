// What every part of the store speaks of: time, roles, who acts, what a
// purge destroyed, and the store's error codes (valise/server/store.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace valise::server {

using unix_time = std::int64_t;  // seconds since the epoch, UTC

enum class role { admin, technician, upload_link, agent };

// Names as the API and the database spell them ("technician", …).
std::string_view to_string(role r);
// admin or technician: link tokens are made by links, not by name.
std::optional<role> parse_role(std::string_view s);

// A browser session of a technician account (the console), as the store
// keeps it: by the SHA-256 of its id, which only the browser holds.
struct session_info {
  std::string id_sha256;  // raw 32 bytes
  std::string user;
  role kind = role::technician;
  std::string csrf;  // what X-Valise-CSRF must say
  unix_time created_at = 0;
  unix_time last_used_at = 0;
};

// Who is acting: resolved from a bearer token, a session cookie, an agent's
// client certificate, or the server itself.
struct actor {
  role kind = role::technician;
  std::string id;    // token, link or agent id; "system" for the server's own work
  std::string name;  // token name; link or agent id for links and agents
  // Upload links only:
  std::string ticket_ref;
  unix_time expires_at = 0;
  std::uint64_t max_bytes = 0;
  std::uint64_t used_bytes = 0;
  // Signed in with a session cookie: id is "user:NAME", name the user's.
  std::optional<session_info> session;

  // "technician:alice", "user:alice", "link:lnk_…", "agent:agt_…", "system"
  std::string label() const;
  static actor system();
  // A [helpdesk.NAME] connector acting on its tickets: "helpdesk:NAME".
  static actor helpdesk(const std::string& connector);
};

// What a resolution, a deletion or the retention purge destroyed.
struct purged_bundle {
  std::string id;
  std::uint64_t size = 0;
  std::string sha256;
};
struct cancelled_upload {
  std::string id;
  std::uint64_t offset = 0;
};
struct purge_report {
  std::vector<purged_bundle> bundles;
  std::vector<cancelled_upload> uploads;
};

enum class store_errc {
  not_found = 1,       // no such ticket / upload / bundle / token / link
  already_exists,      // ticket ref taken
  ticket_resolved,     // the ticket is resolved: no uploads, links, bundles
  ticket_open,         // reopen of an open ticket
  bad_state,           // e.g. append to a completed upload
  budget_exceeded,     // link byte budget
  quota_exceeded,      // an owner's upload budget (upload_quota)
  corrupt,             // the database or a blob disagrees with itself
  schema_too_new,      // database written by a newer valise-server
  locked,              // another valise-server serves this data directory
  revoked,             // the agent is revoked
  request_finished,    // the request is done or failed
  has_bundle,          // the request already has its bundle
  audit_key_missing,   // audit.key is gone while the trail has records it signed
  audit_mismatch,      // audit.head does not match the trail (records removed or rewritten)
  busy,                // an upload the caller does not hold would be replaced
  link_expired,        // a known link token whose link expired
  link_revoked,        // a known link token whose link was revoked
  ticket_pending,      // pending a ticket already pending
  ticket_not_pending,  // resuming a ticket that is not pending
};
const std::error_category& store_category();
std::error_code make_error_code(store_errc e);

// Text a database refused to store: a NUL byte or bytes that are not UTF-8
// (refused by both backends alike, so a client gets the same 400 on each).
bool is_invalid_text(const std::error_code& ec);

// The database cannot be reached (PostgreSQL down, restarting, failing
// over): the store tries again on the next call (docs/postgresql.md).
bool is_database_unavailable(const std::error_code& ec);

// Where the metadata lives ([store] in server.toml).
struct database_settings {
  // Empty: SQLite in the data directory's valise.db. "postgresql://…": a
  // libpq connection URI (docs/postgresql.md).
  std::string url;
  // A file holding PostgreSQL's password (absolute), instead of one in the
  // URL; empty: none, or libpq's own ~/.pgpass or PGPASSFILE.
  std::string password_file;
};
// The URL with any password in it replaced by "***", for logs and messages.
std::string redacted_url(std::string_view url);
// PostgreSQL's NOTIFY channel of wake-ups across nodes: the payload is the id
// of an agent to wake (a request for it, or its revocation), or "*" for the
// console's event long-polls (an audit record).
inline constexpr const char* wake_channel = "valise_wake";

}  // namespace valise::server

template <>
struct std::is_error_code_enum<valise::server::store_errc> : std::true_type {};
