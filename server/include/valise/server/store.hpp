// The collector's storage: tickets, tokens, upload links, partial uploads,
// bundles and the audit chain. Handlers see only this interface; SQL lives in
// the metadata backend (SQLite today, PostgreSQL later) and the file layout in
// the blob directory (uploads/ while partial, bundles/ when complete).
//
// Every state change appends its audit record in the same transaction, so an
// audit record exists exactly when the change happened.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "valise/crypto/io.hpp"
#include "valise/crypto/result.hpp"

namespace valise::server {

using unix_time = std::int64_t;  // seconds since the epoch, UTC

enum class severity { blocking, semi_blocking, non_blocking };
enum class ticket_status { open, resolved };
enum class role { admin, technician, upload_link, agent };

// Names as the API and the database spell them ("semi-blocking", …).
std::string_view to_string(severity s);
std::string_view to_string(ticket_status s);
std::string_view to_string(role r);
std::optional<severity> parse_severity(std::string_view s);
std::optional<ticket_status> parse_ticket_status(std::string_view s);
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

struct ticket {
  std::string ref;
  std::string title;
  severity level = severity::non_blocking;
  ticket_status status = ticket_status::open;
  unix_time created_at = 0;
  std::optional<unix_time> resolved_at;
  std::uint64_t bundle_count = 0;
  // What the last resolution said (none if it said nothing); a reopening
  // keeps it.
  std::optional<std::string> resolution;
  // Deadlines in business time (the calendar's targets from created_at,
  // pushed back by the pauses); none while pending (the clock is stopped) or
  // without a deadline rule. first_response_at: a technician's first link,
  // request or comment.
  std::optional<unix_time> response_due_at;
  std::optional<unix_time> due_at;
  std::optional<unix_time> first_response_at;
  std::optional<unix_time> pending_since;  // set pending (waiting on the client)
  // As of when the ticket was read (ticket_overdue below).
  bool overdue = false;
  bool response_overdue = false;
  // The [helpdesk.NAME] connector it came from; empty: made in valise.
  std::string connector;
};

// Open, not pending and past due_at; response: besides, nobody answered yet
// and past response_due_at.
bool ticket_overdue(const ticket& t, unix_time now);
bool ticket_response_overdue(const ticket& t, unix_time now);

// A stretch of time a ticket was pending; `to` is none while it lasts.
struct ticket_pause {
  unix_time from = 0;
  std::optional<unix_time> to;
};

// A ticket's due dates, as the deadline rule (the business calendar, which
// the store does not know) computes them from its severity, creation time
// and pauses.
struct ticket_deadlines {
  std::optional<unix_time> response_due_at;
  std::optional<unix_time> due_at;
};
using deadline_rule = std::function<ticket_deadlines(severity level, unix_time created_at,
                                                     const std::vector<ticket_pause>& pauses)>;

// Open and overdue tickets of one severity (/metrics).
struct ticket_counts {
  std::uint64_t open = 0;
  std::uint64_t overdue = 0;
};

// A webhook delivery from a helpdesk connector, as the hook route read it
// (api/hook_routes.cpp): the store applies it in one transaction with the
// record that refuses its replay.
struct helpdesk_delivery {
  std::string connector;
  std::string delivery_id;
  std::string content_id;  // the signature (or body hash): a replay under a new id is one too
  std::string event;       // "updated", "solved", "closed", "reopened"
  std::string ticket_ref;
  std::string title;
  severity level = severity::non_blocking;
  std::string status;           // as the helpdesk wrote it
  unix_time grace_seconds = 0;  // solved, closed: resolve this long after now
  unix_time forget_before = 0;  // the connector's delivery ids older than this are pruned
};

// What a delivery did to valise's ticket.
enum class helpdesk_effect {
  created,
  updated,
  unchanged,
  resolution_scheduled,
  resolution_cancelled,
  reopened,
};
std::string_view to_string(helpdesk_effect e);

struct helpdesk_outcome {
  helpdesk_effect effect = helpdesk_effect::unchanged;
  std::optional<unix_time> resolve_at;  // resolution_scheduled (or already scheduled)
};

// A resolution whose grace period is over.
struct due_resolution {
  std::string ticket_ref;
  std::string connector;
  std::string event;  // "solved", "closed"
};

// A technician's note on a ticket. Its author is the token's or the user's
// name, and its kind: "user" (a console account), "technician" or "admin"
// (a token of that role).
struct comment_info {
  std::string id;  // "cmt_…"
  std::string ticket_ref;
  std::string author;
  std::string author_kind;
  unix_time created_at = 0;
  std::string text;
};

struct ticket_filter {
  std::optional<ticket_status> status;
  std::optional<severity> level;
  bool overdue_only = false;  // ticket_overdue at `now`
  unix_time now = 0;
  bool by_due_date = false;  // soonest due first (none last), else newest first
  std::size_t limit = 100;
};

struct token_info {
  std::string id;
  std::string name;
  role kind = role::technician;
  unix_time created_at = 0;
  bool revoked = false;
};

struct new_token {
  token_info info;
  std::string secret;  // shown once; the store keeps only its SHA-256
};

// What a link's drops are encrypted to: age recipients (the team's keys or
// those the link names), or a passphrase the client's page makes up and the
// client tells the technician by another channel.
enum class link_mode { recipients, passphrase };
std::string_view to_string(link_mode m);
std::optional<link_mode> parse_link_mode(std::string_view s);

// A technician account: signs in to the console with a password (argon2id;
// the store keeps only its encoded hash).
struct user_info {
  std::string name;  // unique, case-insensitively
  role kind = role::technician;
  bool disabled = false;
  unix_time created_at = 0;
  std::optional<unix_time> last_sign_in;
};

// How long sessions live ([console] in server.toml).
struct session_policy {
  std::int64_t idle_timeout = 1800;  // seconds without a request
  std::int64_t lifetime = 43200;     // seconds since sign-in, however busy
  std::size_t max_per_user = 16;     // a new one past it ends the oldest
};
// When a session ends if it is not used again: the earlier of its idle
// timeout and its lifetime.
unix_time session_expires_at(const session_info& s, const session_policy& p);

struct new_session {
  session_info info;
  std::string secret;  // the cookie's value, shown once; the store keeps its SHA-256
};

struct link_info {
  std::string id;
  std::string ticket_ref;
  unix_time created_at = 0;
  unix_time expires_at = 0;
  std::uint64_t max_bytes = 0;
  std::uint64_t used_bytes = 0;
  bool revoked = false;
  link_mode mode = link_mode::recipients;
  std::vector<std::string> recipients;  // age1... (canonical); none in passphrase mode
};

// What create_link is asked for.
struct link_terms {
  unix_time expires_at = 0;
  std::uint64_t max_bytes = 0;
  link_mode mode = link_mode::recipients;
  std::vector<std::string> recipients;
};

struct new_link {
  link_info info;
  std::string secret;
};

// One-time enrollment tokens ("vse_…"): an agent trades one for its
// certificate.
struct enroll_token_info {
  std::string id;
  unix_time created_at = 0;
  unix_time expires_at = 0;
};

struct new_enroll_token {
  enroll_token_info info;
  std::string secret;
};

// What an agent says about its host (enrollment, heartbeats).
struct agent_facts {
  std::string hostname;
  std::string os;
  std::string kernel;
  std::string version;
  std::vector<std::string> profiles;  // the profiles remote requests may use
  // The largest upload the agent can make (its spool_max_bytes); agents
  // before this field declare nothing and get the server's default.
  std::optional<std::uint64_t> max_upload_bytes;
};

struct agent_info {
  std::string id;  // "agt_…", the CN of its certificate
  agent_facts facts;
  std::string cert_sha256;  // hex SHA-256 of the current certificate (DER)
  unix_time cert_expires_at = 0;
  unix_time enrolled_at = 0;
  unix_time last_seen = 0;  // written at most every 30 s (authenticate_agent)
  std::optional<unix_time> revoked_at;
};

// A certificate the server's CA signed for an agent.
struct issued_certificate {
  std::string pem;
  std::string sha256;  // hex, of the DER
  unix_time expires_at = 0;
};
// Signs the certificate of a new agent, given the id the store chose for it.
using certificate_issuer = std::function<result<issued_certificate>(const std::string& agent_id)>;

// A diagnostics request: a technician asks an agent for a profile.
enum class request_state { queued, awaiting_approval, collecting, uploading, done, failed };

struct request_info {
  std::string id;  // "req_…"
  std::string ticket_ref;
  std::string agent_id;
  std::string profile;
  std::optional<unix_time> since;
  std::optional<unix_time> until;
  std::vector<std::string> recipients;  // age1… keys the agent checks against its own
  request_state state = request_state::queued;
  std::string bundle_id;  // once an upload for it completed
  std::string error;      // why it failed
  unix_time created_at = 0;
  unix_time updated_at = 0;
};

struct request_filter {
  std::string ticket_ref;  // empty: any
  std::string agent_id;    // empty: any
  std::optional<request_state> state;
  std::size_t limit = 100;
};

// What an agent reports about a request.
struct request_update {
  request_state state = request_state::queued;
  std::string error;
  std::string bundle_id;
};

std::string_view to_string(request_state s);
std::optional<request_state> parse_request_state(std::string_view s);
bool is_terminal(request_state s);  // done or failed
// The moves an agent may make (a same-state repeat is allowed too: an agent
// restarted after a crash reports again what it was doing).
bool transition_allowed(request_state from, request_state to);

enum class upload_state { receiving, completed, refused };

struct upload_info {
  std::string id;
  std::string ticket_ref;
  std::string owner_id;  // actor id that created it
  std::string source;    // actor label, copied to the bundle
  std::string filename;
  std::string metadata;                 // the Upload-Metadata header as received
  std::optional<std::uint64_t> length;  // absent while deferred
  std::uint64_t offset = 0;             // bytes durably received
  unix_time created_at = 0;
  unix_time updated_at = 0;  // the last byte's arrival (created_at before any)
  unix_time expires_at = 0;
  upload_state state = upload_state::receiving;
  std::string bundle_id;   // once completed
  std::string sha256;      // once completed
  std::string request_id;  // agent uploads: the request it answers
};

// What create_upload checks besides the ticket and the request. Bytes an
// owner holds are the lengths of its unfinished (unexpired) and completed
// uploads, an upload without a length counting as `deferred_bytes`.
struct upload_quota {
  std::uint64_t deferred_bytes = 0;   // what a deferred-length upload may grow to
  std::uint64_t owner_max_bytes = 0;  // 0: no budget for this owner
  std::uint64_t min_free_bytes = 0;   // left free on the data directory's disk
  // What a link's deferred-length upload holds of the link's budget from its
  // creation (the smallest age file): a link cannot make uploads without end.
  std::uint64_t deferred_link_charge = 0;
  // The request's unfinished uploads the caller holds (leased) and may
  // replace; any other one began after the caller looked (a concurrent
  // creation still writing it): busy.
  std::vector<std::string> replaces;
};

struct bundle_info {
  std::string id;
  std::string ticket_ref;
  std::string filename;
  std::uint64_t size = 0;
  std::string sha256;  // hex
  unix_time created_at = 0;
  std::string source;
};

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

// A file descriptor that closes itself; movable, not copyable.
class owned_fd {
 public:
  owned_fd() = default;
  explicit owned_fd(int fd) : fd_(fd) {}
  owned_fd(owned_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  owned_fd& operator=(owned_fd&& other) noexcept;
  ~owned_fd();
  int get() const { return fd_; }

 private:
  int fd_ = -1;
};

// An open partial upload file, positioned for appending. Not thread-safe: one
// PATCH at a time per upload (the handler serialises them).
class upload_file {
 public:
  upload_file(upload_file&&) noexcept = default;
  upload_file& operator=(upload_file&&) noexcept = default;
  result<void> append(crypto::bytes data);
  // Reads from `offset`, for rehashing a partial upload after a restart.
  result<std::size_t> read_at(std::uint64_t offset, crypto::mutable_bytes out) const;
  // Appends every byte of `other` (a checksummed PATCH's verified body), by
  // copy_file_range: in the kernel, without a pass through this process.
  result<void> append_file(const upload_file& other);
  // Drops bytes after `size` (a PATCH whose checksum failed).
  result<void> truncate(std::uint64_t size);
  // Bytes free for this process on the file's filesystem.
  result<std::uint64_t> free_bytes() const;
  // Starts writing [from, to) to disk without waiting for it, so that the
  // fsync at completion has little left to do.
  void start_writeback(std::uint64_t from, std::uint64_t to);
  std::uint64_t size() const { return size_; }

