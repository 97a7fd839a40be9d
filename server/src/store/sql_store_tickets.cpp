// Tickets, their comments, their resolution (which destroys their data) and
// retention.
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "store/secrets.hpp"
#include "store/sql_store.hpp"

namespace valise::server {
namespace {

constexpr std::string_view ticket_columns =
    "SELECT ref, title, severity, status, created_at, resolved_at, "
    "(SELECT COUNT(*) FROM bundles b WHERE b.ticket_ref = t.ref), resolution, "
    "response_due_at, due_at, first_response_at, pending_since, connector FROM tickets t ";

std::optional<unix_time> optional_time(const sql::statement& s, int column) {
  if (s.is_null(column)) return std::nullopt;
  return s.integer(column);
}

void bind_optional(sql::statement& s, const std::optional<unix_time>& t) {
  if (t)
    s.bind(*t);
  else
    s.bind_null();
}

ticket read_ticket(const sql::statement& s) {
  ticket t;
  t.ref = s.text(0);
  t.title = s.text(1);
  t.level = parse_severity(s.text(2)).value_or(severity::non_blocking);
  t.status = parse_ticket_status(s.text(3)).value_or(ticket_status::open);
  t.created_at = s.integer(4);
  if (!s.is_null(5)) t.resolved_at = s.integer(5);
  t.bundle_count = s.size(6);
  if (!s.is_null(7)) t.resolution = s.text(7);
  t.response_due_at = optional_time(s, 8);
  t.due_at = optional_time(s, 9);
  t.first_response_at = optional_time(s, 10);
  t.pending_since = optional_time(s, 11);
  const auto now = now_utc();
  t.overdue = ticket_overdue(t, now);
  t.response_overdue = ticket_response_overdue(t, now);
  if (!s.is_null(12)) t.connector = s.text(12);
  return t;
}

comment_info read_comment(const sql::statement& s) {
  return {s.text(0), s.text(1), s.text(2), s.text(3), s.integer(4), s.text(5)};
}

}  // namespace

result<ticket> sql_store::find_ticket(const std::string& ref) {
  auto stmt = db_.prepare(std::string(ticket_columns) + "WHERE ref = ?");
  if (!stmt) return stmt.error();
  auto row = stmt->bind(ref).step();
  if (!row) return row.error();
  if (!*row) return store_errc::not_found;
  return read_ticket(*stmt);
}

result<ticket> sql_store::create_ticket(const actor& by, const ticket& t) {
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
  if (!tx) return tx.error();
  // Any failure but not_found ends here: on PostgreSQL it has ended the transaction.
  if (auto existing = find_ticket(t.ref); existing)
    return store_errc::already_exists;
  else if (existing.error() != store_errc::not_found)
    return existing.error();
  ticket created = t;
  created.status = ticket_status::open;
  created.created_at = now_utc();
  created.resolved_at.reset();
  created.bundle_count = 0;
  auto insert = db_.prepare(
      "INSERT INTO tickets (ref, title, severity, status, created_at) VALUES (?, ?, ?, 'open', ?)");
  if (!insert) return insert.error();
  if (auto r =
          insert->bind(t.ref).bind(t.title).bind(to_string(t.level)).bind(created.created_at).run();
      !r)
    return r.error();
  boost::json::object detail{{"title", t.title}, {"severity", to_string(t.level)}};
  if (auto r = append_audit(by.label(), "ticket.created", t.ref, boost::json::serialize(detail));
      !r)
    return r.error();
  if (auto r = update_deadlines(t.ref); !r) return r.error();
  auto stored = find_ticket(t.ref);
  if (!stored) return stored.error();
  if (auto r = tx->commit(); !r) return r.error();
  return stored;
}

result<ticket> sql_store::get_ticket(const std::string& ref) {
  std::lock_guard lock(mutex_);
  return find_ticket(ref);
}

result<std::vector<ticket>> sql_store::list_tickets(const ticket_filter& filter) {
  std::lock_guard lock(mutex_);
  // The overdue test is ticket_overdue's, in SQL.
  auto stmt =
      db_.prepare(std::string(ticket_columns) +
                  "WHERE (?1 = '' OR status = ?1) AND (?2 = '' OR severity = ?2) AND (?4 = 0 OR "
                  "(status = 'open' AND due_at IS NOT NULL AND ?5 > due_at AND "
                  "(pending_since IS NULL OR due_at < pending_since))) " +
                  (filter.by_due_date ? "ORDER BY due_at IS NULL, due_at, created_at, rowid "
                                      : "ORDER BY created_at DESC, rowid DESC ") +
                  "LIMIT ?3");
  if (!stmt) return stmt.error();
  stmt->bind(filter.status ? to_string(*filter.status) : std::string_view())
      .bind(filter.level ? to_string(*filter.level) : std::string_view())
      .bind(sql_limit(filter.limit))
      .bind(static_cast<std::int64_t>(filter.overdue_only ? 1 : 0))
      .bind(filter.now);
  std::vector<ticket> out;
  for (;;) {
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) return out;
    out.push_back(read_ticket(*stmt));
  }
}

