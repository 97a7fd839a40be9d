// Tickets, their comments, their resolution (which destroys their data) and
// retention.
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "store/secrets.hpp"
#include "store/sqlite_store.hpp"

namespace valise::server {
namespace {

constexpr std::string_view ticket_columns =
    "SELECT ref, title, severity, status, created_at, resolved_at, "
    "(SELECT COUNT(*) FROM bundles b WHERE b.ticket_ref = t.ref), resolution, connector "
    "FROM tickets t ";

ticket read_ticket(const sqlite::statement& s) {
  ticket t;
  t.ref = s.text(0);
  t.title = s.text(1);
  t.level = parse_severity(s.text(2)).value_or(severity::non_blocking);
  t.status = parse_ticket_status(s.text(3)).value_or(ticket_status::open);
  t.created_at = s.integer(4);
  if (!s.is_null(5)) t.resolved_at = s.integer(5);
  t.bundle_count = s.size(6);
  if (!s.is_null(7)) t.resolution = s.text(7);
  if (!s.is_null(8)) t.connector = s.text(8);
  return t;
}

comment_info read_comment(const sqlite::statement& s) {
  return {s.text(0), s.text(1), s.text(2), s.text(3), s.integer(4), s.text(5)};
}

}  // namespace

result<ticket> sqlite_store::find_ticket(const std::string& ref) {
  auto stmt = db_.prepare(std::string(ticket_columns) + "WHERE ref = ?");
  if (!stmt) return stmt.error();
  auto row = stmt->bind(ref).step();
  if (!row) return row.error();
  if (!*row) return store_errc::not_found;
  return read_ticket(*stmt);
}

result<ticket> sqlite_store::create_ticket(const actor& by, const ticket& t) {
  std::lock_guard lock(mutex_);
  auto tx = sqlite::transaction::begin(db_);
  if (!tx) return tx.error();
  if (auto existing = find_ticket(t.ref); existing) return store_errc::already_exists;
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
  if (auto r = tx->commit(); !r) return r.error();
  return created;
}

result<ticket> sqlite_store::get_ticket(const std::string& ref) {
  std::lock_guard lock(mutex_);
  return find_ticket(ref);
}

result<std::vector<ticket>> sqlite_store::list_tickets(const ticket_filter& filter) {
  std::lock_guard lock(mutex_);
  auto stmt = db_.prepare(std::string(ticket_columns) +
                          "WHERE (?1 = '' OR status = ?1) AND (?2 = '' OR severity = ?2) "
                          "ORDER BY created_at DESC, rowid DESC LIMIT ?3");
  if (!stmt) return stmt.error();
  stmt->bind(filter.status ? to_string(*filter.status) : std::string_view())
      .bind(filter.level ? to_string(*filter.level) : std::string_view())
      .bind(static_cast<std::int64_t>(filter.limit));
  std::vector<ticket> out;
  for (;;) {
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) return out;
    out.push_back(read_ticket(*stmt));
  }
}

result<purge_report> sqlite_store::resolve_ticket(const actor& by, const std::string& ref,
                                                  const std::optional<std::string>& resolution) {
  std::lock_guard lock(mutex_);
  auto tx = sqlite::transaction::begin(db_);
  if (!tx) return tx.error();
  auto t = find_ticket(ref);
  if (!t) return t.error();
  if (t->status == ticket_status::resolved) return store_errc::ticket_resolved;

  std::vector<doomed_bundle> bundles;
  auto listed = select_bundles("WHERE ticket_ref = ? ORDER BY created_at",
                               [&](sqlite::statement& s) { s.bind(ref); });
  if (!listed) return listed.error();
  for (auto& b : *listed) bundles.push_back({ref, {b.id, b.size, b.sha256}});
  std::vector<doomed_upload> uploads;
  {
    auto stmt = db_.prepare(
        "SELECT id FROM uploads WHERE ticket_ref = ? AND state = 'receiving' ORDER BY created_at");
    if (!stmt) return stmt.error();
    stmt->bind(ref);
    if (auto r = stmt->each([&] {
          uploads.push_back({ref, {stmt->text(0), blobs_.upload_size(stmt->text(0))}});
        });
        !r)
      return r.error();
  }
  auto update = db_.prepare(
      "UPDATE tickets SET status = 'resolved', resolved_at = ?, resolution = ? WHERE ref = ?");
  if (!update) return update.error();
  update->bind(now_utc());
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
  // A resolution with nothing to destroy still says so in the trail.
  auto report = destroy(bundles, uploads, "purge.resolved", by.label(), ref);
  if (!report) return report.error();
  if (auto r = tx->commit(); !r) return r.error();
  remove_files(*report);
  return report;
}

