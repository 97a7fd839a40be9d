// store.hpp in SQL (metadata) over a blob_store (ciphertext files). The SQL
// runs through sql/sql.hpp's connection, statement and transaction, on
// SQLite or PostgreSQL, and is written so that both run it as it is
// (docs/postgresql.md, "Store SQL"). One connection per process, used by one
// thread at a time (mutex_): store calls are short. Writers are serialised
// by the database, across processes and nodes: every write transaction
// (sql::transaction) first takes SQLite's write lock (BEGIN IMMEDIATE) or,
// on PostgreSQL, one advisory lock all nodes share, so a transaction's reads
// are still true when it writes. State changes and their audit records
// commit in one transaction; files are created after their record commits
// and removed after their record's deletion commits (commit(): a
// transaction's blob_changes are made after it commits, in one place), so a
// crash leaves at most unreferenced files, which start-up removes
// (reconcile()).
#pragma once

#include <algorithm>
#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <mutex>

#include "sql/sql.hpp"
#include "store/audit_chain.hpp"
#include "store/blob_store.hpp"
#include "valise/server/store.hpp"

namespace valise::server {

class sql_store final : public store {
 public:
  sql_store(sql::connection db, std::unique_ptr<blob_store> blobs, int lock_fd,
            std::filesystem::path data_dir, audit_key key);
  ~sql_store() override;

  // Finishes what a crash interrupted: moves files of recorded bundles out of
  // uploads/, removes files that no record names. Only the serving process,
  // which holds the data directory's lock, does this (or the cluster's
  // leader, with a min_age): a `token create` next to a running server must
  // not race the server's own file moves.
  result<void> reconcile(std::chrono::seconds min_age = {}) override;

  result<new_token> create_token(const actor& by, role kind, const std::string& name) override;
  result<void> revoke_token(const actor& by, const std::string& id_or_name) override;
  result<std::vector<token_info>> list_tokens() override;
  result<actor> authenticate(const std::string& secret, unix_time now) override;

  result<user_info> create_user(const actor& by, const user_info& u,
                                const std::string& password_hash) override;
  result<std::vector<user_info>> list_users() override;
  result<user_credentials> get_user_credentials(const std::string& name) override;
  result<void> set_user_password(const actor& by, const std::string& name,
                                 const std::string& password_hash) override;
  result<void> rehash_user_password(const std::string& name, const std::string& old_hash,
                                    const std::string& new_hash) override;
  result<user_info> set_user_disabled(const actor& by, const std::string& name,
                                      bool disabled) override;
  result<new_session> create_session(const std::string& user, unix_time now,
                                     const session_policy& policy,
                                     const std::string& address) override;
  result<session_info> authenticate_session(const std::string& secret, unix_time now,
                                            const session_policy& policy,
                                            bool background = false) override;
  result<void> end_session(const actor& by, const session_info& s,
                           const std::string& reason) override;

  result<ticket> create_ticket(const actor& by, const ticket& t) override;
  result<ticket> get_ticket(const std::string& ref) override;
  result<std::vector<ticket>> list_tickets(const ticket_filter& filter) override;
  result<purge_report> resolve_ticket(const actor& by, const std::string& ref,
                                      const std::optional<std::string>& resolution) override;
  result<ticket> reopen_ticket(const actor& by, const std::string& ref) override;
  void set_deadline_rule(deadline_rule rule) override;
  result<std::size_t> refresh_deadlines() override;
  result<ticket> set_pending(const actor& by, const std::string& ref) override;
  result<ticket> resume_ticket(const actor& by, const std::string& ref) override;
  result<std::array<ticket_counts, 3>> count_tickets(unix_time now) override;
  result<comment_info> add_comment(const actor& by, const std::string& ticket_ref,
                                   const std::string& text) override;
  result<helpdesk_outcome> apply_helpdesk_delivery(const helpdesk_delivery& d,
                                                   unix_time now) override;
  result<std::vector<due_resolution>> due_helpdesk_resolutions(unix_time now) override;
  result<purge_report> resolve_scheduled(const std::string& ref, unix_time now) override;
  result<std::vector<comment_info>> list_comments(const std::string& ticket_ref,
                                                  std::size_t limit) override;

  result<new_link> create_link(const actor& by, const std::string& ticket_ref,
                               const link_terms& terms) override;
  result<link_info> get_link(const std::string& id) override;
  result<std::vector<link_info>> list_links(const std::string& ticket_ref) override;
  result<void> revoke_link(const actor& by, const std::string& id) override;