result<purge_report> sql_store::resolve_ticket(const actor& by, const std::string& ref,
                                               const std::optional<std::string>& resolution) {
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
  if (!tx) return tx.error();
  auto report = resolve_locked(by, ref, resolution);
  if (!report) return report.error();
  if (auto r = commit(*tx, blob_changes::dropping(*report)); !r) return r.error();
  return report;
}

result<purge_report> sql_store::resolve_locked(const actor& by, const std::string& ref,
                                               const std::optional<std::string>& resolution) {
  auto t = find_ticket(ref);
  if (!t) return t.error();
  if (t->status == ticket_status::resolved) return store_errc::ticket_resolved;

  std::vector<doomed_bundle> bundles;
  // created_at, rowid: the same order on both databases when times tie.
  auto listed = select_bundles("WHERE ticket_ref = ? ORDER BY created_at, rowid",
                               [&](sql::statement& s) { s.bind(ref); });
  if (!listed) return listed.error();
  for (auto& b : *listed) bundles.push_back({ref, {b.id, b.size, b.sha256}});
  auto uploads = select_doomed_uploads("ticket_ref = ?", [&](sql::statement& s) { s.bind(ref); });
  if (!uploads) return uploads.error();
  const auto resolved_at = now_utc();
  if (t->pending_since)
    if (auto r = end_pause(ref, *t->pending_since, resolved_at); !r) return r.error();
  auto update = db_.prepare(
      "UPDATE tickets SET status = 'resolved', resolved_at = ?, resolution = ? WHERE ref = ?");
  if (!update) return update.error();
  update->bind(resolved_at);
  if (resolution)
    update->bind(*resolution);
  else
    update->bind_null();
  if (auto r = update->bind(ref).run(); !r) return r.error();
  // Resolved, by hand or by its helpdesk: nothing is left to schedule.
  auto unschedule = db_.prepare("DELETE FROM helpdesk_resolutions WHERE ticket_ref = ?");
  if (!unschedule) return unschedule.error();
  if (auto r = unschedule->bind(ref).run(); !r) return r.error();
  auto revoke = db_.prepare("UPDATE links SET revoked = 1 WHERE ticket_ref = ?");
  if (!revoke) return revoke.error();
  if (auto r = revoke->bind(ref).run(); !r) return r.error();
  // Refused uploads hold no bytes, only their record: they go too.
  auto drop = db_.prepare("DELETE FROM uploads WHERE ticket_ref = ? AND state = 'refused'");
  if (!drop) return drop.error();
  if (auto r = drop->bind(ref).run(); !r) return r.error();
  boost::json::object detail;
  if (resolution) detail["resolution"] = *resolution;
  if (auto r = append_audit(by.label(), "ticket.resolved", ref, boost::json::serialize(detail)); !r)
    return r.error();
  if (auto r = fail_requests("ticket_ref = ?", ref, "ticket resolved", by.label()); !r)
    return r.error();
  if (t->pending_since)
    if (auto r = update_deadlines(ref); !r) return r.error();
  // A resolution with nothing to destroy still says so in the trail.
  return destroy(bundles, *uploads, "purge.resolved", by.label(), ref);
}

result<std::vector<sql_store::doomed_upload>> sql_store::select_doomed_uploads(
    std::string_view where, const std::function<void(sql::statement&)>& bind) {
  auto stmt = db_.prepare("SELECT id, ticket_ref FROM uploads WHERE state = 'receiving' AND (" +
                          std::string(where) + ") ORDER BY created_at, rowid");
  if (!stmt) return stmt.error();
  bind(*stmt);
  std::vector<doomed_upload> out;
  if (auto r = stmt->each([&] {
        out.push_back({stmt->text(1), {stmt->text(0), blobs_->upload_size(stmt->text(0))}});
      });
      !r)
    return r.error();
  return out;
}