 private:
  friend class blob_dir;
  upload_file(owned_fd fd, std::uint64_t size) : fd_(std::move(fd)), size_(size) {}
  result<void> append_copy(const upload_file& other, std::uint64_t from);
  owned_fd fd_;
  std::uint64_t size_ = 0;
};

// A completed bundle's file, open for reading (downloads).
class bundle_file final : public crypto::byte_source {
 public:
  bundle_file(bundle_file&&) noexcept = default;
  bundle_file& operator=(bundle_file&&) noexcept = default;
  result<std::size_t> read(crypto::mutable_bytes out) override;
  result<void> seek(std::uint64_t offset);
  std::uint64_t size() const { return size_; }

 private:
  friend class blob_dir;
  bundle_file(owned_fd fd, std::uint64_t size) : fd_(std::move(fd)), size_(size) {}
  owned_fd fd_;
  std::uint64_t size_ = 0;
};

// A delivery the server owes a target outside (outbox/: a webhook, a
// helpdesk's REST API), written in the transaction of the change it reports
// so that a crash loses none; delivered at least once, receivers
// de-duplicate by its id.
enum class outbox_state { pending, delivered, failed };
std::string_view to_string(outbox_state s);

struct outbox_entry {
  std::string id;  // "msg_…": the webhook-id
  std::string target;
  std::string ticket_ref;
  std::string event;    // "bundle.arrived", "request.failed", "bundles.purged"
  std::string payload;  // the event's data, a JSON object
  unix_time created_at = 0;
  unix_time since = 0;  // made, or last retried by hand: the give-up age counts from it
  std::uint32_t attempts = 0;
  unix_time next_attempt_at = 0;
  unsigned last_status = 0;  // of the last attempt; 0: no HTTP answer
  std::string last_error;
  std::optional<unix_time> delivered_at;
  outbox_state state = outbox_state::pending;
};

// Who an event concerns: its ticket, and the helpdesk connector the ticket
// came from ("" for a ticket made in valise).
struct outbox_subject {
  std::string ticket_ref;
  std::string connector;
};

// What the server does with events: which targets want this ticket's event
// (called with the store's lock held, inside the transaction: it may only
// look at configuration), and how many undelivered entries a target may
// hold; past it, an event for that target is dropped, audited as
// outbox.dropped, so a target that is down cannot fill the disk.
struct outbox_policy {
  std::function<std::vector<std::string>(const outbox_subject& subject, std::string_view event)>
      route;
  std::size_t max_pending_per_target = 10000;
  // Failed entries kept per target (the oldest go first) and how long
  // delivered ones are kept, for the record.
  std::size_t max_failed_per_target = 1000;
  std::int64_t keep_delivered = 7 * 86400;
  // After each commit that added entries, on the committing thread with the
  // store's lock held: it may only post work (wake the delivery worker).
  std::function<void()> enqueued;
};

// An attempt's outcome, as the delivery worker decided it.
struct outbox_attempt {
  enum class outcome { delivered, retry, give_up };
  outcome result = outcome::retry;
  unsigned status = 0;            // 0: no HTTP answer
  std::string error;              // what went wrong, for people; never a secret
  unix_time next_attempt_at = 0;  // retry only
};

struct outbox_counts {
  struct by_target {
    std::uint64_t pending = 0;
    std::uint64_t failed = 0;
  };
  std::map<std::string, by_target> targets;
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

class store {
 public:
  // serve: the one process that serves `data_dir` (it holds its lock and
  // repairs it at start-up); tool: `token create` and the like, next to a
  // running server, which touch the database only.
  enum class open_mode { serve, tool };
  // Opens (creating if needed) the store in `data_dir`: database, uploads/,
  // bundles/. Runs schema migrations; in serve mode it then reconciles blobs
  // with records so that an interrupted purge or completion leaves nothing
  // behind.
  static result<std::unique_ptr<store>> open_sqlite(const std::filesystem::path& data_dir,
                                                    open_mode mode = open_mode::serve);
  virtual ~store() = default;

