// The collector's storage: tickets, tokens, upload links, partial uploads,
// bundles and the audit chain. Handlers see only this interface; SQL lives in
// the metadata backend (SQLite today, PostgreSQL later) and the file layout in
// the blob directory (uploads/ while partial, bundles/ when complete).
//
// Every state change appends its audit record in the same transaction, so an
// audit record exists exactly when the change happened.
#pragma once

#include <cstdint>
#include <filesystem>
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
enum class role { admin, technician, upload_link };

// Names as the API and the database spell them ("semi-blocking", …).
std::string_view to_string(severity s);
std::string_view to_string(ticket_status s);
std::string_view to_string(role r);
std::optional<severity> parse_severity(std::string_view s);
std::optional<ticket_status> parse_ticket_status(std::string_view s);
// admin or technician: link tokens are made by links, not by name.
std::optional<role> parse_role(std::string_view s);

// Who is acting: resolved from a bearer token, or the server itself.
struct actor {
  role kind = role::technician;
  std::string id;    // token or link id; "system" for the server's own work
  std::string name;  // token name; link id for links
  // Upload links only:
  std::string ticket_ref;
  unix_time expires_at = 0;
  std::uint64_t max_bytes = 0;
  std::uint64_t used_bytes = 0;

  std::string label() const;  // "technician:alice", "link:lnk_…", "system"
  static actor system();
};

struct ticket {
  std::string ref;
  std::string title;
  severity level = severity::non_blocking;
  ticket_status status = ticket_status::open;
  unix_time created_at = 0;
  std::optional<unix_time> resolved_at;
  std::uint64_t bundle_count = 0;
};

struct ticket_filter {
  std::optional<ticket_status> status;
  std::optional<severity> level;
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

struct link_info {
  std::string id;
  std::string ticket_ref;
  unix_time created_at = 0;
  unix_time expires_at = 0;
  std::uint64_t max_bytes = 0;
  std::uint64_t used_bytes = 0;
  bool revoked = false;
};

struct new_link {
  link_info info;
  std::string secret;
};

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
  unix_time expires_at = 0;
  upload_state state = upload_state::receiving;
  std::string bundle_id;  // once completed
  std::string sha256;     // once completed
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
  std::string hash;        // hex SHA-256 chaining this record to the previous one
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
  // Drops bytes after `size` (a PATCH whose checksum failed).
  result<void> truncate(std::uint64_t size);
  // Starts writing [from, to) to disk without waiting for it, so that the
  // fsync at completion has little left to do.
  void start_writeback(std::uint64_t from, std::uint64_t to);
  std::uint64_t size() const { return size_; }

 private:
  friend class blob_dir;
  upload_file(owned_fd fd, std::uint64_t size) : fd_(std::move(fd)), size_(size) {}
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

enum class store_errc {
  not_found = 1,    // no such ticket / upload / bundle / token / link
  already_exists,   // ticket ref taken
  ticket_resolved,  // the ticket is resolved: no uploads, links, bundles
  ticket_open,      // reopen of an open ticket
  bad_state,        // e.g. append to a completed upload
  budget_exceeded,  // link byte budget
  corrupt,          // the database or a blob disagrees with itself
  schema_too_new,   // database written by a newer valise-server
  locked,           // another valise-server serves this data directory
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

  // Tokens. `authenticate` accepts API tokens and link tokens alike.
  virtual result<new_token> create_token(const actor& by, role kind, const std::string& name) = 0;
  virtual result<void> revoke_token(const actor& by, const std::string& id_or_name) = 0;
  virtual result<std::vector<token_info>> list_tokens() = 0;
  virtual result<actor> authenticate(const std::string& secret, unix_time now) = 0;

  // Tickets.
  virtual result<ticket> create_ticket(const actor& by, const ticket& t) = 0;
  virtual result<ticket> get_ticket(const std::string& ref) = 0;
  virtual result<std::vector<ticket>> list_tickets(const ticket_filter& filter) = 0;
  // Deletes every bundle and partial upload of the ticket and revokes its
  // links, before returning what was destroyed.
  virtual result<purge_report> resolve_ticket(const actor& by, const std::string& ref) = 0;
  virtual result<ticket> reopen_ticket(const actor& by, const std::string& ref) = 0;

  // Upload links.
  virtual result<new_link> create_link(const actor& by, const std::string& ticket_ref,
                                       unix_time expires_at, std::uint64_t max_bytes) = 0;
  virtual result<std::vector<link_info>> list_links(const std::string& ticket_ref) = 0;
  virtual result<void> revoke_link(const actor& by, const std::string& id) = 0;

  // Uploads. create_upload charges a link's budget with `length` (if known).
  virtual result<upload_info> create_upload(const actor& by, upload_info u) = 0;
  virtual result<upload_info> get_upload(const std::string& id) = 0;
  virtual result<upload_file> open_upload_file(const std::string& id) = 0;
  // Sets a deferred length (charging a link's budget).
  virtual result<void> set_upload_length(const actor& by, const std::string& id,
                                         std::uint64_t length) = 0;
  // fsyncs the file, records the bundle, moves the file to bundles/.
  virtual result<bundle_info> complete_upload(const actor& by, const std::string& id,
                                              const std::string& sha256) = 0;
  // Deletes the bytes and marks the upload refused (plaintext, …).
  virtual result<void> refuse_upload(const actor& by, const std::string& id,
                                     const std::string& reason) = 0;
  virtual result<void> terminate_upload(const actor& by, const std::string& id) = 0;

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
  virtual result<std::vector<audit_record>> audit_since(std::int64_t seq, std::size_t limit) = 0;
  // Recomputes the chain; the error names the first record that does not match.
  struct verify_report {
    std::int64_t records = 0;
    std::optional<std::int64_t> first_bad_seq;
  };
  virtual result<verify_report> verify_audit() = 0;

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
