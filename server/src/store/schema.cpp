#include "store/schema.hpp"

#include <array>
#include <string>

#include "sql/dialect.hpp"
#include "valise/server/store.hpp"

namespace valise::server::schema {
namespace {

// Each entry takes the schema from version i to i + 1. Never edit a released
// entry: append a new one.
constexpr std::array migrations{
    R"sql(
CREATE TABLE tokens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin', 'technician')),
  secret_sha256 BLOB NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX tokens_active_name ON tokens (name) WHERE revoked = 0;

CREATE TABLE tickets (
  ref TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  severity TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
  created_at INTEGER NOT NULL,
  resolved_at INTEGER
);
CREATE INDEX tickets_created ON tickets (created_at);

CREATE TABLE links (
  id TEXT PRIMARY KEY,
  ticket_ref TEXT NOT NULL REFERENCES tickets (ref),
  secret_sha256 BLOB NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  max_bytes INTEGER NOT NULL,
  used_bytes INTEGER NOT NULL DEFAULT 0,
  revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX links_ticket ON links (ticket_ref);

CREATE TABLE uploads (
  id TEXT PRIMARY KEY,
  ticket_ref TEXT NOT NULL REFERENCES tickets (ref),
  owner_id TEXT NOT NULL,
  source TEXT NOT NULL,
  filename TEXT NOT NULL,
  metadata TEXT NOT NULL,
  length INTEGER,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('receiving', 'completed', 'refused')),
  bundle_id TEXT,
  sha256 TEXT
);
CREATE INDEX uploads_ticket ON uploads (ticket_ref);

-- upload_id names the partial file a bundle came from: if the server stops
-- between recording the bundle and moving its file, start-up finishes the move.
CREATE TABLE bundles (
  id TEXT PRIMARY KEY,
  ticket_ref TEXT NOT NULL REFERENCES tickets (ref),
  upload_id TEXT NOT NULL,
  filename TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  source TEXT NOT NULL
);
CREATE INDEX bundles_ticket ON bundles (ticket_ref);
CREATE INDEX bundles_created ON bundles (created_at);

CREATE TABLE audit (
  seq INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  ticket_ref TEXT NOT NULL,
  detail TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_ticket ON audit (ticket_ref, seq);
)sql",
    // 2: agents (issue 4): enrollment tokens, agents and their certificates,
    // diagnostics requests, and the request an agent's upload answers.
    R"sql(
CREATE TABLE enroll_tokens (
  id TEXT PRIMARY KEY,
  secret_sha256 BLOB NOT NULL UNIQUE,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER,
  agent_id TEXT
);

-- previous_cert_*: the certificate a renewal replaced, accepted until the
-- new one is first presented or it expires.
CREATE TABLE agents (
  id TEXT PRIMARY KEY,
  cert_sha256 TEXT NOT NULL UNIQUE,
  cert_expires_at INTEGER NOT NULL,
  previous_cert_sha256 TEXT UNIQUE,
  previous_cert_expires_at INTEGER,
  hostname TEXT NOT NULL,
  os TEXT NOT NULL,
  kernel TEXT NOT NULL,
  version TEXT NOT NULL,
  profiles TEXT NOT NULL,
  enrolled_at INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  revoked_at INTEGER
);

CREATE TABLE requests (
  id TEXT PRIMARY KEY,
  ticket_ref TEXT NOT NULL REFERENCES tickets (ref),
  agent_id TEXT NOT NULL REFERENCES agents (id),
  profile TEXT NOT NULL,
  since INTEGER,
  until INTEGER,
  recipients TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued', 'awaiting_approval', 'collecting', 'uploading',
                                       'done', 'failed')),
  bundle_id TEXT,
  error TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX requests_ticket ON requests (ticket_ref, created_at);
CREATE INDEX requests_agent_state ON requests (agent_id, state);

ALTER TABLE uploads ADD COLUMN request_id TEXT;
)sql",
    // 3: the largest upload an agent declares it can make (issue 13); NULL
    // for agents that declared nothing (uploads.agent_max_bytes applies).
    R"sql(
ALTER TABLE agents ADD COLUMN max_upload_bytes INTEGER;
)sql",
    // 4: the audit key (issue 13): records from keyed_from on are HMAC'd
    // with DATA/audit.key; those before keep their SHA-256 (v1) hashes. The
    // key file records the same point; this copy only tells a new
    // installation (no keyed record yet: make a key) from a lost key.
    R"sql(
CREATE TABLE audit_keyed (keyed_from INTEGER NOT NULL);
INSERT INTO audit_keyed SELECT COALESCE(MAX(seq), 0) + 1 FROM audit;
)sql",
    // 5: technician accounts and their browser sessions (issue 14). Names
    // are unique whatever their case; a session is kept by the SHA-256 of
    // its id, which only the browser holds.
    R"sql(
CREATE TABLE users (
  name TEXT PRIMARY KEY COLLATE NOCASE,
  role TEXT NOT NULL CHECK (role IN ('admin', 'technician')),
  password_hash TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  last_sign_in INTEGER
);

CREATE TABLE sessions (
  id_sha256 BLOB PRIMARY KEY,
  user TEXT NOT NULL COLLATE NOCASE REFERENCES users (name),
  csrf TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user, created_at);
)sql",
    // 6: links for the browser drop page (issue 14): what a link's drops are
    // encrypted to (mode, and the age recipients as a JSON list), and the
    // part of its link's byte budget each upload holds (link_charged),
    // charged as a deferred-length upload's bytes arrive. Uploads made with a
    // link before held their whole length from creation.
    R"sql(