  // Tokens. `authenticate` accepts API tokens and link tokens alike; a known
  // link token that no longer works says why: ticket_resolved (its ticket's
  // resolution revoked it), link_revoked, link_expired.
  virtual result<new_token> create_token(const actor& by, role kind, const std::string& name) = 0;
  virtual result<void> revoke_token(const actor& by, const std::string& id_or_name) = 0;
  virtual result<std::vector<token_info>> list_tokens() = 0;
  virtual result<actor> authenticate(const std::string& secret, unix_time now) = 0;

  // Technician accounts. create_user: already_exists if the name is taken
  // (in any case); the others: not_found for an unknown name. Changing a
  // password or disabling a user ends their sessions.
  virtual result<user_info> create_user(const actor& by, const user_info& u,
                                        const std::string& password_hash) = 0;
  virtual result<std::vector<user_info>> list_users() = 0;
  struct user_credentials {
    user_info user;
    std::string password_hash;
  };
  virtual result<user_credentials> get_user_credentials(const std::string& name) = 0;
  virtual result<void> set_user_password(const actor& by, const std::string& name,
                                         const std::string& password_hash) = 0;
  // The same password hashed with new limits (after a sign-in): changes
  // nothing else, unless the hash changed meanwhile (not_found).
  virtual result<void> rehash_user_password(const std::string& name, const std::string& old_hash,
                                            const std::string& new_hash) = 0;
  virtual result<user_info> set_user_disabled(const actor& by, const std::string& name,
                                              bool disabled) = 0;

