// Deliveries from helpdesk connectors: replays refused by delivery id, the
// ticket created, updated, reopened, or its resolution scheduled after a
// grace period (performed by resolve_ticket when due).
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "store/sql_store.hpp"

namespace valise::server {

namespace json = boost::json;

result<helpdesk_outcome> sql_store::apply_helpdesk_delivery(const helpdesk_delivery& d,
                                                            unix_time now) {
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
  if (!tx) return tx.error();
  // Bounded: a connector's ids are kept only as long as a replay of them
  // could pass its other checks.
  auto prune =
      db_.prepare("DELETE FROM helpdesk_deliveries WHERE connector = ? AND received_at < ?");
  if (!prune) return prune.error();
  if (auto r = prune->bind(d.connector).bind(d.forget_before).run(); !r) return r.error();
  // Both the delivery's id and its signed content: either seen is a replay.
  for (const auto* id : {&d.delivery_id, &d.content_id}) {
    if (id->empty() || (id == &d.content_id && d.content_id == d.delivery_id)) continue;
    auto claim = db_.prepare(
        "INSERT INTO helpdesk_deliveries (connector, delivery_id, received_at) "
        "VALUES (?, ?, ?) ON CONFLICT DO NOTHING");
    if (!claim) return claim.error();
    if (auto r = claim->bind(d.connector).bind(*id).bind(now).run(); !r) return r.error();
    if (db_.changes() == 0) return store_errc::already_exists;
  }

  const auto by = actor::helpdesk(d.connector).label();
  json::object detail{{"connector", d.connector},
                      {"delivery", d.delivery_id},
                      {"event", d.event},
                      {"status", d.status}};
  auto record = [&](const std::string& action, const std::string& ref) {
    return append_audit(by, action, ref, json::serialize(detail));
  };
  auto finish = [&](const std::string& action, const std::string& ref,
                    helpdesk_outcome out) -> result<helpdesk_outcome> {
    if (auto r = record(action, ref); !r) return r.error();
    if (auto r = tx->commit(); !r) return r.error();
    return out;
  };
  const bool resolving = d.event == "solved" || d.event == "closed";

  auto t = find_ticket(d.ticket_ref);
  if (!t && t.error() != store_errc::not_found) return t.error();
  if (!t) {
    // Solved before valise heard of it: nothing to follow, nothing to purge.
    if (resolving) {
      detail["ticket"] = d.ticket_ref;
      return finish("helpdesk.received", "", {helpdesk_effect::unchanged, {}});
    }
    auto insert = db_.prepare(
        "INSERT INTO tickets (ref, title, severity, status, created_at, connector) "
        "VALUES (?, ?, ?, 'open', ?, ?)");
    if (!insert) return insert.error();
    if (auto r = insert->bind(d.ticket_ref)
                     .bind(d.title)
                     .bind(to_string(d.level))
                     .bind(now)
                     .bind(d.connector)
                     .run();
        !r)
      return r.error();
    if (auto r = update_deadlines(d.ticket_ref); !r) return r.error();
    detail["title"] = d.title;
    detail["severity"] = to_string(d.level);
    return finish("ticket.created", d.ticket_ref, {helpdesk_effect::created, {}});
  }
  // Another connector's ticket, or one made in valise, is not this one's to
  // change: helpdesk ids are small numbers, and a "solved" for the
  // helpdesk's ticket 42 must never purge a client's ticket 42 made by hand.
  if (t->connector != d.connector) return store_errc::bad_state;

  std::optional<unix_time> resolve_at;
  {
    auto scheduled =
        db_.prepare("SELECT resolve_at FROM helpdesk_resolutions WHERE ticket_ref = ?");
    if (!scheduled) return scheduled.error();
    auto row = scheduled->bind(d.ticket_ref).step();
    if (!row) return row.error();
    if (*row) resolve_at = scheduled->integer(0);
  }

  if (resolving) {
    if (t->status == ticket_status::resolved || resolve_at)
      return finish("helpdesk.received", d.ticket_ref, {helpdesk_effect::unchanged, resolve_at});
    const unix_time at = now + d.grace_seconds;
    auto schedule = db_.prepare(
        "INSERT INTO helpdesk_resolutions (ticket_ref, connector, event, resolve_at) "
        "VALUES (?, ?, ?, ?)");
    if (!schedule) return schedule.error();
    if (auto r = schedule->bind(d.ticket_ref).bind(d.connector).bind(d.event).bind(at).run(); !r)
      return r.error();
    detail["resolve_at"] = at;
    return finish("helpdesk.resolution_scheduled", d.ticket_ref,
                  {helpdesk_effect::resolution_scheduled, at});
  }
  if (d.event == "reopened" && resolve_at) {
    auto cancel = db_.prepare("DELETE FROM helpdesk_resolutions WHERE ticket_ref = ?");
    if (!cancel) return cancel.error();
    if (auto r = cancel->bind(d.ticket_ref).run(); !r) return r.error();
    return finish("helpdesk.resolution_cancelled", d.ticket_ref,
                  {helpdesk_effect::resolution_cancelled, {}});
  }
  if (d.event == "reopened" && t->status == ticket_status::resolved) {
    auto reopen =
        db_.prepare("UPDATE tickets SET status = 'open', resolved_at = NULL WHERE ref = ?");
    if (!reopen) return reopen.error();
    if (auto r = reopen->bind(d.ticket_ref).run(); !r) return r.error();
    return finish("ticket.reopened", d.ticket_ref, {helpdesk_effect::reopened, {}});
  }
  // An update: the title or the severity; nothing else changes.
  const bool changed = t->title != d.title || t->level != d.level;
  if (!changed) return finish("helpdesk.received", d.ticket_ref, {helpdesk_effect::unchanged, {}});
  auto update =
      db_.prepare("UPDATE tickets SET title = ?, severity = ?, connector = ? WHERE ref = ?");
  if (!update) return update.error();
  if (auto r =
          update->bind(d.title).bind(to_string(d.level)).bind(d.connector).bind(d.ticket_ref).run();
      !r)
    return r.error();
  if (t->level != d.level)
    if (auto r = update_deadlines(d.ticket_ref); !r) return r.error();
  if (t->title != d.title) detail["title"] = d.title;
  if (t->level != d.level) detail["severity"] = to_string(d.level);
  return finish("ticket.updated", d.ticket_ref, {helpdesk_effect::updated, {}});
}

result<std::vector<due_resolution>> sql_store::due_helpdesk_resolutions(unix_time now) {
  std::lock_guard lock(mutex_);
  // A read only: the loop asks every second. resolve_ticket removes the
  // schedule of a ticket resolved by hand, so none of a resolved one is left.
  auto stmt = db_.prepare(
      "SELECT r.ticket_ref, r.connector, r.event FROM helpdesk_resolutions r "
      "JOIN tickets t ON t.ref = r.ticket_ref "
      "WHERE t.status = 'open' AND r.resolve_at <= ? ORDER BY r.resolve_at");
  if (!stmt) return stmt.error();
  stmt->bind(now);
  std::vector<due_resolution> out;
  if (auto r = stmt->each([&] {
        out.push_back({stmt->text(0), stmt->text(1), stmt->text(2)});
      });
      !r)
    return r.error();
  return out;
}

result<purge_report> sql_store::resolve_scheduled(const std::string& ref, unix_time now) {
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
  if (!tx) return tx.error();
  auto stmt = db_.prepare(
      "SELECT connector, event FROM helpdesk_resolutions WHERE ticket_ref = ? AND resolve_at <= ?");
  if (!stmt) return stmt.error();
  auto row = stmt->bind(ref).bind(now).step();
  if (!row) return row.error();
  if (!*row) return store_errc::not_found;  // reopened (cancelled) or resolved meanwhile
  const std::string connector = stmt->text(0);
  const std::string event = stmt->text(1);
  auto report = resolve_locked(actor::helpdesk(connector), ref, event + " in " + connector);
  if (!report) return report.error();
  if (auto r = commit(*tx, blob_changes::dropping(*report)); !r) return r.error();
  return report;
}

}  // namespace valise::server