  result<upload_info> create_upload(const actor& by, upload_info u,
                                    const upload_quota& quota) override;
  result<upload_info> get_upload(const std::string& id) override;
  result<std::vector<upload_info>> receiving_uploads_of_ticket(const std::string& ticket_ref,
                                                               unix_time now) override;
  result<std::vector<std::string>> receiving_uploads(const std::string& request_id) override;
  result<upload_file> open_upload_file(const std::string& id) override;
  result<upload_file> open_upload_scratch(const std::string& id) override;
  result<void> set_upload_length(const actor& by, const std::string& id,
                                 std::uint64_t length) override;
  result<std::uint64_t> reserve_link_bytes(const std::string& upload_id,
                                           std::uint64_t want) override;
  result<bundle_info> complete_upload(const actor& by, const std::string& id,
                                      const std::string& sha256) override;
  result<void> refuse_upload(const actor& by, const std::string& id,
                             const std::string& reason) override;
  result<void> terminate_upload(const actor& by, const std::string& id) override;

  result<new_enroll_token> create_enroll_token(const actor& by, unix_time expires_at) override;
  result<void> check_enroll_token(const std::string& secret, unix_time now) override;
  result<agent_info> enroll_agent(const std::string& secret, unix_time now,
                                  const agent_facts& facts,
                                  const certificate_issuer& issue) override;
  result<agent_info> authenticate_agent(const std::string& cert_sha256, unix_time now) override;
  result<agent_info> get_agent(const std::string& id) override;
  result<std::vector<agent_info>> list_agents(const std::string& after, std::size_t limit) override;
  result<agent_info> revoke_agent(const actor& by, const std::string& id) override;
  result<agent_info> update_agent_facts(const actor& agent, const agent_facts& facts,
                                        unix_time now) override;
  result<agent_info> renew_agent_certificate(const actor& agent, const std::string& presented,
                                             const issued_certificate& cert) override;

  result<request_info> create_request(const actor& by, const request_info& r) override;
  result<request_info> get_request(const std::string& id) override;
  result<std::vector<request_info>> list_requests(const request_filter& filter) override;
  result<request_info> update_request(const actor& agent, const std::string& id,
                                      const request_update& update) override;

  result<std::vector<bundle_info>> list_bundles(const std::string& ticket_ref) override;
  result<bundle_info> get_bundle(const std::string& id) override;
  result<bundle_file> open_bundle(const actor& by, const std::string& id) override;
  result<purged_bundle> delete_bundle(const actor& by, const std::string& id) override;

  result<purge_report> purge_expired(unix_time bundles_before, unix_time now) override;

  result<void> audit(const actor& by, const std::string& action, const std::string& ticket_ref,
                     const std::string& detail_json) override;
  result<std::vector<audit_record>> audit_trail(const std::string& ticket_ref) override;
  result<std::vector<audit_record>> audit_trail_after(const std::string& ticket_ref,
                                                      std::int64_t seq, std::size_t limit) override;
  result<std::vector<audit_record>> audit_since(std::int64_t seq, std::size_t limit) override;
  result<std::int64_t> audit_last_seq() override;
  void on_audit_committed(std::function<void()> fn) override;
  result<verify_report> verify_audit(const std::vector<std::string>& checkpoint_lines) override;
  result<checkpoint_report> checkpoint_audit() override;
  result<totals> count() override;

  void set_outbox_policy(outbox_policy policy) override;
  result<std::vector<outbox_entry>> due_outbox(unix_time now, std::size_t limit) override;
  result<void> record_outbox_attempt(const std::string& id, const outbox_attempt& a,
                                     unix_time now) override;
  result<void> postpone_outbox(const std::string& target, unix_time until,
                               const std::string& error) override;
  result<std::vector<outbox_entry>> list_outbox(bool with_delivered, std::size_t limit) override;
  result<outbox_entry> retry_outbox(const actor& by, const std::string& id) override;
  result<outbox_counts> count_outbox() override;