  // Browser sessions. create_session signs `user` in (audited
  // session.created, with `address`), ending their oldest sessions past
  // policy.max_per_user and everyone's expired ones. authenticate_session
  // gives the session whose id is `secret` if it has not expired and its
  // user is enabled (else not_found; an expired one is ended), and records
  // its use unless `background` (a request a page makes on its own).
  // end_session signs out (audited session.ended).
  virtual result<new_session> create_session(const std::string& user, unix_time now,
                                             const session_policy& policy,
                                             const std::string& address) = 0;
  virtual result<session_info> authenticate_session(const std::string& secret, unix_time now,
                                                    const session_policy& policy,
                                                    bool background = false) = 0;
  virtual result<void> end_session(const actor& by, const session_info& s,
                                   const std::string& reason) = 0;

  // Tickets.
  virtual result<ticket> create_ticket(const actor& by, const ticket& t) = 0;
  virtual result<ticket> get_ticket(const std::string& ref) = 0;
  virtual result<std::vector<ticket>> list_tickets(const ticket_filter& filter) = 0;
  // Deletes every bundle and partial upload of the ticket, revokes its links
  // and fails its unfinished requests, before returning what was destroyed.
  // `resolution` (what fixed it) replaces the ticket's previous one; the
  // ticket.resolved record keeps each.
  virtual result<purge_report> resolve_ticket(const actor& by, const std::string& ref,
                                              const std::optional<std::string>& resolution) = 0;
  virtual result<ticket> reopen_ticket(const actor& by, const std::string& ref) = 0;