ALTER TABLE links ADD COLUMN mode TEXT NOT NULL DEFAULT 'recipients'
  CHECK (mode IN ('recipients', 'passphrase'));
ALTER TABLE links ADD COLUMN recipients TEXT NOT NULL DEFAULT '[]';
ALTER TABLE uploads ADD COLUMN link_charged INTEGER NOT NULL DEFAULT 0;
UPDATE uploads SET link_charged = length
  WHERE length IS NOT NULL AND owner_id IN (SELECT id FROM links);
)sql",
    // 7: the ticket's conversation (issue 16): comments (the text bounded by
    // the API, the author as the token's or user's name and kind) and the
    // text the last resolution gave, kept when the ticket is reopened; each
    // resolution's text also stays in its ticket.resolved audit record.
    R"sql(
CREATE TABLE comments (
  id TEXT PRIMARY KEY,
  ticket_ref TEXT NOT NULL REFERENCES tickets (ref),
  author_name TEXT NOT NULL,
  author_kind TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  text TEXT NOT NULL
);
CREATE INDEX comments_ticket ON comments (ticket_ref, created_at);
ALTER TABLE tickets ADD COLUMN resolution TEXT;
)sql",
    // 8 (deadlines helper): deadlines in business time (issue 16). The due
    // dates need the calendar, which SQL does not have: they stay NULL here
    // and the server computes them at start-up (store::refresh_deadlines,
    // which also follows a calendar changed in server.toml). The first
    // response of existing tickets is their first link, request or comment,
    // all of which only technicians make. Pauses are kept closed
    // (from_time, to_time) so that due dates can be computed again; the
    // open one is tickets.pending_since.
    R"sql(
ALTER TABLE tickets ADD COLUMN response_due_at INTEGER;
ALTER TABLE tickets ADD COLUMN due_at INTEGER;
ALTER TABLE tickets ADD COLUMN first_response_at INTEGER;
ALTER TABLE tickets ADD COLUMN pending_since INTEGER;
CREATE INDEX tickets_due ON tickets (status, due_at);
CREATE TABLE ticket_pauses (
  ticket_ref TEXT NOT NULL REFERENCES tickets (ref),
  from_time INTEGER NOT NULL,
  to_time INTEGER NOT NULL
);
CREATE INDEX ticket_pauses_ticket ON ticket_pauses (ticket_ref, from_time);
UPDATE tickets SET first_response_at = (
  SELECT MIN(at) FROM (
    SELECT created_at AS at FROM comments WHERE ticket_ref = tickets.ref
    UNION ALL SELECT created_at FROM links WHERE ticket_ref = tickets.ref
    UNION ALL SELECT created_at FROM requests WHERE ticket_ref = tickets.ref));
)sql",
    // 9 (helpdesk, issue 16): the helpdesk connector a ticket came from
    // (NULL: made in valise); the ids of deliveries received, to refuse
    // replays, pruned past each connector's window; resolutions a helpdesk
    // asked for, performed when their grace period ends (kept here so that a
    // restart does not lose them).
    R"sql(
ALTER TABLE tickets ADD COLUMN connector TEXT;
CREATE TABLE helpdesk_deliveries (
  connector TEXT NOT NULL,
  delivery_id TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (connector, delivery_id)
);
CREATE INDEX helpdesk_deliveries_received ON helpdesk_deliveries (connector, received_at);
CREATE TABLE helpdesk_resolutions (
  ticket_ref TEXT PRIMARY KEY REFERENCES tickets (ref),
  connector TEXT NOT NULL,
  event TEXT NOT NULL,
  resolve_at INTEGER NOT NULL
);
CREATE INDEX helpdesk_resolutions_due ON helpdesk_resolutions (resolve_at);
)sql",
    // 10 (outbox, issue 16): deliveries owed to targets outside (webhooks,
    // helpdesks), written in the transaction of the change they report so
    // that a crash loses none. `since` is when the entry was made or last
    // retried by hand: the give-up age counts from it.
    R"sql(
CREATE TABLE outbox (
  id TEXT PRIMARY KEY,
  target TEXT NOT NULL,
  ticket_ref TEXT NOT NULL,
  event TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  since INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_status INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  delivered_at INTEGER,
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed'))
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_target ON outbox (target, state, created_at);
)sql",
};

}  // namespace

std::span<const char* const> migration_scripts() {
  return migrations;
}

result<void> migrate(sql::connection& db) {
  for (;;) {
    // The version is read under the write lock: two processes (or nodes)
    // opening a new database at once must not both apply the same migration.
    auto tx = sql::transaction::begin(db);
    if (!tx) return tx.error();
    auto version = db.schema_version();
    if (!version) return version.error();
    if (*version > static_cast<int>(migrations.size())) return store_errc::schema_too_new;
    if (*version == static_cast<int>(migrations.size())) return {};
    const char* script = migrations[static_cast<std::size_t>(*version)];
    const std::string ddl =
        db.kind() == sql::backend::postgresql ? sql::postgresql_ddl(script) : script;
    if (auto r = db.exec(ddl.c_str()); !r) return r;
    if (auto r = db.set_schema_version(*version + 1); !r) return r;
    if (auto r = tx->commit(); !r) return r;
  }
}

}  // namespace valise::server::schema