 private:
  // Helpers below expect mutex_ held and, where they write, a transaction.
  result<void> append_audit(const std::string& actor_label, const std::string& action,
                            const std::string& ticket_ref, const std::string& detail_json);
  result<ticket> find_ticket(const std::string& ref);
  result<upload_info> find_upload(const std::string& id);
  // The upload if it is still receiving, else bad_state.
  result<upload_info> find_receiving(const std::string& id);
  result<bundle_info> find_bundle(const std::string& id);
  result<std::vector<bundle_info>> select_bundles(std::string_view where,
                                                  const std::function<void(sql::statement&)>& bind);
  // Charges a link's byte budget (no-op for other actors).
  result<void> charge_link(const actor& by, std::uint64_t bytes);
  // reserve_link_bytes in the caller's transaction.
  result<std::uint64_t> reserve_link_bytes_locked(const std::string& upload_id, std::uint64_t want);
  // Bytes `owner_id` holds in uploads (upload_quota says which count).
  result<std::uint64_t> owner_upload_bytes(const std::string& owner_id,
                                           std::uint64_t deferred_bytes, unix_time now);
  // The owner's budget and the disk's reserve, for the new upload `u`.
  result<void> check_quota(const actor& by, const upload_info& u, const upload_quota& quota);
  // Deletes the records of the unfinished uploads of u's request, audited;
  // their ids go to `replaced`, whose files the caller drops after commit.
  // busy if one of them is not in `leased`.
  result<void> replace_request_uploads(const actor& by, const upload_info& u,
                                       const std::vector<std::string>& leased,
                                       std::vector<std::string>& replaced);
  struct doomed_bundle {
    std::string ticket_ref;
    purged_bundle bundle;
  };
  struct doomed_upload {
    std::string ticket_ref;
    cancelled_upload upload;
  };
  // The receiving uploads `where` selects (a clause on uploads' columns, its
  // parameters bound by `bind`), oldest first, with the bytes they hold.
  result<std::vector<doomed_upload>> select_doomed_uploads(
      std::string_view where, const std::function<void(sql::statement&)>& bind);
  // Deletes these records and writes one `action` audit record per ticket
  // listing them, and one for `always_ticket` even if it lists nothing. The
  // caller commits with blob_changes::dropping(report).
  result<purge_report> destroy(const std::vector<doomed_bundle>& bundles,
                               const std::vector<doomed_upload>& uploads, const std::string& action,
                               const std::string& actor_label,
                               const std::string& always_ticket = {});
  // Commits `tx`, then makes `changes` to the blobs: files follow records.
  result<void> commit(sql::transaction& tx, const blob_changes& changes);
  // Refusal and termination: `change_sql` (one ? for the id) ends a receiving
  // upload, audited as `action`; then its bytes are deleted.
  result<void> end_upload(const actor& by, const std::string& id, std::string_view change_sql,
                          const std::string& action, const std::string& reason);
  result<user_info> find_user(const std::string& name);
  // Deletes the sessions `where` selects (its parameters set by `bind`), with
  // one session.ended record per user saying `reason`.
  result<void> end_sessions(std::string_view where,
                            const std::function<void(sql::statement&)>& bind,
                            const std::string& reason, const std::string& actor_label);
  // The ticket's first_response_at, if unset and `by` is a technician.
  result<void> note_first_response(const actor& by, const std::string& ref, unix_time at);
  // Records the pause [from, to) and clears pending_since.
  result<void> end_pause(const std::string& ref, unix_time from, unix_time to);
  // The ticket's due dates by deadline_rule_, in the caller's transaction.
  result<void> update_deadlines(const std::string& ref);
  // resolve_ticket's work in the caller's transaction (lock held); the
  // caller commits with the report's files to drop.
  result<purge_report> resolve_locked(const actor& by, const std::string& ref,
                                      const std::optional<std::string>& resolution);
  result<agent_info> find_agent(const std::string& id);
  result<request_info> find_request(const std::string& id);
  // Fails the unfinished requests that `where` selects (one ? bound to
  // `key`), one audit record each: a resolved ticket's, a revoked agent's.
  result<void> fail_requests(std::string_view where, const std::string& key,
                             const std::string& reason, const std::string& actor_label);
  // An agent upload's request, checked as create_upload documents.
  result<void> check_upload_request(const actor& by, const upload_info& u);
  result<std::vector<audit_record>> select_audit(std::string_view where,
                                                 const std::function<void(sql::statement&)>& bind);
  result<checkpoint_report> write_checkpoint();
  // Enqueues `event` of `ticket_ref` for each target the policy routes it to,
  // in the caller's transaction (sql_store_outbox.cpp).
  result<void> enqueue_event(const std::string& ticket_ref, std::string_view event,
                             boost::json::object data);
  result<outbox_entry> find_outbox(const std::string& id);
  // Installs the commit hook that wakes audit long-polls and the outbox.
  void announce_commits();

  std::mutex mutex_;
  sql::connection db_;
  std::unique_ptr<blob_store> blobs_;
  int lock_fd_ = -1;
  std::filesystem::path data_dir_;
  audit_key key_;
  bool appended_ = false;     // records written since the last checkpoint
  bool unannounced_ = false;  // records appended since the last commit's announcement
  std::function<void()> audit_committed_;
  deadline_rule deadline_rule_;
  outbox_policy outbox_;
  bool outbox_unannounced_ = false;  // entries added since the last commit's announcement
};

// The data directory's audit key; a new one (and the first checkpoint) if
// the trail has no keyed record yet, audit_key_missing if it has.
result<audit_key> open_audit_key(sql::connection& db, const std::filesystem::path& data_dir);

unix_time now_utc();

// A LIMIT's bound: PostgreSQL refuses a negative one, which a size_t past
// INT64_MAX would become.
inline std::int64_t sql_limit(std::uint64_t n) {
  return static_cast<std::int64_t>(std::min<std::uint64_t>(n, INT64_MAX));
}

// Lists of names (profiles, recipients) as the database keeps them: a JSON
// array of strings.
std::string to_json_text(const std::vector<std::string>& names);
std::vector<std::string> names_from_json(const std::string& text);

}  // namespace valise::server