  // Deadlines. The rule computes due dates whenever a ticket's clock
  // changes (creation, pending, resume, resolution); without one, tickets
  // have none. refresh_deadlines recomputes every open ticket's and every
  // one still without (start-up: tickets from before deadlines, a calendar
  // changed in server.toml), and returns how many it wrote.
  virtual void set_deadline_rule(deadline_rule rule) = 0;
  virtual result<std::size_t> refresh_deadlines() = 0;
  // Pending stops an open ticket's clock until resume (ticket.pending and
  // ticket.resumed in the trail); ticket_resolved, ticket_pending (already
  // pending) or ticket_not_pending. Resolving a pending ticket ends its pause.
  virtual result<ticket> set_pending(const actor& by, const std::string& ref) = 0;
  virtual result<ticket> resume_ticket(const actor& by, const std::string& ref) = 0;
  // Indexed by severity, at `now`.
  virtual result<std::array<ticket_counts, 3>> count_tickets(unix_time now) = 0;

  // Helpdesk connectors (issue 16). apply_helpdesk_delivery records the
  // delivery id (already_exists: a replay) and its effect in one
  // transaction: an unknown ticket is created with the connector (unless
  // the delivery says solved or closed: nothing to follow), a known one
  // updated; solved/closed schedules its resolution grace_seconds later,
  // reopened cancels that or reopens a resolved ticket. bad_state: the ref
  // is another connector's ticket. Each delivery leaves one audit record
  // with its connector and id. due_helpdesk_resolutions: those whose time
  // has come, of open tickets (a read, nothing written). resolve_scheduled
  // resolves (and purges) one by its helpdesk ("solved in NAME") if it is
  // still scheduled and due, in the transaction that checks it, so that a
  // reopening that lands first wins; not_found if it is not.
  virtual result<helpdesk_outcome> apply_helpdesk_delivery(const helpdesk_delivery& d,
                                                           unix_time now) = 0;
  virtual result<std::vector<due_resolution>> due_helpdesk_resolutions(unix_time now) = 0;
  virtual result<purge_report> resolve_scheduled(const std::string& ref, unix_time now) = 0;