result<ticket> sql_store::reopen_ticket(const actor& by, const std::string& ref) {
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
  if (!tx) return tx.error();
  auto t = find_ticket(ref);
  if (!t) return t.error();
  if (t->status == ticket_status::open) return store_errc::ticket_open;
  auto update = db_.prepare("UPDATE tickets SET status = 'open', resolved_at = NULL WHERE ref = ?");
  if (!update) return update.error();
  if (auto r = update->bind(ref).run(); !r) return r.error();
  if (auto r = append_audit(by.label(), "ticket.reopened", ref, "{}"); !r) return r.error();
  // Read again: overdue is worked out for the open ticket, not the resolved one.
  auto reopened = find_ticket(ref);
  if (!reopened) return reopened.error();
  if (auto r = tx->commit(); !r) return r.error();
  return reopened;
}

result<comment_info> sql_store::add_comment(const actor& by, const std::string& ticket_ref,
                                            const std::string& text) {
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
  if (!tx) return tx.error();
  if (auto t = find_ticket(ticket_ref); !t) return t.error();
  const auto label = by.label();
  const auto colon = label.find(':');
  comment_info c{random_id("cmt_"), ticket_ref,
                 by.name,           colon == std::string::npos ? label : label.substr(0, colon),
                 now_utc(),         text};
  auto insert = db_.prepare(
      "INSERT INTO comments (id, ticket_ref, author_name, author_kind, created_at, text) "
      "VALUES (?, ?, ?, ?, ?, ?)");
  if (!insert) return insert.error();
  if (auto r = insert->bind(c.id)
                   .bind(c.ticket_ref)
                   .bind(c.author)
                   .bind(c.author_kind)
                   .bind(c.created_at)
                   .bind(c.text)
                   .run();
      !r)
    return r.error();
  boost::json::object detail{{"id", c.id}, {"text", c.text}};
  if (auto r = append_audit(label, "comment.added", ticket_ref, boost::json::serialize(detail)); !r)
    return r.error();
  if (auto r = note_first_response(by, ticket_ref, c.created_at); !r) return r.error();
  if (auto r = tx->commit(); !r) return r.error();
  return c;
}

result<void> sql_store::note_first_response(const actor& by, const std::string& ref, unix_time at) {
  // The system's work and a client's upload link are no answer.
  if ((by.kind != role::technician && by.kind != role::admin) || by.id == actor::system().id)
    return {};
  auto update = db_.prepare(
      "UPDATE tickets SET first_response_at = ? WHERE ref = ? AND first_response_at IS NULL");
  if (!update) return update.error();
  return update->bind(at).bind(ref).run();
}

result<void> sql_store::end_pause(const std::string& ref, unix_time from, unix_time to) {
  auto insert =
      db_.prepare("INSERT INTO ticket_pauses (ticket_ref, from_time, to_time) VALUES (?, ?, ?)");
  if (!insert) return insert.error();
  if (auto r = insert->bind(ref).bind(from).bind(to).run(); !r) return r;
  auto update = db_.prepare("UPDATE tickets SET pending_since = NULL WHERE ref = ?");
  if (!update) return update.error();
  return update->bind(ref).run();
}

result<void> sql_store::update_deadlines(const std::string& ref) {
  auto t = find_ticket(ref);
  if (!t) return t.error();
  ticket_deadlines due;
  if (deadline_rule_) {
    std::vector<ticket_pause> pauses;
    auto stmt = db_.prepare(
        "SELECT from_time, to_time FROM ticket_pauses WHERE ticket_ref = ? ORDER BY from_time");
    if (!stmt) return stmt.error();
    stmt->bind(ref);
    if (auto r = stmt->each([&] { pauses.push_back({stmt->integer(0), stmt->integer(1)}); }); !r)
      return r;
    if (t->pending_since) pauses.push_back({*t->pending_since, std::nullopt});
    due = deadline_rule_(t->level, t->created_at, pauses);
  }
  auto update = db_.prepare("UPDATE tickets SET response_due_at = ?, due_at = ? WHERE ref = ?");
  if (!update) return update.error();
  bind_optional(*update, due.response_due_at);
  bind_optional(*update, due.due_at);
  return update->bind(ref).run();
}

void sql_store::set_deadline_rule(deadline_rule rule) {
  std::lock_guard lock(mutex_);
  deadline_rule_ = std::move(rule);
}

result<std::size_t> sql_store::refresh_deadlines() {
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
  if (!tx) return tx.error();
  std::vector<std::string> refs;
  auto stmt = db_.prepare(
      "SELECT ref FROM tickets WHERE status = 'open' OR (response_due_at IS NULL AND "
      "pending_since IS NULL)");
  if (!stmt) return stmt.error();
  if (auto r = stmt->each([&] { refs.push_back(stmt->text(0)); }); !r) return r.error();
  for (const auto& ref : refs)
    if (auto r = update_deadlines(ref); !r) return r.error();
  if (auto r = tx->commit(); !r) return r.error();
  return refs.size();
}