result<ticket> sqlite_store::reopen_ticket(const actor& by, const std::string& ref) {
  std::lock_guard lock(mutex_);
  auto tx = sqlite::transaction::begin(db_);
  if (!tx) return tx.error();
  auto t = find_ticket(ref);
  if (!t) return t.error();
  if (t->status == ticket_status::open) return store_errc::ticket_open;
  auto update = db_.prepare("UPDATE tickets SET status = 'open', resolved_at = NULL WHERE ref = ?");
  if (!update) return update.error();
  if (auto r = update->bind(ref).run(); !r) return r.error();
  if (auto r = append_audit(by.label(), "ticket.reopened", ref, "{}"); !r) return r.error();
  if (auto r = tx->commit(); !r) return r.error();
  t->status = ticket_status::open;
  t->resolved_at.reset();
  return t;
}

result<comment_info> sqlite_store::add_comment(const actor& by, const std::string& ticket_ref,
                                               const std::string& text) {
  std::lock_guard lock(mutex_);
  auto tx = sqlite::transaction::begin(db_);
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
  if (auto r = tx->commit(); !r) return r.error();
  return c;
}

result<std::vector<comment_info>> sqlite_store::list_comments(const std::string& ticket_ref,
                                                              std::size_t limit) {
  std::lock_guard lock(mutex_);
  auto stmt = db_.prepare(
      "SELECT id, ticket_ref, author_name, author_kind, created_at, text FROM comments "
      "WHERE ticket_ref = ? ORDER BY created_at, rowid LIMIT ?");
  if (!stmt) return stmt.error();
  stmt->bind(ticket_ref).bind(static_cast<std::int64_t>(limit));
  std::vector<comment_info> out;
  if (auto r = stmt->each([&] { out.push_back(read_comment(*stmt)); }); !r) return r.error();
  return out;
}

result<purge_report> sqlite_store::purge_expired(unix_time bundles_before, unix_time now) {
  std::lock_guard lock(mutex_);
  auto tx = sqlite::transaction::begin(db_);
  if (!tx) return tx.error();
  std::vector<doomed_bundle> bundles;
  auto old = select_bundles("WHERE created_at < ? ORDER BY created_at",
                            [&](sqlite::statement& s) { s.bind(bundles_before); });
  if (!old) return old.error();
  for (auto& b : *old) bundles.push_back({b.ticket_ref, {b.id, b.size, b.sha256}});
  std::vector<doomed_upload> uploads;
  {
    auto stmt = db_.prepare(
        "SELECT id, ticket_ref FROM uploads WHERE state = 'receiving' AND expires_at <= ?");
    if (!stmt) return stmt.error();
    stmt->bind(now);
    if (auto r = stmt->each([&] {
          uploads.push_back({stmt->text(1), {stmt->text(0), blobs_.upload_size(stmt->text(0))}});
        });
        !r)
      return r.error();
  }
  auto drop = db_.prepare("DELETE FROM uploads WHERE state = 'refused' AND expires_at <= ?");
  if (!drop) return drop.error();
  if (auto r = drop->bind(now).run(); !r) return r.error();
  const auto system = actor::system().label();
  auto purged = destroy(bundles, {}, "purge.retention", system);
  if (!purged) return purged.error();
  auto expired = destroy({}, uploads, "purge.expired_upload", system);
  if (!expired) return expired.error();
  if (auto r = tx->commit(); !r) return r.error();
  purged->uploads = std::move(expired->uploads);
  remove_files(*purged);
  return purged;
}

}  // namespace valise::server