  // Comments, on open and resolved tickets alike (a client may answer after
  // the resolution). add_comment records comment.added with the text, so the
  // audit trail alone tells the ticket's story; not_found for an unknown
  // ticket. list_comments: oldest first, at most `limit`.
  virtual result<comment_info> add_comment(const actor& by, const std::string& ticket_ref,
                                           const std::string& text) = 0;
  virtual result<std::vector<comment_info>> list_comments(const std::string& ticket_ref,
                                                          std::size_t limit) = 0;

  // Upload links.
  virtual result<new_link> create_link(const actor& by, const std::string& ticket_ref,
                                       const link_terms& terms) = 0;
  virtual result<link_info> get_link(const std::string& id) = 0;
  virtual result<std::vector<link_info>> list_links(const std::string& ticket_ref) = 0;
  virtual result<void> revoke_link(const actor& by, const std::string& id) = 0;

  // Uploads. create_upload charges a link's budget with `length` (if known),
  // checks `quota` (quota_exceeded; no_space_on_device when the disk would
  // go under its reserve); an agent's upload names its request, which must
  // be the agent's, not finished and without a bundle yet; it replaces the
  // request's unfinished uploads (their bytes deleted, audited as
  // upload.replaced); completion links the bundle to it.
  virtual result<upload_info> create_upload(const actor& by, upload_info u,
                                            const upload_quota& quota) = 0;
  virtual result<upload_info> get_upload(const std::string& id) = 0;
  // The ticket's unfinished, unexpired uploads, oldest first (live progress:
  // each offset is the partial file's size now).
  virtual result<std::vector<upload_info>> receiving_uploads_of_ticket(
      const std::string& ticket_ref, unix_time now) = 0;
  // The unfinished uploads answering a request (those create_upload replaces).
  virtual result<std::vector<std::string>> receiving_uploads(const std::string& request_id) = 0;
  virtual result<upload_file> open_upload_file(const std::string& id) = 0;
  // A file without a name beside the upload's, for a checksummed PATCH's
  // body until its digest matched: a crash mid-PATCH leaves nothing.
  virtual result<upload_file> open_upload_scratch(const std::string& id) = 0;
  // Sets a deferred length (a link's upload then holds exactly that much of
  // its budget: budget_exceeded if it cannot).
  virtual result<void> set_upload_length(const actor& by, const std::string& id,
                                         std::uint64_t length) = 0;
  // A link's deferred-length upload holds part of the link's byte budget,
  // charged as its bytes arrive: sets that part to `want` if the budget
  // allows, else raises it as far as the budget allows (never lowers it
  // then), in one transaction, so that uploads on one link never together
  // pass its budget. Returns what the upload holds now. Uploads that are not
  // a link's hold nothing: `want` is returned. not_found: the upload is gone
  // (deleted while a PATCH streamed).
  virtual result<std::uint64_t> reserve_link_bytes(const std::string& upload_id,
                                                   std::uint64_t want) = 0;
  // fsyncs the file, records the bundle, moves the file to bundles/.
  virtual result<bundle_info> complete_upload(const actor& by, const std::string& id,
                                              const std::string& sha256) = 0;
  // Deletes the bytes and marks the upload refused (plaintext, …).
  virtual result<void> refuse_upload(const actor& by, const std::string& id,
                                     const std::string& reason) = 0;
  virtual result<void> terminate_upload(const actor& by, const std::string& id) = 0;