result<ticket> sql_store::set_pending(const actor& by, const std::string& ref) {
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
  if (!tx) return tx.error();
  auto t = find_ticket(ref);
  if (!t) return t.error();
  if (t->status == ticket_status::resolved) return store_errc::ticket_resolved;
  if (t->pending_since) return store_errc::ticket_pending;
  auto update = db_.prepare("UPDATE tickets SET pending_since = ? WHERE ref = ?");
  if (!update) return update.error();
  if (auto r = update->bind(now_utc()).bind(ref).run(); !r) return r.error();
  if (auto r = append_audit(by.label(), "ticket.pending", ref, "{}"); !r) return r.error();
  if (auto r = update_deadlines(ref); !r) return r.error();
  auto changed = find_ticket(ref);
  if (!changed) return changed.error();
  if (auto r = tx->commit(); !r) return r.error();
  return changed;
}

result<ticket> sql_store::resume_ticket(const actor& by, const std::string& ref) {
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
  if (!tx) return tx.error();
  auto t = find_ticket(ref);
  if (!t) return t.error();
  if (t->status == ticket_status::resolved) return store_errc::ticket_resolved;
  if (!t->pending_since) return store_errc::ticket_not_pending;
  const auto now = now_utc();
  if (auto r = end_pause(ref, *t->pending_since, now); !r) return r.error();
  boost::json::object detail{{"paused_seconds", now - *t->pending_since}};
  if (auto r = append_audit(by.label(), "ticket.resumed", ref, boost::json::serialize(detail)); !r)
    return r.error();
  if (auto r = update_deadlines(ref); !r) return r.error();
  auto changed = find_ticket(ref);
  if (!changed) return changed.error();
  if (auto r = tx->commit(); !r) return r.error();
  return changed;
}

result<std::array<ticket_counts, 3>> sql_store::count_tickets(unix_time now) {
  std::lock_guard lock(mutex_);
  auto stmt = db_.prepare(
      "SELECT severity, COUNT(*), SUM(CASE WHEN due_at IS NOT NULL AND ? > due_at AND "
      "(pending_since IS NULL OR due_at < pending_since) THEN 1 ELSE 0 END) FROM tickets "
      "WHERE status = 'open' GROUP BY severity");
  if (!stmt) return stmt.error();
  stmt->bind(now);
  std::array<ticket_counts, 3> out{};
  if (auto r = stmt->each([&] {
        if (auto s = parse_severity(stmt->text(0)))
          out[static_cast<std::size_t>(*s)] = {stmt->size(1), stmt->size(2)};
      });
      !r)
    return r.error();
  return out;
}

result<std::vector<comment_info>> sql_store::list_comments(const std::string& ticket_ref,
                                                           std::size_t limit) {
  std::lock_guard lock(mutex_);
  auto stmt = db_.prepare(
      "SELECT id, ticket_ref, author_name, author_kind, created_at, text FROM comments "
      "WHERE ticket_ref = ? ORDER BY created_at, rowid LIMIT ?");
  if (!stmt) return stmt.error();
  stmt->bind(ticket_ref).bind(sql_limit(limit));
  std::vector<comment_info> out;
  if (auto r = stmt->each([&] { out.push_back(read_comment(*stmt)); }); !r) return r.error();
  return out;
}

result<purge_report> sql_store::purge_expired(unix_time bundles_before, unix_time now) {
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
  if (!tx) return tx.error();
  std::vector<doomed_bundle> bundles;
  auto old = select_bundles("WHERE created_at < ? ORDER BY created_at, rowid",
                            [&](sql::statement& s) { s.bind(bundles_before); });
  if (!old) return old.error();
  for (auto& b : *old) bundles.push_back({b.ticket_ref, {b.id, b.size, b.sha256}});
  auto uploads = select_doomed_uploads("expires_at <= ?", [&](sql::statement& s) { s.bind(now); });
  if (!uploads) return uploads.error();
  auto drop = db_.prepare("DELETE FROM uploads WHERE state = 'refused' AND expires_at <= ?");
  if (!drop) return drop.error();
  if (auto r = drop->bind(now).run(); !r) return r.error();
  const auto system = actor::system().label();
  auto purged = destroy(bundles, {}, "purge.retention", system);
  if (!purged) return purged.error();
  auto expired = destroy({}, *uploads, "purge.expired_upload", system);
  if (!expired) return expired.error();
  purged->uploads = std::move(expired->uploads);
  if (auto r = commit(*tx, blob_changes::dropping(*purged)); !r) return r.error();
  return purged;
}

}  // namespace valise::server