  // Enrollment and agents.
  virtual result<new_enroll_token> create_enroll_token(const actor& by, unix_time expires_at) = 0;
  // Whether `secret` is an unused, unexpired enrollment token (checked before
  // an enrollment's body is read); not_found if not.
  virtual result<void> check_enroll_token(const std::string& secret, unix_time now) = 0;
  // Consumes the token and records a new agent with the certificate `issue`
  // signs for its id, all or nothing: a token enrolls one agent at most.
  virtual result<agent_info> enroll_agent(const std::string& secret, unix_time now,
                                          const agent_facts& facts,
                                          const certificate_issuer& issue) = 0;
  // The agent presenting the certificate with this fingerprint, revoked or
  // not (the caller refuses revoked ones); not_found for an unknown or
  // expired certificate. Records last_seen, writing it at
  // most once per 30 s per agent so that long-polls do not write the database.
  virtual result<agent_info> authenticate_agent(const std::string& cert_sha256, unix_time now) = 0;
  virtual result<agent_info> get_agent(const std::string& id) = 0;
  virtual result<std::vector<agent_info>> list_agents() = 0;
  // Revoking a revoked agent changes nothing and returns it.
  virtual result<agent_info> revoke_agent(const actor& by, const std::string& id) = 0;
  virtual result<agent_info> update_agent_facts(const actor& agent, const agent_facts& facts,
                                                unix_time now) = 0;
  // The agent's new certificate, asked for with the one whose fingerprint is
  // `presented`. That one keeps working until the new one is first presented
  // (or it expires), so that a renewal whose answer was lost does not lock
  // the agent out.
  virtual result<agent_info> renew_agent_certificate(const actor& agent,
                                                     const std::string& presented,
                                                     const issued_certificate& cert) = 0;

  // Requests. create_request needs an open ticket and an agent not revoked.
  virtual result<request_info> create_request(const actor& by, const request_info& r) = 0;
  virtual result<request_info> get_request(const std::string& id) = 0;
  virtual result<std::vector<request_info>> list_requests(const request_filter& filter) = 0;
  // An agent's state report: only for its own requests (else not_found),
  // along transition_allowed (else bad_state; request_finished once done or
  // failed); done needs the request's bundle (bad_state otherwise).
  virtual result<request_info> update_request(const actor& agent, const std::string& id,
                                              const request_update& update) = 0;

  // Bundles.
  virtual result<std::vector<bundle_info>> list_bundles(const std::string& ticket_ref) = 0;
  virtual result<bundle_info> get_bundle(const std::string& id) = 0;
  // Opens the content and records the download in the audit trail.
  virtual result<bundle_file> open_bundle(const actor& by, const std::string& id) = 0;
  virtual result<purged_bundle> delete_bundle(const actor& by, const std::string& id) = 0;

  // Retention: bundles created before `bundles_before`, uploads expired at `now`.
  virtual result<purge_report> purge_expired(unix_time bundles_before, unix_time now) = 0;

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

  // The outbox. Events of the changes above are enqueued as the policy
  // routes them (none until it is set).
  virtual void set_outbox_policy(outbox_policy policy) = 0;
  // Pending entries due at `now`, the oldest first.
  virtual result<std::vector<outbox_entry>> due_outbox(unix_time now, std::size_t limit) = 0;
  // Records an attempt on a pending entry; delivered and given up are
  // audited (outbox.delivered, outbox.given_up). not_found if it is gone,
  // bad_state if it is no longer pending (retried by hand meanwhile is fine).
  virtual result<void> record_outbox_attempt(const std::string& id, const outbox_attempt& a,
                                             unix_time now) = 0;
  // A target that did not answer: its pending entries due before `until`
  // wait until then too, `error` as their last error (not an attempt), so
  // that one unreachable target costs one timeout per backoff, not one per
  // entry.
  virtual result<void> postpone_outbox(const std::string& target, unix_time until,
                                       const std::string& error) = 0;
  // Pending and failed entries (with_delivered: delivered ones too), the
  // newest first.
  virtual result<std::vector<outbox_entry>> list_outbox(bool with_delivered, std::size_t limit) = 0;
  // A pending or failed entry due now, its give-up age counted from now;
  // audited (outbox.retried). bad_state for a delivered one.
  virtual result<outbox_entry> retry_outbox(const actor& by, const std::string& id) = 0;
  virtual result<outbox_counts> count_outbox() = 0;

  // Gauges for /metrics.
  struct totals {
    std::uint64_t bundles = 0;
    std::uint64_t bundle_bytes = 0;
  };
  virtual result<totals> count() = 0;
};

}  // namespace valise::server

template <>
struct std::is_error_code_enum<valise::server::store_errc> : std::true_type {};
